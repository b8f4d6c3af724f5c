"""Reading the settings from the environment and an optional TOML file.

The environment wins over the file. A wrong value stops start-up with one line that says what to set.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conversations.settings import Settings
from storage.errors import Explained
from storage.private_files import create_private

SETTING_FIELDS = {f.name: f for f in fields(Settings)}


class ConfigError(Explained):
    """A setting is missing or wrong; the message says which and what to do."""


ENVIRONMENT, DEFAULT = "environment", "default"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
CLI_LANGUAGES = ("de", "en")


def _convert(env: str, kind: Any, raw: Any) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if kind == "int":
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError("{env} must be a whole number (got {value!r})", env=env, value=raw) from None
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        value = str(raw).strip().lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off"):
            return False
        raise ConfigError("{env} must be true or false (got {value!r})", env=env, value=raw)
    return str(raw)


@dataclass(frozen=True)
class Sources:
    """Where settings may come from: the environment and the settings file (``path``, "" for none)."""

    env: dict[str, str]
    path: str
    from_file: dict[str, Any]

    def raw(self, name: str) -> tuple[Any, str] | None:
        """A setting's value as written and where it was found: the environment wins over the file."""
        var = SETTING_FIELDS[name].metadata["env"]
        if self.env.get(var, "") != "":
            return self.env[var], ENVIRONMENT
        if name in self.from_file:
            return self.from_file[name], self.path
        return None


def sources(environ: dict[str, str] | None = None) -> Sources:
    env = dict(os.environ if environ is None else environ)
    path = env.get("WEGBEGLEITER_CONFIG") or ("wegbegleiter.toml" if Path("wegbegleiter.toml").exists() else "")
    from_file: dict[str, Any] = {}
    if path:
        try:
            from_file = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError("WEGBEGLEITER_CONFIG points to {path}, which does not exist", path=path) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("{path} is not valid TOML: {problem}", path=path, problem=str(exc)) from None
    unknown = set(from_file) - set(SETTING_FIELDS)
    if unknown:
        raise ConfigError("{path}: unknown setting(s) {names}; see README, Configuration", path=path,
                          names=", ".join(sorted(unknown)))
    return Sources(env, path, from_file)


def peek(name: str, environ: dict[str, str] | None = None) -> Any | None:
    """One setting as written, without checking the others (the CLI's language before anything can fail)."""
    found = sources(environ).raw(name)
    return found[0] if found else None


def load_with_origins(environ: dict[str, str] | None = None) -> tuple[Settings, dict[str, str]]:
    """The settings in effect, and for each where it came from: "environment", the file's path, or "default"."""
    src = sources(environ)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name, f in SETTING_FIELDS.items():
        found = src.raw(name)
        if found is None:
            origins[name] = DEFAULT
            continue
        values[name] = _convert(f.metadata["env"], f.type, found[0])
        origins[name] = found[1]
    if src.path and "config_file" not in values:
        values["config_file"] = src.path  # found in the working folder
    settings = Settings(**values)
    validate(settings)
    return settings, origins


def load(environ: dict[str, str] | None = None) -> Settings:
    return load_with_origins(environ)[0]


def hide_password(url: str) -> str:
    # SQLAlchemy here, not at the top: `wegbegleiter --help` reads the settings (the CLI's language) without it
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def shown_value(settings: Settings, name: str) -> Any:
    """A setting as `wegbegleiter config` shows it: secrets masked, a database password hidden."""
    value = getattr(settings, name)
    if SETTING_FIELDS[name].metadata["secret"]:
        return "********" if value else ""
    return hide_password(value) if name == "database_url" and value else value


