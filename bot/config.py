"""Reading the settings from the environment and an optional TOML file.

The environment wins over the file. A wrong value stops start-up with one line that says what to set.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from conversations.settings import Settings
from storage.private_files import create_private


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and what to do."""


def _convert(name: str, env: str, kind: Any, raw: Any) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if kind == "int":
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{env} must be a whole number (got {raw!r})") from None
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        value = str(raw).strip().lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{env} must be true or false (got {raw!r})")
    return str(raw)


def load(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    path = env.get("WEGBEGLEITER_CONFIG") or ("wegbegleiter.toml" if Path("wegbegleiter.toml").exists() else "")
    from_file: dict[str, Any] = {}
    if path:
        try:
            from_file = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"WEGBEGLEITER_CONFIG points to {path}, which does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    known = {f.name for f in fields(Settings)}
    unknown = set(from_file) - known
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; see README, Configuration")
    values: dict[str, Any] = {}
    for f in fields(Settings):
        var = f.metadata["env"]
        if var in env and env[var] != "":
            values[f.name] = _convert(f.name, var, f.type, env[var])
        elif f.name in from_file:
            values[f.name] = _convert(f.name, var, f.type, from_file[f.name])
    settings = Settings(**values)
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    from conversations.i18n import available_languages
    from conversations.rules.quiet_hours import QuietHours

    try:
        QuietHours.parse(settings.quiet_hours)
    except ValueError:
        raise ConfigError(f"QUIET_HOURS must look like 20:00-08:00 (got {settings.quiet_hours!r})") from None
    if settings.default_language not in available_languages():
        raise ConfigError(f"WEGBEGLEITER_LANGUAGE must be one of {', '.join(available_languages())}")
    if settings.secret_key and len(settings.secret_key) < 32:
        raise ConfigError("WEGBEGLEITER_SECRET_KEY must have at least 32 characters")
    if settings.invite_ttl_days < 1:
        raise ConfigError("INVITE_TTL_DAYS must be at least 1")
    check_retention(settings)
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
            raise ConfigError(str(exc)) from None
    for env, value in (("OUTBOX_FILE_DAYS", settings.outbox_file_days), ("LINK_TTL_DAYS", settings.link_ttl_days)):
        if value < 1:
            raise ConfigError(f"{env} must be at least 1")
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
        raise ConfigError(f"{path} does not hold a key of 32+ characters; set WEGBEGLEITER_SECRET_KEY")
    return key
