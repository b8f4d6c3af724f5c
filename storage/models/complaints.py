"""Complaints (Beschwerdemanagement): the complaint, its exchange with the officer, and its files.

What a complainant writes and sends is encrypted at rest (text with :class:`EncryptedText`, files with
:class:`EncryptedBytes`). For an anonymous complaint the complainant's name and case are not stored on
the complaint at all: only ``relay_identity_id`` (the chat) is kept, so answers can reach them.
Status, category and outcome values are the strings of :mod:`conversations.complaints.model`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, EncryptedBytes, EncryptedText, UTCDateTime  # noqa: F401 (c001 names it here)
from storage.models.core import ChatIdentity, StaffMember


class Complaint(Base):
    __tablename__ = "complaint"
    __table_args__ = (Index("ix_complaint_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # B-2027-0042: given when the complaint is sent (a draft has none), numbered per year.
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The chat the complaint came from: the relay for questions and answers. Unlinking the chat ends it.
    relay_identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identity.id", ondelete="SET NULL"))
    # When the help ends while the complaint is open, the relay chat is unlinked but its address is kept
    # here (encrypted; nothing queries it), so the answer still reaches the complainant and they can reply
    # and rate from that chat; cleared once they rated the outcome (conversations.access.closing).
    relay_channel: Mapped[str | None] = mapped_column(String(20))
    relay_address: Mapped[str | None] = mapped_column(EncryptedText)
    # Only for a named complaint: who complains, and their case.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("family_member.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(10), default="de")
    category: Mapped[str] = mapped_column(String(30))
    about_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    # The named staff member holds the complaint role: only the Leitung handles it.
    leitung_only: Mapped[bool] = mapped_column(Boolean, default=False)
    answer_wanted: Mapped[str] = mapped_column(String(20), default="chat")  # chat · phone · none
    contact: Mapped[str | None] = mapped_column(EncryptedText)  # a phone number, if they want a call
    status: Mapped[str] = mapped_column(String(20), default="draft")
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    resolution: Mapped[str | None] = mapped_column(EncryptedText)  # what was done
    satisfaction: Mapped[str | None] = mapped_column(String(10))  # yes · partly · no
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    take_up_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    satisfaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A complaint about the Jugendamt (issue 18): may the officer pass it on to the Jugendamt's complaint
    # office? "named" (with the complainant's name), "anonymous" (without it), "no"; None: not asked.
    forward_consent: Mapped[str | None] = mapped_column(String(20))
    forwarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    forwarded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))

    relay: Mapped[ChatIdentity | None] = relationship()
    about_staff: Mapped[StaffMember | None] = relationship(foreign_keys=[about_staff_id])
    officer: Mapped[StaffMember | None] = relationship(foreign_keys=[officer_id])
    entries: Mapped[list[ComplaintEntry]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintEntry.id")
    files: Mapped[list[ComplaintFile]] = relationship(
        back_populates="complaint", cascade="all, delete-orphan", order_by="ComplaintFile.id")


class ComplaintEntry(Base):
    """One piece of the exchange: the complainant's account, a question, a reply, an answer."""

    __tablename__ = "complaint_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(20))  # account · question · reply · answer · note
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))  # the officer who wrote it
    text: Mapped[str] = mapped_column(EncryptedText)

    complaint: Mapped[Complaint] = relationship(back_populates="entries")
    staff: Mapped[StaffMember | None] = relationship()


class ComplaintFile(Base):
    """A voice note, photo or document sent with a complaint or a reply."""

    __tablename__ = "complaint_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    filename: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(EncryptedBytes)

    complaint: Mapped[Complaint] = relationship(back_populates="files")
