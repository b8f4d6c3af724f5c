"""Escalations: things that must reach a person and stay open until a person confirms them.

Two kinds share one table and one history: ``attendance`` (three consecutive appointments without the
family taking part, DOMAIN.md § 5) and ``child_protection`` (a message that may point to a risk for a
child). ``key`` makes each escalation a job that can exist only once (one per streak); every
notification it caused is an :class:`EscalationNotice`, so "who was told when, by which way" is a query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, EncryptedJSON, EncryptedText, UTCDateTime
from storage.models.core import Case, FamilyMember, OutboxMessage, StaffMember


class Escalation(Base):
    __tablename__ = "escalation"
    __table_args__ = (Index("ix_escalation_open", "kind", "acknowledged_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # "attendance" | "child_protection"
    key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("family_member.id"))  # who wrote (child protection)
    # What happened, for the history: the appointments of the streak, or the matched phrase (no query reads
    # it, so it is encrypted at rest like the message beside it).
    facts: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    message: Mapped[str | None] = mapped_column(EncryptedText)  # the family's own words (child protection)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # acknowledge by then, or reminder + Leitung
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    acknowledged_via: Mapped[str | None] = mapped_column(String(30))  # "chat", "email-link", "cli"
    note: Mapped[str | None] = mapped_column(EncryptedText)  # what the person who closed it wrote

    case: Mapped[Case] = relationship()
    member: Mapped[FamilyMember | None] = relationship()
    acknowledger: Mapped[StaffMember | None] = relationship()
    notices: Mapped[list[EscalationNotice]] = relationship(
        back_populates="escalation", order_by="EscalationNotice.id", cascade="all, delete-orphan")


class EscalationNotice(Base):
    """One message an escalation caused: to whom, why, on which channel (delivery state in the outbox)."""

    __tablename__ = "escalation_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalation.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    purpose: Mapped[str] = mapped_column(String(30))  # "notify", "team", "reminder", "leitung", "handled"
    channel: Mapped[str] = mapped_column(String(20))
    # indexed: deleting an outbox row (the privacy purge, an unlinked chat) sets it to NULL here, and must
    # not read every notice ever written to find it
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    escalation: Mapped[Escalation] = relationship(back_populates="notices")
    staff: Mapped[StaffMember] = relationship()
    outbox: Mapped[OutboxMessage | None] = relationship()
