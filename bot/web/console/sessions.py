"""Browser sessions of the staff console: the cookie, the idle timeout, and the forms' CSRF tokens.

The cookie holds a random token; the database keeps its hash. A session is valid while it has not
ended, has seen a click within ``CONSOLE_IDLE_MINUTES``, is younger than ``MAX_AGE``, and its person may
still use the console — checked on every request, so deactivating someone ends their sessions at once.

CSRF: each form carries a token derived from the session's own key and the form's target path. A
token is worthless in another session (another key) and on another form (another path), so neither a
forged form from another site (which cannot read it) nor a token replayed from elsewhere passes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from conversations import authz
from conversations.authz import Principal
from conversations.context import audit
from storage.models import StaffMember
from storage.models.console import ConsoleSession

COOKIE = "wb_console"
PRE_COOKIE = "wb_pre"  # before sign-in: binds the sign-in forms' CSRF tokens to this browser
MAX_AGE = timedelta(hours=12)  # a working day, however busy


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, staff: StaffMember, now: datetime, user_agent: str | None) -> str:
    """A new session for ``staff``; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(token_hash=token_hash(token), staff_id=staff.id, csrf_key=secrets.token_hex(32),
                               created_at=now, last_seen_at=now, user_agent=(user_agent or "")[:200] or None))
    return token


def current(session: Session, token: str | None, now: datetime, idle: timedelta) -> ConsoleSession | None:
    """The live session behind the cookie, its last click set to now; None (and ended) if it lapsed."""
    if not token:
        return None
    found = session.scalar(select(ConsoleSession).where(ConsoleSession.token_hash == token_hash(token)))
    if found is None or found.ended_at is not None:
        return None
    lapsed = found.last_seen_at <= now - idle or found.created_at <= now - MAX_AGE
    if lapsed or not authz.may_use_console(Principal(staff=found.staff)):
        found.ended_at = now
        return None
    found.last_seen_at = now
    return found


def end(session: Session, console_session: ConsoleSession, now: datetime) -> None:
    console_session.ended_at = now
    audit(session, at=now, actor=f"staff:{console_session.staff_id}", action="console.signed_out",
          object_type="console_session", object_id=console_session.id)


def end_all(session: Session, staff_id: int, now: datetime) -> int:
    """Sign out everywhere: every open session of this person ends."""
    result = session.execute(update(ConsoleSession).where(
        ConsoleSession.staff_id == staff_id, ConsoleSession.ended_at.is_(None)).values(ended_at=now))
    audit(session, at=now, actor=f"staff:{staff_id}", action="console.signed_out_everywhere",
          object_type="staff_member", object_id=staff_id, sessions=result.rowcount)
    return int(result.rowcount or 0)


# --- CSRF ---------------------------------------------------------------------------------------------
def csrf_token(key: str, path: str) -> str:
    return hmac.new(key.encode(), path.encode(), hashlib.sha256).hexdigest()


def csrf_valid(key: str, path: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(key, path), str(given))
