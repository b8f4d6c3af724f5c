"""All models, imported here so Alembic and the metadata see every table.

Each job keeps its tables in its own module; add the module's import below.
"""

from storage.models.appointments import Appointment, AppointmentMember, AppointmentSeries, AppointmentStaff
from storage.models.base import Base, EncryptedText, UTCDateTime
from storage.models.budget import (  # noqa: F401  (hour budget and Nachweis, issue 5)
    CaseBudget,
    CaseReminderSetting,
    ExtraHoursRequest,
    NachweisConfirmation,
)
from storage.models.complaints import Complaint, ComplaintEntry, ComplaintFile  # noqa: F401  (issue 9)
from storage.models.console import ConsoleSession, ConsoleSignIn  # noqa: F401  (staff console, issue 17)
from storage.models.core import (
    AuditEvent,
    Case,
    CaseAssignment,
    ChatIdentity,
    ConversationState,
    FamilyMember,
    InviteAttempt,
    InviteCode,
    MemberKind,
    Organisation,
    OutboxAttachment,
    OutboxMessage,
    OutboxStatus,
    ProcessedEvent,
    Role,
    StaffMember,
    StaffRole,
)
from storage.models.escalations import Escalation, EscalationNotice  # noqa: F401  (issue 6)
from storage.models.hilfeplan import HilfeplanItem, HilfeplanTalk, HilfeplanView  # noqa: F401  (issue 18)
from storage.models.matrix import MatrixAccount, MatrixChoiceMessage  # noqa: F401  (issue 4)
from storage.models.milestone import (  # noqa: F401  (Meilensteingespräch, issue 8)
    CaseGoal,
    Milestone,
    MilestoneAction,
    MilestoneEvaluation,
    MilestoneMedia,
    MilestoneResponse,
)
from storage.models.privacy import KeyCheck, LinkUse, RetainedFigure  # noqa: F401  (keys and retention, issue 15)
from storage.models.telegram import TelegramCallback, TelegramChatMenu  # noqa: F401  (issue 3)

__all__ = [
    "Appointment",
    "AppointmentMember",
    "AppointmentSeries",
    "AppointmentStaff",
    "AuditEvent",
    "Base",
    "Case",
    "CaseAssignment",
    "ChatIdentity",
    "ConversationState",
    "EncryptedText",
    "FamilyMember",
    "InviteAttempt",
    "InviteCode",
    "MemberKind",
    "Organisation",
    "OutboxAttachment",
    "OutboxMessage",
    "OutboxStatus",
    "ProcessedEvent",
    "Role",
    "StaffMember",
    "StaffRole",
    "UTCDateTime",
]
