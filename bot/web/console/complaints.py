"""Beschwerdestelle: the complaint queue with filters, one complaint in full, and the procedure's steps.

The same functions as the chat's officer buttons (:mod:`conversations.complaints.procedure`), the same
rules (:func:`authz.may_see_complaint`, :func:`authz.may_handle_complaint`): a complaint about the
officer herself is never listed and its page is "not found". Every read is audited, as in the chat.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.web.console import AREAS, Area
from bot.web.console.desk import Desk, Page, Redirect, Req, notice, route
from conversations import authz
from conversations.authz import require
from conversations.complaints import forwarding, procedure, report, rules
from conversations.complaints.rules import CATEGORY_LABELS, OUTCOME_LABELS, STATUS_LABELS, Outcome, Status
from conversations.i18n import N_
from storage.models import AuditEvent, FamilyMember, StaffMember
from storage.models.complaints import Complaint, ComplaintEntry, ComplaintFile

SHOWN = 50  # rows in the queue (the oldest first); filters narrow it
DEADLINE_FILTERS = {"late": rules.Deadline.LATE, "soon": rules.Deadline.SOON}

TAKEN = notice("complaint_taken", N_("You are now handling this complaint. The complainant has been told."))
ASKED = notice("complaint_asked", N_("Your question has been passed on. The reply will appear here."))
ANSWERED = notice("complaint_answered", N_("Your answer has been passed on. When everything is done, close the "
                                            "complaint."))
CLOSED = notice("complaint_closed", N_("The complaint is closed. The complainant has been asked whether it was "
                                        "dealt with to their satisfaction."))
NOT_DELIVERED = notice("complaint_not_delivered", N_("The complainant's chat is no longer linked, so it could not "
                                                      "be passed on. It is recorded with the complaint."))
EMPTY = notice("complaint_empty", N_("Please write a text first. Nothing was sent."))
ALREADY_CLOSED = notice("complaint_already_closed", N_("This complaint is already closed. Nothing was changed."))
FORWARDED = notice("complaint_forwarded", N_("The complaint was passed on to the Jugendamt's complaint office. The "
                                             "complainant has been told."))
FORWARD_NO_ADDRESS = notice("complaint_forward_no_address", N_(
    "No address of the Jugendamt's complaint office is set (JUGENDAMT_COMPLAINTS_EMAIL). Nothing was sent."))
FORWARD_REFUSED = notice("complaint_forward_refused", N_("This complaint cannot be passed on (again). Nothing was "
                                                         "sent."))

# How the audit trail names what happened (actions written by conversations.complaints.procedure).
AUDIT_LABELS = {
    "complaint.submitted": N_("sent"),
    "complaint.taken_over": N_("taken over"),
    "complaint.question_asked": N_("question asked"),
    "complaint.replied": N_("the complainant replied"),
    "complaint.answered": N_("answered"),
    "complaint.closed": N_("closed"),
    "complaint.rated": N_("satisfaction given"),
    "complaint.read": N_("read"),
    "complaint.listed": N_("seen in the queue"),
    "complaint.overdue": N_("deadline passed"),
    "complaint.file_read": N_("file opened"),
    "complaint.forwarded": N_("passed on to the Jugendamt"),
}


def _queue_count(desk: Desk) -> int:
    """New complaints nobody has taken over yet (the badge in the navigation)."""
    found = desk.session.scalars(select(Complaint).where(
        Complaint.organisation_id == desk.staff.organisation_id, Complaint.status == Status.NEW)).all()
    return sum(1 for c in found if authz.may_see_complaint(desk.principal, c))


AREAS.append(Area("/complaints", N_("Complaints"), N_("The queue of the Beschwerdestelle: take over, ask, answer, "
                                                      "close."),
                  lambda desk: authz.may_work_complaints(desk.principal), _queue_count))


def _filters(req: Req) -> dict[str, str]:
    allowed = {
        "status": {"open", *(s.value for s in Status if s != Status.DRAFT)},
        "category": {c.value for c in rules.Category},
        "deadline": set(DEADLINE_FILTERS),
        "who": {"named", "anonymous"},
    }
    chosen = {key: req.query.get(key, "") for key in allowed}
    chosen = {key: value if value in allowed[key] else "" for key, value in chosen.items()}
    if "status" not in req.query:
        chosen["status"] = "open"
    return chosen


def queue(desk: Desk, req: Req) -> Page:
    require(authz.may_work_complaints(desk.principal))
    chosen = _filters(req)
    anonymous = {"named": False, "anonymous": True}.get(chosen["who"])
    found = report.find(desk.session, report.Filters(
        status=chosen["status"] or None, category=chosen["category"] or None,
        organisation_id=desk.staff.organisation_id, anonymous=anonymous))
    visible = [c for c in found if authz.may_see_complaint(desk.principal, c)]
    if chosen["deadline"]:
        visible = [c for c in visible if rules.deadline_state(c, desk.now) == DEADLINE_FILTERS[chosen["deadline"]]]
    shown = visible[:SHOWN]
    load_people(desk, shown)
    procedure.log_many(desk.session, desk.now, desk.actor, "complaint.listed", shown)
    return Page("complaints.html", {
        "rows": [_row(desk, c) for c in shown], "total": len(visible), "shown": SHOWN, "chosen": chosen,
        "statuses": [("open", desk.tr.gettext("open (not closed)"))]
        + [(s.value, desk.tr.gettext(label)) for s, label in STATUS_LABELS.items() if s != Status.DRAFT],
        "categories": [(c.value, desk.tr.gettext(label)) for c, label in CATEGORY_LABELS.items()],
    })


def load_people(desk: Desk, complaints: list[Complaint]) -> None:
    """The officers and the staff complained about, in one query (not one per row)."""
    ids = {i for c in complaints for i in (c.officer_id, c.about_staff_id) if i}
    if ids:
        desk.session.scalars(select(StaffMember).where(StaffMember.id.in_(ids))).all()


def _row(desk: Desk, complaint: Complaint) -> dict[str, Any]:
    tr = desk.tr
    return {
        "id": complaint.id, "reference": complaint.reference,
        "received": tr.date(complaint.submitted_at, "medium") if complaint.submitted_at else "",
        "about": procedure.about_text(tr, complaint),
        "anonymous": complaint.anonymous,
        "status": tr.gettext(STATUS_LABELS[Status(complaint.status)]),
        "officer": complaint.officer.name if complaint.officer else "",
        **due(desk, complaint),
    }


def due(desk: Desk, complaint: Complaint) -> dict[str, Any]:
    tr, state, due = desk.tr, rules.deadline_state(complaint, desk.now), rules.next_due(complaint)
    if complaint.status != Status.CLOSED and complaint.taken_at is None:
        what = tr.gettext("take up by {date}")
    elif due is not None:
        what = tr.gettext("answer by {date}")
    else:
        what = ""
    return {"due": what.format(date=tr.datetime(due, "short")) if due else "", "due_state": state.value,
            "due_label": {rules.Deadline.LATE: tr.gettext("overdue"),
                          rules.Deadline.SOON: tr.gettext("due soon")}.get(state, "")}


# --- one complaint ------------------------------------------------------------------------------------------
def _complaint(desk: Desk, req: Req) -> Complaint:
    complaint = desk.session.get(Complaint, req.id(), options=[
        selectinload(Complaint.entries).selectinload(ComplaintEntry.staff),
        selectinload(Complaint.files).load_only(ComplaintFile.id, ComplaintFile.filename, ComplaintFile.size,
                                                ComplaintFile.at)])
    require(complaint is not None and authz.may_see_complaint(desk.principal, complaint))
    assert complaint is not None
    return complaint


def detail(desk: Desk, req: Req) -> Page:
    complaint = _complaint(desk, req)
    tr = desk.tr
    procedure.log(desk.session, desk.now, desk.actor, "complaint.read", complaint)
    entries = [{"label": tr.gettext(procedure.ENTRY_LABELS.get(e.kind, e.kind)).format(
                    name=e.staff.name if e.staff else ""),
                "when": tr.when(e.at), "text": e.text, "kind": e.kind} for e in complaint.entries]
    handle = authz.may_handle_complaint(desk.principal, complaint) and complaint.status != Status.CLOSED
    return Page("complaint.html", {
        "c": complaint, "summary": procedure.summary(tr, desk.session, complaint), "entries": entries,
        "files": [{"id": f.id, "name": f.filename, "size": f.size, "when": tr.when(f.at)} for f in complaint.files],
        "trail": trail(desk, complaint), "handle": handle,
        "may_take": handle and complaint.officer_id != desk.staff.id, **due(desk, complaint),
        "outcomes": [(o.value, tr.gettext(label)) for o, label in OUTCOME_LABELS.items()],
        "may_forward": authz.may_forward_complaint(desk.principal, complaint),
        "forward_to": forwarding.address_of(desk.session, desk.services, complaint),
    })


def trail(desk: Desk, complaint: Complaint) -> list[dict[str, str]]:
    """Who read or changed the complaint, when. An anonymous complainant stays "the complainant"."""
    events = desk.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "complaint", AuditEvent.object_id == str(complaint.id)).order_by(AuditEvent.id)).all()
    staff_ids = {int(e.actor.split(":")[1]) for e in events if e.actor.startswith("staff:")}
    member_ids = {int(e.actor.split(":")[1]) for e in events if e.actor.startswith("member:")}
    names = {f"staff:{s.id}": s.name for s in desk.session.scalars(
        select(StaffMember).where(StaffMember.id.in_(staff_ids)))} if staff_ids else {}
    if member_ids and not complaint.anonymous:
        names |= {f"member:{m.id}": m.display_name for m in desk.session.scalars(
            select(FamilyMember).where(FamilyMember.id.in_(member_ids)))}
    tr = desk.tr
    who = {"complainant": tr.gettext("the complainant"), "system": "Wegbegleiter", "cli": tr.gettext("command line")}
    return [{"when": tr.datetime(e.at, "short"), "what": tr.gettext(AUDIT_LABELS.get(e.action, e.action)),
             "who": names.get(e.actor) or who.get(e.actor) or tr.gettext("the complainant")} for e in events]


def file(desk: Desk, req: Req) -> web.Response:
    complaint = _complaint(desk, req)
    found = desk.session.scalar(select(ComplaintFile).where(ComplaintFile.id == req.id("file"),
                                                            ComplaintFile.complaint_id == complaint.id))
    require(found is not None)
    assert found is not None
    procedure.log(desk.session, desk.now, desk.actor, "complaint.file_read", complaint, file=found.id)
    safe = "".join(ch for ch in found.filename if ch.isalnum() or ch in "._-") or "datei"
    return web.Response(body=found.data, content_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{safe}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})


# --- the procedure's steps ------------------------------------------------------------------------------------
def _handled(desk: Desk, req: Req) -> Complaint:
    complaint = _complaint(desk, req)
    require(authz.may_handle_complaint(desk.principal, complaint))
    return complaint


def _back(complaint: Complaint, key: str) -> Redirect:
    return Redirect(f"/complaints/{complaint.id}", key)


def take(desk: Desk, req: Req) -> Redirect:
    complaint = _handled(desk, req)
    if complaint.status == Status.CLOSED:
        return _back(complaint, ALREADY_CLOSED)
    procedure.take_over(desk.session, desk.services, complaint, desk.staff, desk.now)
    return _back(complaint, TAKEN)


def write(step: str):  # type: ignore[no-untyped-def]
    """Ask a question or answer: the text goes to the complainant's chat as written."""

    def view(desk: Desk, req: Req) -> Redirect:
        complaint = _handled(desk, req)
        text = req.form.get("text", "").strip()
        if complaint.status == Status.CLOSED:
            return _back(complaint, ALREADY_CLOSED)
        if not text:
            return _back(complaint, EMPTY)
        passes_on = procedure.ask if step == "ask" else procedure.answer
        delivered = passes_on(desk.session, desk.services, complaint, desk.staff, text[:4000], desk.now)
        return _back(complaint, (ASKED if step == "ask" else ANSWERED) if delivered else NOT_DELIVERED)

    return view


