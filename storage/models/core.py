"""The people, their cases, their chats, and the plumbing every job shares (outbox, events, audit)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, EncryptedBytes, EncryptedDate, EncryptedText, UTCDateTime


class Role(enum.StrEnum):
    """Roles of staff members (DESIGN.md, Roles). A person may hold several."""

    FACHKRAFT = "fachkraft"
    FALLFUEHREND = "fallfuehrend"
    GESPRAECHSFUEHRUNG = "gespraechsfuehrung"
    BESCHWERDE = "beschwerde"
    LEITUNG = "leitung"
    ADMIN = "admin"


class MemberKind(enum.StrEnum):
    PARENT = "parent"  # Personensorgeberechtigte*r
    ADULT = "adult"  # another adult in the household
    CHILD = "child"  # children and young people


class Organisation(Base):
    """A Träger (provider) running Wegbegleiter, or the Jugendamt its case managers belong to."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    phone_hours: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))  # postal address, lines separated by "\n"
    # Per-organisation rule settings (streak rule, form of address, ...), read by the rule modules.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Case(Base):
    """One family's help (Hilfe), steered by one Jugendamt case manager."""

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    reference: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str] = mapped_column(String(200))  # e.g. "Familie Yılmaz"
    help_type: Mapped[str | None] = mapped_column(String(50))  # e.g. "SPFH § 31 SGB VIII"
    jugendamt: Mapped[str | None] = mapped_column(String(200))  # e.g. "Jugendamt Magdeburg"
    jugendamt_file_number: Mapped[str | None] = mapped_column(String(100))  # the Jugendamt's Aktenzeichen
    started_on: Mapped[date | None] = mapped_column(Date)
    # The help ended (`case close`): the start of the retention periods; the reason is one of
    # conversations.access.closing.REASONS (a code, no free text: it stays after the names are gone).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Which kinds of its data were deleted when (conversations.privacy.purge): {"case_data": ISO time, ...}
    purged: Mapped[dict[str, str] | None] = mapped_column(JSON)

    organisation: Mapped[Organisation] = relationship()
    members: Mapped[list[FamilyMember]] = relationship(back_populates="case", order_by="FamilyMember.id")
    assignments: Mapped[list[CaseAssignment]] = relationship(back_populates="case")


class FamilyMember(Base):
    __tablename__ = "family_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(EncryptedText)  # no query reads it (the case title does)
    kind: Mapped[str] = mapped_column(String(20), default=MemberKind.PARENT)
    birth_date: Mapped[date | None] = mapped_column(EncryptedDate)
    language: Mapped[str] = mapped_column(String(10), default="de")
    email: Mapped[str | None] = mapped_column(String(200))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="members")

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() if self.last_name else self.first_name


class StaffMember(Base):
    __tablename__ = "staff_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(10), default="de")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # False once the person left the Träger (`staff deactivate`): no chat, no session, no message.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    roles: Mapped[list[StaffRole]] = relationship(cascade="all, delete-orphan")
    assignments: Mapped[list[CaseAssignment]] = relationship(back_populates="staff")

    @property
    def display_name(self) -> str:
        return self.name

    def has_role(self, *roles: Role | str) -> bool:
        held = {r.role for r in self.roles}
        return any(str(r) in held for r in roles)


