"""The summary for the Gesprächsführer*in: goal by goal, the family's and the Fachkräfte's views side by side.

Only answers that were sent count (a draft can still change). Where the two sides see a goal, the visits,
the contact or the cooperation differently, the row is marked: those are the questions for the talk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conversations.i18n import Translator
from conversations.milestone import core
from conversations.milestone.briefing import briefing
from conversations.milestone.questions import quote, value_label
from conversations.rules.milestone import views_differ
from storage.models import Milestone, MilestoneResponse

CHAT_LIMIT = 3500  # Telegram allows 4096 characters; the PDF has everything


@dataclass
class Row:
    label: str
    family: list[tuple[str, str]] = field(default_factory=list)  # (first name, answer)
    staff: list[tuple[str, str]] = field(default_factory=list)
    differ: bool = False


@dataclass
class Section:
    title: str
    rows: list[Row]


@dataclass
class Summary:
    title: str
    briefing: str
    answered: list[str]
    missing: list[str]
    sections: list[Section]
    media_count: int = 0
    reference: str = ""  # the case reference (Aktenzeichen), on every page of the PDF


def _answer_text(tr: Translator, topic: str, answer: dict[str, Any] | None, why: dict[str, Any] | None = None
                 ) -> str | None:
    if not answer or answer.get("skipped"):
        return None
    parts = []
    if answer.get("choice"):
        parts.append(value_label(tr, topic, answer["choice"]))
    for part in (answer, why or {}):
        if part.get("text"):
            parts.append(quote(tr, part["text"]))
        if part.get("media"):
            parts.append(tr.gettext("voice message or file ({count})").format(count=len(part["media"])))
    return " – ".join(parts) or None


def build(tr: Translator, ms: Milestone) -> Summary:
    _ = tr.gettext
    sent = [r for r in ms.responses if r.submitted_at is not None]
    family = [r for r in sent if core.is_family(r)]
    staff = [r for r in sent if not core.is_family(r)]
    parsed = {r.id: core.answers(r) for r in sent}

    def first(r: MilestoneResponse) -> str:
        return core.respondent_name(r).split()[0]

    def row(label: str, key: str, topic: str, why_key: str | None = None, compare: bool = True) -> Row:
        result = Row(label)
        for side, rows in ((result.family, family), (result.staff, staff)):
            for r in rows:
                text = _answer_text(tr, topic, parsed[r.id].get(key), parsed[r.id].get(why_key) if why_key else None)
                if text:
                    side.append((first(r), text))
        if compare:
            result.differ = views_differ([parsed[r.id].get(key, {}).get("choice") for r in family],
                                         [parsed[r.id].get(key, {}).get("choice") for r in staff])
        return result

    session_goals = core.goals(core.session_of(ms), ms.case_id)
    goal_rows = []
    for g in session_goals:
        goal_rows.append(row(f"{core.level_label(tr, g.level)}: {g.text}", f"goal:{g.id}", "goal", f"why:{g.id}"))
        still = row(_("Still the right goal?"), f"fits:{g.id}", "fits")
        if still.family or still.staff:
            goal_rows.append(still)
    goals_section = Section(_("Goals of the Hilfeplan"), goal_rows)
    sections = [
        Section(_("Eigenverantwortungsblätter: what the family took on itself"), [
            row(_("What the family took on itself"), "own", "own", compare=False),
            row(_("How it went"), "own_how", "own_how")]),
        goals_section,
        Section(_("Home visits and contact"), [row(_("Home visits"), "visits", "visits"),
                                               row(_("Contact with the children"), "contact", "contact")]),
        Section(_("How the children are doing"), [row(c.first_name, f"child:{c.id}", "child")
                                                 for c in core.children(ms.case)]),
        Section(_("Cooperation"), [row(_("Cooperation (1 = poor, 5 = very good)"), "cooperation", "cooperation")]),
        Section(_("Wishes and complaints"), [
            row(_("Wishes"), "wishes", "wishes", compare=False),
            _complaints(tr, family, parsed),
            row(_("What the Fachkräfte would like different or better"), "better", "better", compare=False),
            row(_("Critical topics to raise as an outsider (Fachkräfte)"), "critical", "critical", compare=False),
            row(_("Anything else"), "else", "else", compare=False),
        ]),
    ]
    for section in sections:
        section.rows = [r for r in section.rows if r.family or r.staff or section is goals_section]
    invited = ms.responses
    return Summary(
        title=_("Meilensteingespräch {case} – {date}").format(case=ms.case.title, date=tr.when(ms.appointment.starts_at)),
        briefing=briefing(tr),
        answered=[core.respondent_name(r) for r in sent],
        missing=[core.respondent_name(r) for r in invited if r.submitted_at is None],
        sections=[s for s in sections if s.rows],
        media_count=sum(len(a.get("media", [])) for r in sent for a in parsed[r.id].values()),
        reference=ms.case.reference or "",
    )


def _complaints(tr: Translator, family: list[MilestoneResponse], parsed: dict[int, dict[str, Any]]) -> Row:
    result = Row(tr.gettext("Complaints"))
    for r in family:
        text = _answer_text(tr, "complaint", parsed[r.id].get("complaint"))
        if text:
            passed = (tr.gettext("passed on to the complaint office") if r.complaint_consent
                      else tr.gettext("for the talk only"))
            result.family.append((core.respondent_name(r).split()[0], f"{text} ({passed})"))
    return result


def bold(text: str, markup: bool) -> str:
    """``*text*`` where the chat shows it bold; the command line prints plain text."""
    return f"*{text}*" if markup else text


def as_text(tr: Translator, summary: Summary, *, markup: bool = True) -> str:
    _ = tr.gettext
    lines = [summary.title, "", summary.briefing, "",
             _("Answers sent by: {names}").format(names=", ".join(summary.answered) or "—")]
    if summary.missing:
        lines.append(_("Not sent: {names}").format(names=", ".join(summary.missing)))
    lines.append(_("⚠ marks where the family and the Fachkräfte see it differently."))
    for section in summary.sections:
        lines += ["", bold(section.title, markup)]
        for r in section.rows:
            lines.append(("⚠ " if r.differ else "• ") + r.label)
            if r.family:
                lines.append("   " + _("Family: {answers}").format(answers="; ".join(f"{n}: {a}" for n, a in r.family)))
            if r.staff:
                lines.append("   " + _("Fachkräfte: {answers}").format(answers="; ".join(f"{n}: {a}" for n, a in r.staff)))
            if not r.family and not r.staff:
                lines.append("   " + _("no answers"))
    text = "\n".join(lines)
    if len(text) > CHAT_LIMIT:
        text = text[:CHAT_LIMIT].rsplit("\n", 1)[0] + "\n…\n" + _("The PDF has everything.")
    return text


def evaluation_text(tr: Translator, ms: Milestone, *, markup: bool = True) -> str | None:
    """The evaluation after the talk, for the leader and the Fachkräfte only (never the family)."""
    from sqlalchemy import select

    from storage.models import MilestoneEvaluation

    session = core.session_of(ms)
    found = session.scalar(select(MilestoneEvaluation).where(MilestoneEvaluation.milestone_id == ms.id))
    if found is None:
        return None
    _ = tr.gettext
    signs = {True: _("yes"), False: _("no"), None: "—"}[found.child_protection_signs]
    lines = [bold(_("Evaluation after the talk"), markup),
             _("Signs of Kindeswohlgefährdung: {answer}").format(answer=signs)
             + (f" – {found.child_protection_note}" if found.child_protection_note else ""),
             _("Blind spots: {text}").format(text=found.blind_spots or "—"),
             _("Insights: {text}").format(text=found.insights or "—")]
    for action in found.actions:
        who = action.assignee.name if action.assignee else "—"
        when = tr.date(action.due_on, "medium") if action.due_on else "—"
        lines.append(_("Action: {action} ({name}, {date})").format(action=action.text, name=who, date=when))
    return "\n".join(lines)


def as_pdf(tr: Translator, summary: Summary) -> bytes:
    from conversations.milestone.pdf import summary_pdf

    return summary_pdf(tr, summary)