def close(desk: Desk, req: Req) -> Redirect:
    complaint = _handled(desk, req)
    resolution = req.form.get("resolution", "").strip()
    if complaint.status == Status.CLOSED:
        return _back(complaint, ALREADY_CLOSED)
    if not resolution or req.form.get("outcome") not in {o.value for o in Outcome}:
        return _back(complaint, EMPTY)
    delivered = procedure.close(desk.session, desk.services, complaint, desk.staff, Outcome(req.form["outcome"]),
                                resolution[:4000], desk.now)
    return _back(complaint, CLOSED if delivered else NOT_DELIVERED)


def forward(desk: Desk, req: Req) -> Redirect:
    """A complaint about the Jugendamt to the Jugendamt's complaint office (the chat's button does the same)."""
    complaint = _handled(desk, req)
    result = forwarding.forward(desk.session, desk.services, complaint, desk.staff, desk.now)
    return _back(complaint, {forwarding.Forwarded.DONE: FORWARDED,
                             forwarding.Forwarded.NO_ADDRESS: FORWARD_NO_ADDRESS}.get(result, FORWARD_REFUSED))


def add_routes(application: web.Application) -> None:
    router = application.router
    router.add_get("/complaints", route(queue))
    router.add_get("/complaints/{id}", route(detail))
    router.add_get("/complaints/{id}/files/{file}", route(file))
    router.add_post("/complaints/{id}/take", route(take))
    router.add_post("/complaints/{id}/ask", route(write("ask")))
    router.add_post("/complaints/{id}/answer", route(write("answer")))
    router.add_post("/complaints/{id}/close", route(close))
    router.add_post("/complaints/{id}/forward", route(forward))

