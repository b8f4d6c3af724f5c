"""The monthly hour budget, approvals of extra hours, reminder settings and the monthly proof."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, EncryptedText, UTCDateTime
from storage.models.core import Case, FamilyMember


class CaseBudget(Base):
    """The Hilfeplan's monthly Betreuungsvolumen, valid from one day until another (inclusive, or open)."""

    __tablename__ = "case_budget"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    monthly_minutes: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))


class ExtraHoursRequest(Base):
    """Hours scheduled beyond the month's budget, waiting for the fallführende Fachkraft's confirmation."""

    __tablename__ = "extra_hours_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # "2027-03"
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    minutes: Mapped[int] = mapped_column(Integer)  # hours beyond the budget this request asks for
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, approved

    case: Mapped[Case] = relationship()


class CaseReminderSetting(Base):
    """When a case's family is reminded of appointments, e.g. ["2d", "0d@08:00"] (see appointment_jobs)."""

    __tablename__ = "case_reminder_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), unique=True)
    offsets: Mapped[list[str]] = mapped_column(JSON, default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class NachweisConfirmation(Base):
    """The family's confirmation of one month's appointments (the Nachweisblatt's signature)."""

    __tablename__ = "nachweis_confirmation"
    __table_args__ = (UniqueConstraint("case_id", "month"),
                      # one month's confirmations (the Nachweis scan: which cases were asked already), without
                      # reading the years of months before
                      Index("ix_nachweis_confirmation_month", "month", "case_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, confirmed, disputed
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("family_member.id"))
    channel: Mapped[str | None] = mapped_column(String(20))
    remark: Mapped[str | None] = mapped_column(EncryptedText)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # to the fallführende Fachkraft

    case: Mapped[Case] = relationship()
    answered_by_member: Mapped[FamilyMember | None] = relationship()
