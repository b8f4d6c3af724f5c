"""The questionnaire's questions, in three versions: adults (Sie), young people (du, simpler), Fachkräfte.

Topics follow seed 000: a) the Eigenverantwortungsblätter (what the family took on itself since the last
review, and how it went), each Hilfeplan goal (reached · partly · not yet · don't know, then why, then "is
this goal still right for you?"), the home
visits, contact with the children, how each child is doing, the cooperation, wishes, a complaint (passed to
the complaint office only with consent), and anything else; the Fachkräfte also get h) "what would you
like to be different or better". Every question can be skipped; free text and voice notes fit everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from conversations.i18n import N_, Translator
from conversations.milestone.core import level_label
from conversations.rules.milestone import GoalRating, Version

SKIP = "skip"
FACES = ("1", "2", "3", "4", "5")
FACE_LABELS = {"1": "😞", "2": "🙁", "3": "😐", "4": "🙂", "5": "😄"}


@dataclass(frozen=True)
class Facts:
    """What the questions mention: names, the date, the goals and the children."""

    version: Version
    first_name: str
    leader: str
    team: list[str]
    when: str  # the meeting's date, already in the reader's language
    case_title: str
    organisation: str
    goals: list[tuple[int, str, str]]  # (id, level, text)
    children: list[tuple[int, str]]  # (member id, first name)
    self_member_id: int | None = None  # a young person answering about themselves


@dataclass(frozen=True)
class Question:
    key: str
    topic: str  # for the summary: goal, why, visits, contact, child, cooperation, wishes, complaint, ...
    text: Callable[[Translator], str]
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label; already translated or N_)
    free_text: bool = True  # a typed text (or voice note) is an answer too
    short: Callable[[Translator], str] = lambda tr: ""  # a label for the summary and "change an answer"


def team_names(tr: Translator, team: list[str]) -> str:
    if not team:
        return tr.gettext("your Fachkräfte")
    if len(team) == 1:
        return team[0]
    return tr.gettext("{first} and {last}").format(first=", ".join(team[:-1]), last=team[-1])


RATING = {
    Version.ADULT: [(GoalRating.REACHED, N_("Reached")), (GoalRating.PARTLY, N_("Partly")),
                    (GoalRating.NOT_YET, N_("Not yet")), (GoalRating.UNKNOWN, N_("I don't know"))],
    Version.YOUTH: [(GoalRating.REACHED, N_("Yes")), (GoalRating.PARTLY, N_("A bit")),
                    (GoalRating.NOT_YET, N_("Not yet")), (GoalRating.UNKNOWN, N_("Don't know"))],
}
RATING[Version.STAFF] = RATING[Version.ADULT]
FREQUENCY = {
    Version.ADULT: [("too_few", N_("Too few")), ("right", N_("About right")), ("too_many", N_("Too many"))],
    Version.YOUTH: [("too_few", N_("Too rarely")), ("right", N_("Just right")), ("too_many", N_("Too often"))],
}
FREQUENCY[Version.STAFF] = FREQUENCY[Version.ADULT]
CONTACT = {  # contact is an amount, not a count: "too little", not "too few"
    Version.ADULT: [("too_little", N_("Too little")), ("right", N_("About right")), ("too_much", N_("Too much"))],
    Version.YOUTH: FREQUENCY[Version.YOUTH],
}
CONTACT[Version.STAFF] = CONTACT[Version.ADULT]
WELLBEING = {
    Version.ADULT: [("good", N_("Well")), ("mixed", N_("Partly well")), ("bad", N_("Not well"))],
    Version.YOUTH: [("good", N_("Good")), ("mixed", N_("So-so")), ("bad", N_("Not good"))],
}
WELLBEING[Version.STAFF] = WELLBEING[Version.ADULT]
CONSENT = [("yes", N_("Yes, pass it on")), ("no", N_("No, only for the talk"))]
STILL_RIGHT = [("fits", N_("Yes, still right")), ("change", N_("It should change")), ("no_longer", N_("No longer right"))]

# Every label a stored answer value may have, for the summaries (German/English readers alike).
VALUE_LABELS: dict[str, str] = {
    **{v: lbl for v, lbl in RATING[Version.ADULT]},
    **{v: lbl for v, lbl in FREQUENCY[Version.ADULT]},
    **{v: lbl for v, lbl in CONTACT[Version.ADULT]},
    **{v: lbl for v, lbl in WELLBEING[Version.ADULT]},
    **{v: lbl for v, lbl in CONSENT},
    **{v: lbl for v, lbl in STILL_RIGHT},
}


def quote(tr: Translator, text: str) -> str:
    """A person's own words, in the quotation marks of the reader's language."""
    return f"„{text}“" if tr.lang == "de" else f"“{text}”"


def value_label(tr: Translator, topic: str, value: str) -> str:
    if topic == "cooperation" and value in FACE_LABELS:
        return f"{FACE_LABELS[value]} ({value}/5)"
    label = VALUE_LABELS.get(value)
    return tr.gettext(label) if label else value


def questions(facts: Facts) -> list[Question]:
    """The questions for one person, in order. ``why:<goal>`` follows each goal's rating."""
    v = facts.version
    youth, staff = v == Version.YOUTH, v == Version.STAFF
    result: list[Question] = []
    # a) Eigenverantwortungsblätter: what the family took on itself since the last review, and how it went
    if youth:
        own = lambda tr: tr.gettext("What have you taken care of yourself since the last meeting? "  # noqa: E731
                                    "Write it or send a voice message.")
    elif staff:
        own = lambda tr: tr.gettext("What did the family take on itself since the last review "  # noqa: E731
                                    "(Eigenverantwortungsblätter)?")
    else:
        own = lambda tr: tr.gettext("Since the last review: what have you taken on yourselves (the "  # noqa: E731
                                    "Eigenverantwortungsblätter)? Please tell me in your own words.")
    result.append(Question("own", "own", own, short=lambda tr: tr.gettext("What the family took on itself")))
    result.append(Question("own_how", "own_how", lambda tr: tr.gettext("And how did it go?"), WELLBEING[v],
                           short=lambda tr: tr.gettext("How it went")))
    total = len(facts.goals)
    for number, (goal_id, level, text) in enumerate(facts.goals, start=1):
        def goal_text(tr: Translator, n: int = number, level: str = level, text: str = text) -> str:
            if youth:
                return tr.gettext("Goal {n} of {total}: “{goal}”\nHas this worked out, do you think?").format(
                    n=n, total=total, goal=text)
            return tr.gettext("{level} {n} of {total}: “{goal}”\nHow far has it been reached, in your view?").format(
                level=level_label(tr, level), n=n, total=total, goal=text)

        def goal_short(tr: Translator, text: str = text) -> str:
            return tr.gettext("Goal: {goal}").format(goal=text[:60])

        result.append(Question(f"goal:{goal_id}", "goal", goal_text, RATING[v], short=goal_short))
        result.append(Question(
            f"why:{goal_id}", "why",
            (lambda tr: tr.gettext("Why do you think so? Write it or send a voice message.")) if youth else
            (lambda tr: tr.gettext("Why? Please tell me in your own words. You can write or send a voice message.")),
            short=lambda tr, text=text: tr.gettext("Why: {goal}").format(goal=text[:60])))
        still = ((lambda tr: tr.gettext("Does this goal still fit for you?")) if youth else
                 (lambda tr: tr.gettext("Is this goal still right?")) if staff else
                 (lambda tr: tr.gettext("Is this goal still right for you?")))
        result.append(Question(f"fits:{goal_id}", "fits", still, STILL_RIGHT, free_text=True,
                               short=lambda tr, text=text: tr.gettext("Still right: {goal}").format(goal=text[:60])))

    team = lambda tr: team_names(tr, facts.team)  # noqa: E731
    if youth:
        visits = lambda tr: tr.gettext("{team} come to your home. Does that happen…").format(team=team(tr))  # noqa: E731
        contact = lambda tr: tr.gettext("How often do you talk with {team}? Is that…").format(team=team(tr))  # noqa: E731
    elif staff:
        visits = lambda tr: tr.gettext("Home visits in this family: are there…")  # noqa: E731
        contact = lambda tr: tr.gettext("Your contact with the children: is it…")  # noqa: E731
    else:
        visits = lambda tr: tr.gettext("How often do your Fachkräfte visit you at home? Are there…")  # noqa: E731
        contact = lambda tr: tr.gettext("How often do the Fachkräfte have contact with your children? Is it…")  # noqa: E731
    result.append(Question("visits", "visits", visits, FREQUENCY[v], short=lambda tr: tr.gettext("Home visits")))
    result.append(Question("contact", "contact", contact, CONTACT[v],
                           short=lambda tr: tr.gettext("Contact with the children")))

    for member_id, name in facts.children:
        if youth and member_id == facts.self_member_id:
            child_text = lambda tr: tr.gettext("How are you doing at the moment?")  # noqa: E731
        elif youth:
            child_text = lambda tr, name=name: tr.gettext("How is {child} doing, do you think?").format(child=name)  # noqa: E731
        else:
            child_text = lambda tr, name=name: tr.gettext("How is {child} doing at the moment?").format(child=name)  # noqa: E731
        result.append(Question(f"child:{member_id}", "child", child_text, WELLBEING[v],
                               short=lambda tr, name=name: tr.gettext("How {child} is doing").format(child=name)))

    faces = [(f, FACE_LABELS[f]) for f in FACES]
    if youth:
        coop = lambda tr: tr.gettext("How do you get on with {team}? 😞 = bad, 😄 = great").format(team=team(tr))  # noqa: E731
    elif staff:
        coop = lambda tr: tr.gettext("How do you find the cooperation with the family? 😞 = poor, 😄 = very good")  # noqa: E731
    else:
        coop = lambda tr: tr.gettext("How do you find the cooperation with your Fachkräfte? "  # noqa: E731
                                     "😞 = poor, 😄 = very good")
    result.append(Question("cooperation", "cooperation", coop, faces, short=lambda tr: tr.gettext("Cooperation")))

    if youth:
        wishes = lambda tr: tr.gettext("What would you wish for? Write it or send a voice message.")  # noqa: E731
    elif staff:
        wishes = lambda tr: tr.gettext("What do you wish for the further course of the help?")  # noqa: E731
    else:
        wishes = lambda tr: tr.gettext("What do you wish for from the help? Please tell me in your own words.")  # noqa: E731
    result.append(Question("wishes", "wishes", wishes, short=lambda tr: tr.gettext("Wishes")))

    if staff:
        result.append(Question(
            "better", "better",
            lambda tr: tr.gettext("What would you like to be different or better, for example in the cooperation?"),
            short=lambda tr: tr.gettext("What should be different or better")))
        # Seed 000: critical topics are agreed beforehand, so that the leader can raise them as an outsider.
        result.append(Question(
            "critical", "critical",
            lambda tr: tr.gettext("Is there a critical topic that {leader} should raise as an outsider in the "
                                  "talk? The family does not see this.").format(leader=facts.leader),
            short=lambda tr: tr.gettext("Critical topic for the talk")))
    else:
        complaint = (
            (lambda tr: tr.gettext("Is there something that annoys you or that you want to complain about? "
                                   "If not, just press “Skip”.")) if youth else
            (lambda tr: tr.gettext("Is there something you are unhappy with or want to complain about? "
                                   "If not, just press “Skip”.")))
        result.append(Question("complaint", "complaint", complaint, short=lambda tr: tr.gettext("Complaint")))
        result.append(Question(
            "complaint_consent", "complaint_consent",
            lambda tr: tr.gettext("Shall I also pass this on to the complaint office of {org}? They will take care "
                                  "of it. If not, it stays for the talk only.").format(org=facts.organisation),
            CONSENT, free_text=False, short=lambda tr: tr.gettext("Pass the complaint on")))

    anything = ((lambda tr: tr.gettext("Anything else you want to say?")) if youth else
                (lambda tr: tr.gettext("Is there anything else you would like to say?")))
    result.append(Question("else", "else", anything, short=lambda tr: tr.gettext("Anything else")))
    return result
