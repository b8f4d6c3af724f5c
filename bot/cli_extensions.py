"""Where each job's CLI commands are defined, with their help: `wegbegleiter` imports a job's module only when
one of its commands is used (bot/cli_lazy.py). A new command module goes here; each ``help`` is the command's
docstring (or ``help=``) as written, and tests/bot/test_cli_lazy.py says when one differs or a command is missing.
"""

from __future__ import annotations

from bot.cli_lazy import Lazy

ACCESS = "bot.cli_access"  # people come and go: deactivate, unlink, handover, closing: issue 15
APPOINTMENTS = "bot.cli_appointments"  # appointments, budget, Nachweis: issue 5
BILLING = "bot.cli_billing"  # organisation details for billing, working days: issue 14
COMPLAINTS = "bot.cli_complaints"  # complaints: issue 9
CONSOLE = "bot.cli_console"  # the staff console (web): issue 17
ESCALATIONS = "bot.cli_escalations"  # escalations and alerts: issue 6
HILFEPLAN = "bot.cli_hilfeplan"  # the Hilfeplan calendar: issue 18
IMPORT = "bot.cli_import"  # member/staff import from CSV: issue 19
MILESTONE = "bot.cli_milestone"  # goals, milestone: issue 8
PRIVACY = "bot.cli_privacy"  # retention, purge, keys: issue 15
REPORT = "bot.cli_report"  # the Träger's figures: issue 18
TERMINAL = "bot.cli_terminal"  # demo and chat --as NAME: issue 19

# `wegbegleiter <name>`
COMMANDS = {
    "alerts": Lazy(ESCALATIONS, "Possible risks for a child: alerts stay open until a person marks them handled."),
    "appointments": Lazy(APPOINTMENTS, "Appointments (Hausbesuche, …): add, list, move, cancel, record what "
                                       "happened, import."),
    "budget": Lazy(APPOINTMENTS, "The monthly hour budget of a case (Hilfeplan)."),
    "chat": Lazy(TERMINAL, "Talk to Wegbegleiter in this terminal as a person of the database (choices are "
                           "numbered)."),
    "complaints": Lazy(COMPLAINTS, "Complaints (Beschwerdemanagement): list, show, export, yearly figures."),
    "demo": Lazy(TERMINAL, "Set up the demo (Brücke e.V., the Yılmaz family, staff) and chat in the terminal; "
                           "again: the same\npeople, new codes for those not linked yet."),
    "escalations": Lazy(ESCALATIONS, "Three appointments without participation: escalations and their history."),
    "goals": Lazy(MILESTONE, "Goals of a case's Hilfeplan (Richtungsziele, Handlungsziele, Handlungsschritte, "
                             "Vereinbarungen)."),
    "hilfeplan": Lazy(HILFEPLAN, "The Hilfeplan calendar: start of the help, Hilfeplangespräche, deadlines "
                                 "(seed 004)."),
    "keys": Lazy(PRIVACY, "The key everything is encrypted with."),
    "milestone": Lazy(MILESTONE, "Meilensteingespräche: the family's and the Fachkräfte's views, collected "
                                 "beforehand."),
    "nachweis": Lazy(APPOINTMENTS, "The monthly proof of a case (Nachweisblatt) as PDF and/or CSV; without a "
                                   "file, the CSV is printed."),
    "privacy": Lazy(PRIVACY, "Deletion on schedule: the retention periods, the purge, the counts that stay."),
    "report": Lazy(REPORT, "The Träger's figures for a year or quarter: cases, hours, cancellations, "
                           "escalations, alerts, complaints,\nMeilensteingespräche, reminders (only totals; 1 to "
                           '4 shown as "< 5").'),
    "web": Lazy(CONSOLE, "Serve the staff console (and the links in emails) on HTTP_LISTEN."),
}

# `wegbegleiter org|staff|case|member <name>`: commands other modules add to bot.cli's groups
BELOW = {
    "org": {
        "set": Lazy(BILLING, "Change an organisation's details (letterhead, holidays)."),
    },
    "staff": {
        "deactivate": Lazy(ACCESS, "Someone left the organisation: chats unlinked, open work handed on, no further "
                                   "messages."),
        "import": Lazy(IMPORT, "Add many staff members from a CSV file, each with an invite code. Columns (English "
                               "or German): name, roles (Rollen: fachkraft, fallfuehrend, gespraechsfuehrung, "
                               "beschwerde, leitung, admin; several separated by spaces), and optionally email, "
                               "phone (Telefon), language (Sprache). Someone with the same name or email is "
                               "skipped."),
        "invite": Lazy(ACCESS, "A new invite code for a staff member (e.g. a new phone)."),
        "unlink": Lazy(ACCESS, "Unlink a staff member's chat(s) now: one neutral line, then nothing more."),
    },
    "case": {
        "assign": Lazy(ACCESS, "Assign a staff member to a case: the family is told, the newcomer gets a handover "
                               "summary."),
        "close": Lazy(ACCESS, "The help ended: the family gets a goodbye with the Träger's contact, reminders "
                              "stop, chats are\nunlinked; open complaints are still answered."),
        "set": Lazy(BILLING, "Change what the Nachweisblatt says of a case (help type, Jugendamt, Aktenzeichen)."),
        "unassign": Lazy(ACCESS, "Take a staff member off a case (access ends now); the family is told who their "
                                 "contact is."),
    },
    "member": {
        "import": Lazy(IMPORT, "Add many family members from a CSV file, each with an invite code. Columns "
                               "(English or German): case (Fall), first_name (Vorname), and optionally last_name "
                               "(Nachname), kind (Art: parent, adult, child), born (geboren), language (Sprache), "
                               "email. A case that does not exist yet is created when the row gives case_title "
                               "(Familie), and optionally help_type (Hilfeart) and fachkraft (staff ids)."),
        "invite": Lazy(ACCESS, "A new invite code for a family member (a lost letter, a lost phone, a new chat)."),
        "unlink": Lazy(ACCESS, "Unlink a family member's chat(s) now: one neutral line, then nothing more."),
    },
}
