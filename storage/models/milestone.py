"""Meilensteingespräch: the case's Hilfeplan goals, the review itself, everyone's answers, the evaluation.

Answers, goals and the evaluation are social data (§ 35 SGB I): their text is encrypted at rest. Each
person's answers are one row of their own, so nobody's answers are ever mixed with another's.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.appointments import Appointment
from storage.models.base import Base, EncryptedBool, EncryptedText, UTCDateTime
from storage.models.core import Case, FamilyMember, StaffMember


class CaseGoal(Base):
    """One goal of the Hilfeplan: a Richtungsziel, Handlungsziel, Handlungsschritt or Vereinbarung."""

    __tablename__ = "case_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    level: Mapped[str] = mapped_column(String(30))  # conversations.milestone.goals.GoalLevel
    text: Mapped[str] = mapped_column(EncryptedText)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # no longer part of the Hilfeplan

    case: Mapped[Case] = relationship()


class Milestone(Base):
    """A Meilensteingespräch: an appointment led by a Gesprächsführer*in who is not on the team."""

    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evaluation_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment] = relationship()
    case: Mapped[Case] = relationship()
    leader: Mapped[StaffMember] = relationship()
    responses: Mapped[list[MilestoneResponse]] = relationship(back_populates="milestone",
                                                              order_by="MilestoneResponse.id")


class MilestoneResponse(Base):
    """One person's questionnaire for one Meilensteingespräch (a family member or a Fachkraft)."""

    __tablename__ = "milestone_response"
    __table_args__ = (
        UniqueConstraint("milestone_id", "member_id"),
        UniqueConstraint("milestone_id", "staff_id"),
        CheckConstraint("(member_id IS NULL) <> (staff_id IS NULL)", name="one_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("family_member.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    version: Mapped[str] = mapped_column(String(10))  # adult · youth · staff
    # {question key: {"choice": ..., "text": ..., "media": [ids], "skipped": bool}} as encrypted JSON
    answers_json: Mapped[str] = mapped_column(EncryptedText, default="{}")
    position: Mapped[str | None] = mapped_column(String(60))  # the open question, to resume after days
    complaint_consent: Mapped[bool | None] = mapped_column()  # None: not asked (no complaint raised)
    complaint_filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    milestone: Mapped[Milestone] = relationship(back_populates="responses")
    member: Mapped[FamilyMember | None] = relationship()
    staff: Mapped[StaffMember | None] = relationship()


class MilestoneMedia(Base):
    """A voice note or photo given as an answer; the bytes are encrypted at rest (base64 in a Fernet token)."""

    __tablename__ = "milestone_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("milestone_response.id"), index=True)
    question: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str] = mapped_column(EncryptedText)
    mime_type: Mapped[str] = mapped_column(String(100))
    data_b64: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MilestoneEvaluation(Base):
    """The Gesprächsführer*in's evaluation with the two Fachkräfte after the meeting (staff only)."""

    __tablename__ = "milestone_evaluation"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), unique=True)
    child_protection_signs: Mapped[bool | None] = mapped_column(EncryptedBool)
    child_protection_note: Mapped[str | None] = mapped_column(EncryptedText)
    blind_spots: Mapped[str | None] = mapped_column(EncryptedText)
    insights: Mapped[str | None] = mapped_column(EncryptedText)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    actions: Mapped[list[MilestoneAction]] = relationship(cascade="all, delete-orphan",
                                                          order_by="MilestoneAction.id")


class MilestoneAction(Base):
    """An action agreed in the evaluation; with a person and a date it becomes a reminder."""

    __tablename__ = "milestone_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("milestone_evaluation.id"), index=True)
    text: Mapped[str] = mapped_column(EncryptedText)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    due_on: Mapped[date | None] = mapped_column(Date)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignee: Mapped[StaffMember | None] = relationship()

