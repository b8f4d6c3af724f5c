"""The Hilfeplan calendar (issue 18): each case's Hilfeplangespräche and the deadlines that follow from them.

The deadlines are derived by the pure rules in :mod:`conversations.hilfeplan.rules` from the help's start
(``Case.started_on``) and the talks; a row per deadline keeps what the rules cannot know: whether it is done,
by whom, and whom the bot has told. Participants' names are social data: encrypted at rest.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.appointments import Appointment
from storage.models.base import Base, EncryptedText, UTCDateTime
from storage.models.core import Case, FamilyMember


class HilfeplanTalk(Base):
    """A Hilfeplangespräch (the first, a Konkretisierung, a Fortschreibung), held or planned."""

    __tablename__ = "hilfeplan_talk"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # conversations.hilfeplan.rules.TalkKind
    day: Mapped[date] = mapped_column(Date)
    # The appointment in the calendar (the family is told, the Fachkräfte see it in their agenda).
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id", ondelete="SET NULL"))
    participants: Mapped[str] = mapped_column(EncryptedText, default="")  # names, one per line
    crisis: Mapped[bool] = mapped_column(Boolean, default=False)  # an earlier Fortschreibung in a crisis
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))

    case: Mapped[Case] = relationship()
    appointment: Mapped[Appointment | None] = relationship()


class HilfeplanItem(Base):
    """One deadline of a case: its due day, who owes it, done or not, and whom the bot told."""

    __tablename__ = "hilfeplan_item"
    __table_args__ = (UniqueConstraint("case_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    key: Mapped[str] = mapped_column(String(60))  # rules.Deadline.key, stable per case
    kind: Mapped[str] = mapped_column(String(30))  # rules.Kind
    owner: Mapped[str] = mapped_column(String(20))  # rules.Owner
    due_on: Mapped[date] = mapped_column(Date, index=True)
    earliest: Mapped[date | None] = mapped_column(Date)
    number: Mapped[int | None] = mapped_column(Integer)
    talk_id: Mapped[int | None] = mapped_column(ForeignKey("hilfeplan_talk.id", ondelete="SET NULL"))
    # The talk (held or planned) that fulfils it: a Konkretisierung, a Fortschreibung.
    fulfilled_by: Mapped[int | None] = mapped_column(ForeignKey("hilfeplan_talk.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(100))  # "staff:3", "cli", "system" (a talk, a count)
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # Fortschreibung without Entwicklungsbericht
    obsolete_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the rules no longer name it (a talk removed)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()
    talk: Mapped[HilfeplanTalk | None] = relationship(foreign_keys=[talk_id])
    fulfilling_talk: Mapped[HilfeplanTalk | None] = relationship(foreign_keys=[fulfilled_by])


class HilfeplanView(Base):
    """A family member's view before a Hilfeplangespräch (three short questions), read by the Fachkräfte.
    Their words are social data: encrypted at rest."""

    __tablename__ = "hilfeplan_view"
    __table_args__ = (UniqueConstraint("talk_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    talk_id: Mapped[int] = mapped_column(ForeignKey("hilfeplan_talk.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("family_member.id"), index=True)
    answers_json: Mapped[str] = mapped_column(EncryptedText, default="{}")  # {question: text | null (skipped)}
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    talk: Mapped[HilfeplanTalk] = relationship()
    member: Mapped[FamilyMember] = relationship()