def _check_database_url(url: str) -> None:
    if not url:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("DATABASE_URL must be a database URL like postgresql://user@host/db (got {value!r})",
                          value=url) from None
    backend = parsed.get_backend_name()
    if backend not in ("postgresql", "sqlite"):
        raise ConfigError("DATABASE_URL must name PostgreSQL or SQLite (got {value!r})", value=hide_password(url))
    if backend == "postgresql" and parsed.drivername in ("postgresql", "postgresql+psycopg"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ConfigError("DATABASE_URL names PostgreSQL, but its driver is not installed: "
                              "pip install -e '.[postgres]'") from None


def _check_listen(env: str, value: str) -> None:
    host, sep, port = value.rpartition(":")
    if not (sep and host and port.isdigit() and 0 < int(port) < 65536):
        raise ConfigError("{env} must be host:port, e.g. 127.0.0.1:8080 (got {value!r})", env=env, value=value)


def _check_url(env: str, value: str, schemes: tuple[str, ...] = ("http", "https")) -> None:
    if not value:
        return
    parts = urlsplit(value)
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:  # a port that is no number, or out of range
        port_ok = False
    if parts.scheme not in schemes or not parts.hostname or not port_ok:
        if schemes == ("https",):
            raise ConfigError("{env} must be a URL starting with https:// (got {value!r})", env=env, value=value)
        raise ConfigError("{env} must be a URL starting with http:// or https:// (got {value!r})", env=env,
                          value=value)


def validate(settings: Settings) -> None:
    from conversations.i18n import available_languages
    from conversations.rules.quiet_hours import QuietHours

    if settings.log_level.upper() not in LOG_LEVELS:
        raise ConfigError("LOG_LEVEL must be one of {levels} (got {value!r})", levels=", ".join(LOG_LEVELS),
                          value=settings.log_level)
    if settings.log_format not in LOG_FORMATS:
        raise ConfigError("LOG_FORMAT must be one of {formats} (got {value!r})", formats=", ".join(LOG_FORMATS),
                          value=settings.log_format)
    if settings.cli_language not in CLI_LANGUAGES:
        raise ConfigError("WEGBEGLEITER_CLI_LANGUAGE must be one of {languages} (got {value!r})",
                          languages=", ".join(CLI_LANGUAGES), value=settings.cli_language)
    _check_database_url(settings.database_url)
    try:
        QuietHours.parse(settings.quiet_hours)
    except ValueError:
        raise ConfigError("QUIET_HOURS must look like 20:00-08:00 (got {value!r})", value=settings.quiet_hours) from None
    if settings.default_language not in available_languages():
        raise ConfigError("WEGBEGLEITER_LANGUAGE must be one of {languages} (got {value!r})",
                          languages=", ".join(available_languages()), value=settings.default_language)
    if settings.secret_key and len(settings.secret_key) < 32:
        raise ConfigError("WEGBEGLEITER_SECRET_KEY must have at least 32 characters")
    if "@" not in settings.smtp_from.strip("@"):
        raise ConfigError("SMTP_FROM must be an email address like wegbegleiter@example.org (got {value!r})",
                          value=settings.smtp_from)
    if not settings.ombudsstelle.strip():
        raise ConfigError("OMBUDSSTELLE must name the independent help (§ 9a SGB VIII) and how to reach it")
    if not 0 < settings.smtp_port < 65536:
        raise ConfigError("SMTP_PORT must be a port between 1 and 65535 (got {value})", value=settings.smtp_port)
    _check_listen("HTTP_LISTEN", settings.http_listen)
    _check_listen("TELEGRAM_WEBHOOK_LISTEN", settings.telegram_webhook_listen)
    _check_url("PUBLIC_BASE_URL", settings.public_base_url)
    _check_url("TELEGRAM_API_BASE_URL", settings.telegram_api_base_url)
    # Telegram sends webhooks only to HTTPS; a self-hosted Bot API server (or a test stand-in) may differ.
    _check_url("TELEGRAM_WEBHOOK_URL", settings.telegram_webhook_url,
               ("http", "https") if settings.telegram_api_base_url else ("https",))
    _check_url("MATRIX_HOMESERVER", settings.matrix_homeserver)
    check_retention(settings)
    for f in fields(Settings):  # counts of days, minutes, years, attempts: at least 1 (the port: above)
        value = getattr(settings, f.name)
        if f.type in (int, "int") and f.name not in ("smtp_port",) and value < 1:
            raise ConfigError("{env} must be at least 1 (got {value})", env=f.metadata["env"], value=value)
    if bool(settings.matrix_homeserver) != bool(settings.matrix_user_id):
        raise ConfigError("set both MATRIX_HOMESERVER and MATRIX_USER_ID to serve Matrix")
    if settings.matrix_homeserver and not (settings.matrix_password or settings.matrix_access_token):
        raise ConfigError("set MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN for the Matrix account")


def check_retention(settings: Settings) -> None:
    from conversations.privacy.retention import SETTING_OF_KIND, RetentionError, check_years

    for name in SETTING_OF_KIND.values():
        env = next(f.metadata["env"] for f in fields(Settings) if f.name == name)
        try:
            check_years(env, getattr(settings, name))
        except RetentionError as exc:
            raise ConfigError(exc.template, **exc.params) from None
    for env, value in (("OUTBOX_FILE_DAYS", settings.outbox_file_days), ("LINK_TTL_DAYS", settings.link_ttl_days)):
        if value < 1:
            raise ConfigError("{env} must be at least 1 (got {value})", env=env, value=value)
    if settings.outbox_text_days < max(settings.outbox_file_days, settings.link_ttl_days):
        raise ConfigError("OUTBOX_TEXT_DAYS must be at least OUTBOX_FILE_DAYS and LINK_TTL_DAYS (a link's page shows "
                          "its email's text)")


def key_file(settings: Settings) -> Path:
    """Where a generated key lives when WEGBEGLEITER_SECRET_KEY is not set."""
    return Path(settings.data_dir) / "secret.key"


def secret_key(settings: Settings, *, create: bool = False) -> str:
    """The configured key, or the one generated into the data folder (a demo needs no set-up).

    Only ``init`` and ``demo`` generate it (``create``): a command that only reads must not leave a key
    (and then a database encrypted with it) behind in a folder where there was none.
    """
    if settings.secret_key:
        return settings.secret_key
    path = key_file(settings)
    if create:
        create_private(path, secrets.token_urlsafe(48).encode())
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        raise ConfigError("no key yet: run `wegbegleiter init` (or set WEGBEGLEITER_SECRET_KEY)") from None
    if len(key) < 32:
        raise ConfigError("{path} does not hold a key of 32+ characters; set WEGBEGLEITER_SECRET_KEY", path=path)
    return key
