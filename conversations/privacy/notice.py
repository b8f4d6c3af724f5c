"""The periods the privacy notices state, formatted from the retention settings in effect (never typed in)."""

from __future__ import annotations

from conversations.i18n import Translator
from conversations.privacy.retention import Kind, Policy
from conversations.settings import Settings


def years(tr: Translator, n: int) -> str:
    return tr.ngettext("{n} year", "{n} years", n).format(n=n)


def family_periods(tr: Translator, rules: Policy, settings: Settings) -> list[str]:
    _ = tr.gettext
    y = rules.years
    return [
        _("How long: everything about your help is deleted {case} after the help ends. Complaints are deleted "
          "{complaints} after they are closed. Notes about a child's safety are kept {alerts} after the help "
          "ends, as child protection requires.").format(
            case=years(tr, y[Kind.CASE_DATA]), complaints=years(tr, y[Kind.COMPLAINTS]),
            alerts=years(tr, y[Kind.CHILD_PROTECTION])),
        tr.ngettext("Files I send you are deleted here {n} day after they reached you.",
                    "Files I send you are deleted here {n} days after they reached you.",
                    settings.outbox_file_days).format(n=settings.outbox_file_days),
    ]


def staff_periods(tr: Translator, rules: Policy) -> str:
    y = rules.years
    return tr.gettext("How long: what you record about a case is deleted {case} after the help ends; the log "
                      "of who read and changed what, {audit} after.").format(
        case=years(tr, y[Kind.CASE_DATA]), audit=years(tr, y[Kind.AUDIT_LOG]))