class StaffRole(Base):
    __tablename__ = "staff_role"
    __table_args__ = (UniqueConstraint("staff_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    role: Mapped[str] = mapped_column(String(30))


class CaseAssignment(Base):
    """A staff member working on a case: Fachkraft of the team, fallführende Fachkraft, Gesprächsführung."""

    __tablename__ = "case_assignment"
    __table_args__ = (UniqueConstraint("case_id", "staff_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="assignments")
    staff: Mapped[StaffMember] = relationship(back_populates="assignments")


class ChatIdentity(Base):
    """A chat on one network (Telegram chat id, Matrix room, console name) linked to one person."""

    __tablename__ = "chat_identity"
    __table_args__ = (
        UniqueConstraint("channel", "address"),
        CheckConstraint("(member_id IS NULL) <> (staff_id IS NULL)", name="one_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(255))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("family_member.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the person blocked the bot

    member: Mapped[FamilyMember | None] = relationship()
    staff: Mapped[StaffMember | None] = relationship()


class InviteCode(Base):
    """A one-time code that links a chat to a family member or staff member.

    Only a hash is stored: the code itself is shown once, to the staff member who creates it.
    """

    __tablename__ = "invite_code"
    __table_args__ = (CheckConstraint("(member_id IS NULL) <> (staff_id IS NULL)", name="one_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("family_member.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identity.id", ondelete="SET NULL"))

    member: Mapped[FamilyMember | None] = relationship()
    staff: Mapped[StaffMember | None] = relationship()


class InviteAttempt(Base):
    """Failed code attempts, for rate limiting guessing per chat and across all chats."""

    __tablename__ = "invite_attempt"
    __table_args__ = (Index("ix_invite_attempt_chat", "channel", "address", "at"),
                      Index("ix_invite_attempt_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConversationState(Base):
    """Where a chat is in its conversation: a stack of flow frames, stored so a restart resumes."""

    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(255))
    stack: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The current flow question's options, written by the turn that asked it: {"step": [{label, payload}]}.
    # A pressed choice of a flow must be one of them; their labels may be typed (conversations.choices).
    offered: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The open question: the options of the newest message with options that reached the person, written
    # when it is delivered (so a reminder held back by quiet hours counts from when it arrives). A typed
    # number or label means one of these. Its own column: delivery and turns never overwrite each other.
    open_choices: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(10))  # before the chat is linked
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # permanently: gave up after retries, or the network refused it
    BLOCKED = "blocked"  # the person blocked the bot: recorded, not retried


class OutboxMessage(Base):
    """A message to deliver, written in the same transaction as the change that caused it."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "channel", "next_attempt_at"),
                      # a chat's messages not yet delivered (the claim: is one before this in line?)
                      Index("ix_outbox_chat", "channel", "address", "status", "id"),
                      # Two partial indexes: the migration (scan1) gives them their condition, named here in
                      # ``info`` only. Naming a dialect's option (postgresql_where=) would load that dialect's
                      # module with all its drivers into every process (2 MB of a bot on SQLite,
                      # bench/footprint.py); Alembic's autogenerate does not compare an index's condition.
                      # The messages waiting, per chat (the claim's oldest per chat): SQLite chose ix_outbox_chat
                      # for its grouping and walked every message ever kept to find the few waiting.
                      Index("ix_outbox_waiting", "channel", "address", "id", info={"where": "status = 'pending'"}),
                      # The texts the privacy purge has still to delete: only rows not blanked yet, so its
                      # hourly run reads what became due, not the whole history (conversations.privacy.purge).
                      Index("ix_outbox_to_blank", "created_at", info={"where": "blanked_at IS NULL"}))

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(255))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identity.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(50), default="reply")
    subject: Mapped[str | None] = mapped_column(String(300))  # email only
    text: Mapped[str] = mapped_column(EncryptedText)
    choices: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(10), default="de")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Idempotent jobs: a reminder or escalation carries a key that can exist only once.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_id: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The instance sending it (status "sending"): a claim of an instance that no longer runs is taken back.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    # The first reply to a pressed button: the network's id of the pressed message (bot.channels.base).
    replaces: Mapped[str | None] = mapped_column(String(255))
    # When the privacy purge deleted the text (OUTBOX_TEXT_DAYS after delivery); the row stays for its key.
    blanked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )


class OutboxAttachment(Base):
    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id"), index=True)
    filename: Mapped[str] = mapped_column(EncryptedText)
    mime_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(EncryptedBytes)  # a complaint's photo must not lie here in clear


class ProcessedEvent(Base):
    """A channel event handled once: a redelivered update finds its row and is ignored."""

    __tablename__ = "processed_event"
    __table_args__ = (UniqueConstraint("channel", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEvent(Base):
    """Who read or changed what, and when (§ 67 ff. SGB X: accountability for social data)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # "staff:3", "member:7", "cli", "system"
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[str | None] = mapped_column(String(50))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
