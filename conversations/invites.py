"""One-time invite codes that link a chat to a person.

A code has 50 bits of entropy (10 characters of Crockford's base32), is shown once, stored only as a
hash, expires, and can be redeemed once. Typing mistakes people make with codes are forgiven
(lower case, spaces, dashes, O for 0, I or L for 1).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import FamilyMember, InviteAttempt, InviteCode, StaffMember

log = logging.getLogger(__name__)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 10  # 10 × 5 bits = 50 bits
ATTEMPT_WINDOW = timedelta(minutes=15)


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{raw[:4]}-{raw[4:7]}-{raw[7:]}"


def normalise(text: str) -> str | None:
    """The canonical form of something a person typed, or None if it cannot be a code."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def digest(code: str) -> str:
    canonical = normalise(code)
    if canonical is None:
        raise ValueError("not an invite code")
    return hashlib.sha256(canonical.encode()).hexdigest()


def issue(session: Session, person: FamilyMember | StaffMember, *, now: datetime, ttl_days: int) -> str:
    """Create a code for a person and return it (the only time it is visible)."""
    code = new_code()
    invite = InviteCode(code_hash=digest(code), created_at=now, expires_at=now + timedelta(days=ttl_days))
    if isinstance(person, FamilyMember):
        invite.member_id = person.id
    else:
        invite.staff_id = person.id
    session.add(invite)
    return code


def revoke_unused(session: Session, person: FamilyMember | StaffMember, now: datetime) -> int:
    """Codes of the person not used yet stop working now."""
    column = InviteCode.member_id if isinstance(person, FamilyMember) else InviteCode.staff_id
    result = session.execute(update(InviteCode).where(
        column == person.id, InviteCode.used_at.is_(None), InviteCode.expires_at > now).values(expires_at=now))
    return result.rowcount  # type: ignore[attr-defined]


class InviteProblem(Exception):
    """Why a code was not accepted: ``unknown`` (also: used already), ``expired`` or ``too_many``."""

    def __init__(self, reason: str, wait_minutes: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_minutes = wait_minutes


def recent_failures(session: Session, now: datetime, channel: str | None = None, address: str | None = None) -> int:
    """Wrong codes within the window: of one chat, or (without a chat) of all chats together."""
    query = select(func.count(InviteAttempt.id)).where(InviteAttempt.at > now - ATTEMPT_WINDOW)
    if channel is not None:
        query = query.where(InviteAttempt.channel == channel, InviteAttempt.address == address)
    return session.scalar(query) or 0


def check(session: Session, text: str, *, channel: str, address: str, now: datetime,
          max_failures: int, max_failures_total: int | None = None) -> InviteCode:
    """Find the valid invite for what a person typed, or raise :class:`InviteProblem`.

    Failures are counted per chat, and across all chats: after ``max_failures`` within 15 minutes the
    chat has to wait, and after ``max_failures_total`` every chat does (someone guessing from many
    accounts at once), so a code cannot be guessed (2^50 codes, a handful of tries per quarter hour).
    An unknown code and one used already get the same answer, so a guess learns nothing from it.
    """
    wait = int(ATTEMPT_WINDOW.total_seconds() // 60)
    if recent_failures(session, now, channel, address) >= max_failures:
        raise InviteProblem("too_many", wait_minutes=wait)
    if max_failures_total is not None and recent_failures(session, now) >= max_failures_total:
        log.warning("invite codes: %s wrong codes from all chats within %s minutes; new chats wait",
                    max_failures_total, wait)
        raise InviteProblem("too_many", wait_minutes=wait)
    canonical = normalise(text)
    invite = None
    if canonical is not None:
        invite = session.scalar(select(InviteCode).where(InviteCode.code_hash == digest(canonical)))
    problem = None
    if invite is None or invite.used_at is not None:
        problem = "unknown"  # the same for a used code: nobody learns that a code exists
    elif invite.expires_at <= now:
        problem = "expired"
    if problem:
        session.add(InviteAttempt(channel=channel, address=address, at=now))
        raise InviteProblem(problem)
    assert invite is not None
    return invite


def redeem(session: Session, invite_id: int, identity_id: int, now: datetime) -> bool:
    """Mark the invite used, exactly once even if two chats try at the same moment."""
    result = session.execute(
        update(InviteCode)
        .where(InviteCode.id == invite_id, InviteCode.used_at.is_(None), InviteCode.expires_at > now)
        .values(used_at=now, used_by_identity_id=identity_id)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
