"""The staff console's sign-in links and sessions (issue 17).

Only hashes of the secrets are stored: a stolen database backup opens no console. A session ends by
signing out, by "sign out everywhere", after the idle timeout, or at once when the person is deactivated
(the console checks ``StaffMember.active`` on every request).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UTCDateTime
from storage.models.core import StaffMember


class ConsoleSignIn(Base):
    """A single-use sign-in link, sent to the person's linked chat or email, valid for minutes."""

    __tablename__ = "console_sign_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    via: Mapped[str] = mapped_column(String(20))  # the channel the link went to: "telegram", "email", ...
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[StaffMember] = relationship()


class ConsoleSession(Base):
    """A signed-in browser. The cookie holds the token; ``csrf_key`` signs the tokens of its forms."""

    __tablename__ = "console_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    csrf_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(200))

    staff: Mapped[StaffMember] = relationship()
