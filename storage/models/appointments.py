"""Appointments (mostly Hausbesuche) and who takes part in them.

Outcome and kind values are the strings of :mod:`conversations.rules.outcomes` (storage does not
import conversations; the values are plain strings here).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, EncryptedText, UTCDateTime
from storage.models.core import Case, FamilyMember, StaffMember


class AppointmentSeries(Base):
    """A weekly recurring appointment ("every Tuesday 10:00–12:00"); each occurrence is an Appointment."""

    __tablename__ = "appointment_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    first_start: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(EncryptedText)  # often the family's home address
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Appointment(Base):
    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_case_start", "case_id", "starts_at"),
        # what is still to record (or coming) per case: the console's lists, the Fachkräfte's questions
        Index("ix_appointment_case_outcome_start", "case_id", "outcome", "starts_at"),
        # the periodic scans' windows (reminders, "what happened?", agendas, Meilensteine): bounded by time,
        # not by the history stored
        Index("ix_appointment_start", "starts_at"),
        # which cases had appointments of an outcome in a month (the Nachweis): read from the index alone,
        # however the rows lie in the table (a case's years of history next to its last month)
        Index("ix_appointment_outcome_start", "outcome", "starts_at", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("appointment_series.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30), default="hausbesuch")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    place: Mapped[str | None] = mapped_column(EncryptedText)  # often the family's home address
    note: Mapped[str | None] = mapped_column(EncryptedText)
    outcome: Mapped[str] = mapped_column(String(30), default="planned")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the cancellation reached us
    # Without cancelled_at: "in_time" (24 h or more ahead) or "short", as the Fachkraft remembers it; both
    # empty on a family cancellation: the time is unknown (billed nothing, listed for review).
    cancel_notice: Mapped[str | None] = mapped_column(String(10))
    cancel_reason: Mapped[str | None] = mapped_column(EncryptedText)
    actual_minutes: Mapped[int | None] = mapped_column(Integer)
    outcome_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the family confirmed it
    ics_uid: Mapped[str] = mapped_column(String(100), unique=True)
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    # When the family was last told of its time (the invitation or a move): a reminder due before that is
    # not sent. Kept here so the reminder scan need not search the outbox.
    told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()
    staff: Mapped[list[AppointmentStaff]] = relationship(cascade="all, delete-orphan")
    members: Mapped[list[AppointmentMember]] = relationship(cascade="all, delete-orphan")


class AppointmentStaff(Base):
    __tablename__ = "appointment_staff"
    __table_args__ = (UniqueConstraint("appointment_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)

    staff_member: Mapped[StaffMember] = relationship()


class AppointmentMember(Base):
    """A family member expected at the appointment (gets its reminders)."""

    __tablename__ = "appointment_member"
    __table_args__ = (UniqueConstraint("appointment_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("family_member.id"), index=True)

    member: Mapped[FamilyMember] = relationship()
