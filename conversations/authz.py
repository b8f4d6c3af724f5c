"""Who may do what: one function per action, the only place a permission is decided.

Every surface asks here: the chat flows and actions (on every network), the CLI, the signed links in
emails and the staff console. A rule is written once, so no surface can forget it or copy it wrongly.

A function takes the acting :class:`Principal` and the object and answers ``True`` or ``False``. It never
says why, so a refusal reveals nothing about objects the person may not see. :func:`require` turns a no
into :class:`NotAllowed`, which each surface answers in its own way: a kind line in the chat, one line
and a non-zero exit on the CLI, 404 in the console.

Adding an action:

- name it ``may_<verb>_<object>`` (``may_record_outcome``, ``may_confirm_nachweis``) and give it the
  principal first, then the object;
- decide from roles, *current* case assignments (``until`` empty), the person being active, and the
  object's own state where the rule says so (an evaluation only after the talk took place);
- add its row to the role × action table in ``tests/conversations/test_authz.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storage.models import Case, FamilyMember, Role, StaffMember


class NotAllowed(Exception):
    """The principal may not do this (or may not know that the object exists)."""


@dataclass(frozen=True)
class Principal:
    """Who acts: a family member, a staff member (in a chat, the console, or through a signed link sent
    to them), or the operator at the command line (trusted: the Träger's administrator on the server)."""

    member: FamilyMember | None = None
    staff: StaffMember | None = None
    operator: bool = False

    @property
    def label(self) -> str:
        """The actor as the audit log names it."""
        if self.member is not None:
            return f"member:{self.member.id}"
        if self.staff is not None:
            return f"staff:{self.staff.id}"
        return "cli" if self.operator else "anonymous"

    @property
    def active_staff(self) -> StaffMember | None:
        """The staff member, if there is one who still works for the Träger."""
        return self.staff if self.staff is not None and self.staff.active else None


OPERATOR = Principal(operator=True)


def require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed


# --- the building blocks every action rule uses --------------------------------------------------------
def works_on(staff: StaffMember | None, case: Case, roles: Iterable[str] = (Role.FACHKRAFT,)) -> bool:
    """An active staff member with a current assignment to the case in one of ``roles``."""
    if staff is None or not staff.active:
        return False
    wanted = {str(r) for r in roles}
    return any(a.staff_id == staff.id and a.role in wanted and a.until is None for a in case.assignments)


def leads(staff: StaffMember | None, case: Case) -> bool:
    """The Leitung of the Träger that runs the case."""
    return (staff is not None and staff.active and staff.organisation_id == case.organisation_id
            and staff.has_role(Role.LEITUNG))


def in_family(member: FamilyMember | None, case: Case) -> bool:
    return member is not None and member.case_id == case.id


def may_see_case(principal: Principal, case: Case) -> bool:
    """The case's own family, the staff assigned to it (team, Jugendamt, Gesprächsführung), its Leitung."""
    if principal.operator or in_family(principal.member, case):
        return True
    staff = principal.active_staff
    return works_on(staff, case, (Role.FACHKRAFT, Role.FALLFUEHREND, Role.GESPRAECHSFUEHRUNG)) or leads(staff, case)


# --- the staff console (issue 17) ------------------------------------------------------------------------
def may_use_console(principal: Principal) -> bool:
    """Sign in to the staff console: active staff only (a deactivated person's sessions end at once)."""
    staff = principal.active_staff
    return staff is not None and bool(staff.roles)
