"""Settings: one documented list, defaults that run.

This module only describes the settings; :mod:`bot.config` reads them from the environment and an
optional TOML file. Each field's metadata names its environment variable and says what it is for;
the README's table is generated from it (``wegbegleiter config --markdown``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def setting(default: Any, env: str, doc: str, *, secret: bool = False) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc, "secret": secret})


@dataclass(frozen=True)
class Settings:
    # Storage and secrets
    data_dir: str = setting(".wegbegleiter", "WEGBEGLEITER_DATA_DIR",
                            "Folder for the SQLite database, the generated key and the Matrix crypto store.")
    database_url: str = setting("", "DATABASE_URL",
                                "SQLAlchemy URL, e.g. `postgresql://user@host/db`. Empty: SQLite in the data folder.")
    secret_key: str = setting("", "WEGBEGLEITER_SECRET_KEY",
                              "Key for encryption at rest and signed links (32+ characters). Empty: generated "
                              "once into the data folder (fine for a demo; set it in production).", secret=True)
    config_file: str = setting("", "WEGBEGLEITER_CONFIG",
                               "Optional TOML file with these settings (lower-case names). Default: `wegbegleiter.toml` if present.")
    log_level: str = setting("INFO", "LOG_LEVEL", "Logging level: DEBUG, INFO, WARNING, ERROR.")
    log_format: str = setting("text", "LOG_FORMAT",
                              "`text` (one readable line per event) or `json` (one JSON object per line, for log "
                              "collectors).")
    cli_language: str = setting("de", "WEGBEGLEITER_CLI_LANGUAGE",
                                "Language of the command line (output, errors, help): `de` or `en`.")
    # People and conversation
    default_language: str = setting("de", "WEGBEGLEITER_LANGUAGE", "Language before a person has chosen one.")
    youth_age_limit: int = setting(18, "WEGBEGLEITER_YOUTH_AGE_LIMIT",
                                   "Family members younger than this are spoken to with du (sen, ти, ты, the Arabic "
                                   "singular). An organisation may set its own in its settings under youth.age_limit.")
    invite_ttl_days: int = setting(14, "INVITE_TTL_DAYS", "Days an invite code stays valid.")
    invite_max_failures: int = setting(5, "INVITE_MAX_FAILURES",
                                       "Wrong codes a chat may send within 15 minutes before it has to wait.")
    invite_max_failures_total: int = setting(
        100, "INVITE_MAX_FAILURES_TOTAL",
        "Wrong codes all chats together may send within 15 minutes before every new chat has to wait "
        "(guessing from many accounts at once).")
    quiet_hours: str = setting("20:00-08:00", "QUIET_HOURS",
                               "No routine messages in this window (Europe/Berlin); urgent alerts still go out.")
    public_base_url: str = setting("http://127.0.0.1:8080", "PUBLIC_BASE_URL",
                                   "Address of the bot's small web endpoint, used in signed links in emails.")
    http_listen: str = setting("127.0.0.1:8080", "HTTP_LISTEN",
                               "Where the web endpoint (staff console, signed links from emails) listens.")
    metrics_token: str = setting("", "METRICS_TOKEN",
                                 "If set, `/metrics` on HTTP_LISTEN wants `Authorization: Bearer <token>`. Empty: "
                                 "open (keep `/metrics` off the public side of the reverse proxy).", secret=True)
    console_idle_minutes: int = setting(30, "CONSOLE_IDLE_MINUTES",
                                        "Minutes without a click after which a console session ends.")
    # Telegram
    telegram_bot_token: str = setting("", "TELEGRAM_BOT_TOKEN",
                                      "Bot token from @BotFather. Set it to serve Telegram.", secret=True)
    telegram_bot_username: str = setting("WegbegleiterBot", "TELEGRAM_BOT_USERNAME",
                                         "The bot's @name, for deep links and QR codes on invite letters.")
    telegram_api_base_url: str = setting("", "TELEGRAM_API_BASE_URL",
                                         "Another Bot API server, e.g. `http://127.0.0.1:8081/bot` (self-hosted or a test stand-in).")
    telegram_webhook_url: str = setting("", "TELEGRAM_WEBHOOK_URL",
                                        "Public HTTPS URL for webhook mode. Empty: long polling.")
    telegram_webhook_listen: str = setting("0.0.0.0:8443", "TELEGRAM_WEBHOOK_LISTEN",
                                           "Address and port the webhook server listens on.")
    # Matrix
    matrix_homeserver: str = setting("", "MATRIX_HOMESERVER", "Homeserver URL, e.g. `https://matrix.example.org`.")
    matrix_user_id: str = setting("", "MATRIX_USER_ID", "The bot's Matrix id, e.g. `@wegbegleiter:example.org`.")
    matrix_password: str = setting("", "MATRIX_PASSWORD", "Password of the bot account (or use an access token).",
                                   secret=True)
    matrix_access_token: str = setting("", "MATRIX_ACCESS_TOKEN", "Access token of the bot account.", secret=True)
    matrix_device_id: str = setting("", "MATRIX_DEVICE_ID", "Device id to reuse with an access token.")
    # Email
    smtp_host: str = setting("", "SMTP_HOST", "Mail server for staff without a messenger. Empty: no email.")
    smtp_port: int = setting(587, "SMTP_PORT", "Mail server port.")
    smtp_user: str = setting("", "SMTP_USER", "Mail server login.")
    smtp_password: str = setting("", "SMTP_PASSWORD", "Mail server password.", secret=True)
    smtp_from: str = setting("wegbegleiter@localhost", "SMTP_FROM", "Sender address of emails.")
    smtp_starttls: bool = setting(True, "SMTP_STARTTLS", "Use STARTTLS (true/false).")
    # Meilensteingespräch (issue 8)
    milestone_invite_days: int = setting(10, "MILESTONE_INVITE_DAYS",
                                         "Days before a Meilensteingespräch the family and Fachkräfte are asked for their view.")
    milestone_youth_age: int = setting(14, "MILESTONE_YOUTH_AGE",
                                       "Young people from this age get their own (simpler) questionnaire.")
    milestone_reminder_days: int = setting(3, "MILESTONE_REMINDER_DAYS",
                                           "Days after the invitation an unfinished questionnaire gets its one reminder.")

    # Complaints (issue 9); an organisation may override them in its settings under "complaints"
    complaint_take_up_working_days: int = setting(2, "COMPLAINT_TAKE_UP_WORKING_DAYS",
                                                  "Working days (Mon–Fri) within which a complaint is taken up.")
    complaint_answer_days: int = setting(14, "COMPLAINT_ANSWER_DAYS", "Days within which a complaint is answered.")
    ombudsstelle: str = setting(
        "Ombudsstelle Kinder- und Jugendhilfe Sachsen-Anhalt, www.ombudschaft-jugendhilfe.de", "OMBUDSSTELLE",
        "Independent help (§ 9a SGB VIII) named to everyone who complains: name and contact.")
    ombudsstelle_phone: str = setting(
        "0000 000000 (Platzhalter)", "OMBUDSSTELLE_PHONE",
        "The Ombudsstelle's phone number, named with it. The default is a placeholder: set the real number "
        "(or per organisation under complaints.ombudsstelle_phone); the log warns once while it is the placeholder.")
    jugendamt_complaints: str = setting(
        "", "JUGENDAMT_COMPLAINTS",
        "How a family reaches the Jugendamt's own complaint office (name, phone, address), told to everyone "
        "who complains about the Jugendamt. Empty: they are told to ask the Jugendamt for it.")
    jugendamt_complaints_email: str = setting(
        "", "JUGENDAMT_COMPLAINTS_EMAIL",
        "Email address of the Jugendamt's complaint office: where an officer forwards a complaint about the "
        "Jugendamt (with the family's consent). Empty: nothing can be passed on (the officer is told so).")

    # Data protection (issue 15): how long data is kept (reasons in the README, "Data protection"); an
    # organisation may set its own years under "retention" (`wegbegleiter privacy retention --set`)
    retention_case_years: int = setting(
        5, "RETENTION_CASE_YEARS",
        "Years after a case closes until its case data is deleted (the family's chats, appointments, answers, "
        "goals, budget, Nachweis; birth dates and email addresses).")
    retention_escalation_years: int = setting(
        5, "RETENTION_ESCALATION_YEARS",
        "Years after a case closes until its escalations (three appointments without participation) are deleted.")
    retention_alert_years: int = setting(
        10, "RETENTION_ALERT_YEARS",
        "Years after a case closes until its child-protection alerts (§ 8a documentation) are deleted.")
    retention_complaint_years: int = setting(
        10, "RETENTION_COMPLAINT_YEARS", "Years after a complaint is closed until it is deleted.")
    retention_audit_years: int = setting(
        5, "RETENTION_AUDIT_YEARS",
        "Years after a case closes until its audit log is deleted (log entries of no case: years after they "
        "were written).")
    outbox_file_days: int = setting(3, "OUTBOX_FILE_DAYS",
                                    "Days after delivery until a file sent to someone is deleted from the outbox.")
    outbox_text_days: int = setting(30, "OUTBOX_TEXT_DAYS",
                                    "Days after delivery until the text of a message is deleted from the outbox.")
    link_ttl_days: int = setting(14, "LINK_TTL_DAYS",
                                 "Days a signed link in an email (acknowledge, handle, approve) works; each works once.")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir}/wegbegleiter.db"


def describe() -> list[dict[str, Any]]:
    """Every setting with its variable, default and meaning (for docs and `wegbegleiter config`)."""
    return [
        {"name": f.name, "env": f.metadata["env"], "default": f.default, "doc": f.metadata["doc"],
         "secret": f.metadata["secret"], "type": f.type}
        for f in fields(Settings)
    ]
