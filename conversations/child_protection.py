"""Signals that a child may be at risk (seed 004, "Kinderschutz", "Krisenintervention"; DOMAIN.md).

Every free text a family member sends passes :func:`screen` before the flow sees it. A hit answers at
once with help that works now (110/112, Nummer gegen Kummer, Elterntelefon, the Träger's own number)
and alerts the case's Fachkräfte and the Träger's Leitung urgently (chat and email, past quiet hours),
with the message. The screen only adds replies: the flow the person was in continues. Nothing is decided
automatically; the alert stays open until a person marks it handled (button, email link, CLI). One still
open two hours into the next working hours is raised again, once.

The phrases are data (``conversations/data/danger_phrases.toml``): curated per language, compared after
normalising case, diacritics and repeated letters, with one typo allowed in longer words. All languages
are screened for everyone: a Turkish-speaking mother may write German, a child may mix.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from conversations import admin, authz
from conversations.context import Context, Services, audit
from conversations.escalations import (
    CHILD_PROTECTION,
    REMINDER_TEXTS,
    REMINDERS,
    ack_choice,
    create,
    leitung,
    tell,
)
from conversations.i18n import N_, Translator
from conversations.messages import Choice, Reply
from conversations.registry import REGISTRY, Action, Audience, Command
from conversations.rules.quiet_hours import QuietHours
from storage.models import Escalation, FamilyMember, Organisation, StaffMember

PHRASES_FILE = Path(__file__).parent / "data" / "danger_phrases.toml"
MAX_GAP = 2  # other words allowed between two words of a phrase
TELL_ACTION = "cp_tell"

# --- normalising -------------------------------------------------------------------------------------
_FOLD = str.maketrans({
    "ı": "i",  # Turkish dotless i
    "ى": "ي", "ة": "ه", "ـ": None,  # Arabic: alef maqsura, ta marbuta, tatweel
    "'": None, "’": None, "ʼ": None, "`": None, "´": None,  # apostrophes join ("б'є", "don't")
    "ё": "е",
})
_NOT_WORD = re.compile(r"[^\w\s]+|_")
_REPEATS = re.compile(r"(\w)\1+")


def normalise(text: str) -> list[str]:
    """Words of ``text`` without case, diacritics, punctuation and repeated letters."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD)
    plain = _NOT_WORD.sub(" ", plain)
    return _REPEATS.sub(r"\1", plain).split()


# --- phrases ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Word:
    core: str
    prefix: bool = False  # "*word": the text's word may start with anything
    suffix: bool = False  # "word*": the text's word may end with anything

    def matches(self, token: str, typos: bool) -> bool:
        return _similar(self.core, token, self.prefix, self.suffix, typos)


@dataclass(frozen=True)
class Phrase:
    text: str  # as written in the list (shown to staff: "recognised: …")
    language: str
    words: tuple[Word, ...]


def parse(text: str, language: str) -> Phrase | None:
    words: list[Word] = []
    for raw in text.split():
        cores = normalise(raw.strip("*"))
        for i, core in enumerate(cores):
            words.append(Word(core, prefix=raw.startswith("*") and i == 0,
                              suffix=raw.endswith("*") and i == len(cores) - 1))
    return Phrase(text, language, tuple(words)) if words else None


def phrases_from(data: Mapping[str, object]) -> list[Phrase]:
    result = []
    for language, entry in data.items():
        items = entry.get("phrases", []) if isinstance(entry, Mapping) else entry
        for text in items if isinstance(items, Iterable) else ():
            phrase = parse(str(text), language)
            if phrase:
                result.append(phrase)
    return result


@cache
def curated() -> tuple[Phrase, ...]:
    with PHRASES_FILE.open("rb") as fh:
        return tuple(phrases_from(tomllib.load(fh)))


def phrases_for(org: Organisation | None) -> Compiled:
    """The curated list plus the organisation's own phrases, indexed (once per distinct list)."""
    extra = ((org.settings or {}).get("child_protection") or {}).get("extra_phrases") if org else None
    key = tuple(sorted((lang, tuple(map(str, items))) for lang, items in (extra or {}).items()))
    return _compiled_with(key)


@lru_cache(maxsize=64)
def _compiled_with(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> Compiled:
    return compile_phrases((*curated(), *phrases_from(dict(extra))))


# --- matching ----------------------------------------------------------------------------------------------
def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two letters is one typo), cut off above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=200_000)
def _similar(core: str, token: str, prefix: bool, suffix: bool, typos: bool) -> bool:
    if prefix and suffix:
        return core in token
    if suffix:
        return token.startswith(core)
    if prefix:
        return token.endswith(core)
    if core == token:
        return True
    if not typos or core[:1] != token[:1]:
        return False
    # Short words get no typo ("hat mich" is not "haut mich"), nor a wrong first letter ("besser" is not
    # "messer"): people rarely mistype the first letter, and most everyday look-alikes differ there.
    limit = 2 if len(core) >= 9 else 1 if len(core) >= 5 else 0
    return limit > 0 and _distance(core, token, limit) <= limit


@dataclass(frozen=True)
class Compiled:
    """A phrase list indexed for screening: a message costs dictionary look-ups, not a scan of every phrase."""

    phrases: tuple[Phrase, ...]
    plain: Mapping[str, tuple[Word, ...]]  # exact word → the words it is
    starts: Mapping[str, tuple[Word, ...]]  # "word*" by its core
    ends: Mapping[str, tuple[Word, ...]]  # "*word"
    contains: Mapping[str, tuple[Word, ...]]  # "*word*"
    longest: int  # the longest core of a "*word*"
    typo_prone: Mapping[str, tuple[Word, ...]]  # by first letter: plain words long enough for a typo
    squeezed: tuple[tuple[Phrase, str], ...]  # phrases of several plain words, without spaces
    by_first: Mapping[Word, tuple[int, ...]]  # positions of the phrases that begin with this word


def _index(words: Iterable[Word]) -> dict[str, tuple[Word, ...]]:
    grouped: dict[str, list[Word]] = {}
    for word in words:
        grouped.setdefault(word.core, []).append(word)
    return {k: tuple(v) for k, v in grouped.items()}


def compile_phrases(phrases: tuple[Phrase, ...]) -> Compiled:
    words = {w for p in phrases for w in p.words}
    plain = [w for w in words if not (w.prefix or w.suffix)]
    contains = [w for w in words if w.prefix and w.suffix]
    typo_prone: dict[str, list[Word]] = {}
    for word in plain:
        if len(word.core) >= 5:
            typo_prone.setdefault(word.core[0], []).append(word)
    return Compiled(
        phrases=phrases,
        plain=_index(plain),
        starts=_index(w for w in words if w.suffix and not w.prefix),
        ends=_index(w for w in words if w.prefix and not w.suffix),
        contains=_index(contains),
        longest=max((len(w.core) for w in contains), default=0),
        typo_prone={k: tuple(v) for k, v in typo_prone.items()},
        # "zu hause" / "zuhause", "my self": several plain words also match without spaces.
        squeezed=tuple((p, "".join(w.core for w in p.words)) for p in phrases
                       if len(p.words) > 1 and not any(w.prefix or w.suffix for w in p.words)),
        by_first=_by_first(phrases),
    )


def _by_first(phrases: tuple[Phrase, ...]) -> dict[Word, tuple[int, ...]]:
    grouped: dict[Word, list[int]] = {}
    for position, phrase in enumerate(phrases):
        grouped.setdefault(phrase.words[0], []).append(position)
    return {k: tuple(v) for k, v in grouped.items()}


def _words_at(compiled: Compiled, token: str) -> set[Word]:
    """The phrase words this token is, exactly or by a wildcard."""
    found = set(compiled.plain.get(token, ()))
    for k in range(1, len(token) + 1):
        found.update(compiled.starts.get(token[:k], ()))
        found.update(compiled.ends.get(token[-k:], ()))
    for i in range(len(token)):
        for j in range(i + 1, min(len(token), i + compiled.longest) + 1):
            found.update(compiled.contains.get(token[i:j], ()))
    return found


def _typos_at(compiled: Compiled, token: str) -> set[Word]:
    return {w for w in compiled.typo_prone.get(token[:1], ()) if w.matches(token, True)}


def _in_order(words: tuple[Word, ...], at: list[set[Word]], word: int = 0, start: int = 0) -> bool:
    """``words`` occur in this order, the first anywhere, each next within MAX_GAP other words."""
    end = len(at) if word == 0 else min(start + MAX_GAP + 1, len(at))
    for position in range(start, end):
        if words[word] in at[position] and (word + 1 == len(words) or _in_order(words, at, word + 1, position + 1)):
            return True
    return False


def find(text: str, phrases: Compiled | Iterable[Phrase]) -> Phrase | None:
    """A phrase that occurs in ``text`` (one written exactly, if any, so staff see the closest), or None."""
    tokens = normalise(text)
    if not tokens:
        return None
    compiled = phrases if isinstance(phrases, Compiled) else compile_phrases(tuple(phrases))
    joined = "".join(tokens)
    at = [_words_at(compiled, token) for token in tokens]
    for typos in (False, True):
        if typos:
            at = [found | _typos_at(compiled, token) for found, token in zip(at, tokens, strict=True)]
        present = set().union(*at)
        candidates = sorted({i for w in present for i in compiled.by_first.get(w, ())})  # in list order
        for phrase in (compiled.phrases[i] for i in candidates):
            if all(w in present for w in phrase.words) and _in_order(phrase.words, at):
                return phrase
        if not typos:
            hit = next((p for p, squeezed in compiled.squeezed if squeezed in joined), None)
            if hit is not None:
                return hit
    return None


# --- what the person sees ----------------------------------------------------------------------------
def help_lines(tr: Translator, org: Organisation | None) -> list[str]:
    _ = tr.gettext
    lines = [
        _("Help right now, day and night:"),
        "• " + _("Emergency: 110 (police) or 112 (ambulance)"),
        "• " + _("Nummer gegen Kummer for children and young people: 116 111 (free, anonymous)"),
        "• " + _("Elterntelefon for parents: 0800 111 0 550 (free, anonymous)"),
    ]
    if org and org.phone:
        lines.append("• " + (_("{org}: {phone} ({hours})") if org.phone_hours else _("{org}: {phone}")).format(
            org=org.name, phone=org.phone, hours=org.phone_hours or ""))
    return lines


# --- raising an alert -----------------------------------------------------------------------------------
# An alert still open this long after the start of the next working hours is raised again (e.g. 23:10 →
# 10:00 the next morning), in case the night's messages were not seen.
REMIND_AFTER = timedelta(hours=2)


def alert_message(alert: Escalation, *, reminder: bool = False) -> Callable[[Translator], Reply]:
    member, case = alert.member, alert.case
    phrase = alert.facts.get("phrase")

    def render(tr: Translator) -> Reply:
        _ = tr.gettext
        name = member.first_name if member else "—"
        if phrase:
            said = [_("{name} ({ref}) wrote at {when}:").format(name=name, ref=case.reference,
                                                               when=tr.when(alert.created_at)),
                    f"“{alert.message}”",
                    _("Recognised: “{phrase}”.").format(phrase=phrase)]
        else:
            said = [_("{name} ({ref}) pressed “Tell my Fachkräfte now” in the emergency help at {when}.").format(
                name=name, ref=case.reference, when=tr.when(alert.created_at))]
        head = [_("Still open: nobody has marked this alert as handled yet."), ""] if reminder else []
        return Reply("\n".join([
            *head,
            _("Urgent: a message that may point to a risk for a child."), "", *said, "",
            _("Wegbegleiter showed the emergency numbers and decides nothing itself. Please look at it now, "
              "follow your Kinderschutz procedure (§ 8a SGB VIII), and mark the alert as handled when "
              "someone has taken it on."),
        ]), [ack_choice(tr, alert)])

    return render


def alert_subject(alert: Escalation) -> Callable[[Translator], str]:
    return lambda tr: tr.gettext("Urgent: possible risk for a child – case {ref}").format(ref=alert.case.reference)


def alerted(session: Session, alert: Escalation) -> list[StaffMember]:
    return [*admin.team(alert.case), *leitung(session, alert.case.organisation)]


def raise_alert(session: Session, services: Services, member: FamilyMember, *, key: str, message: str,
                phrase: Phrase | None) -> Escalation | None:
    """Record the alert and alert the Fachkräfte and the Leitung urgently; None if this key was seen."""
    now = services.clock.now()
    case = member.case
    alert = create(session, Escalation(
        kind=CHILD_PROTECTION, key=key, case_id=case.id, member_id=member.id, message=message, created_at=now,
        due_at=QuietHours.parse(services.settings.quiet_hours).next_allowed(now) + REMIND_AFTER,
        facts={"phrase": phrase.text if phrase else None, "language": phrase.language if phrase else None,
               "source": "message" if phrase else "button"},
    ))
    if alert is None:
        return None
    audit(session, at=now, actor=f"member:{member.id}", action="child_protection.alert", object_type="escalation",
          object_id=alert.id, case_id=case.id, source=alert.facts["source"])
    tell(session, alert, alerted(session, alert), "alert", alert_message(alert), now=now,
         subject=alert_subject(alert), email=True, urgent=True)
    return alert


def remind_open_alert(session: Session, alert: Escalation, now: datetime) -> None:
    tell(session, alert, alerted(session, alert), "reminder", alert_message(alert, reminder=True), now=now,
         subject=alert_subject(alert), email=True, urgent=True)


def screen(ctx: Context) -> None:
    """Text screen: on a danger phrase, answer with help and raise an alert; the flow continues."""
    member = ctx.member
    if member is None or not ctx.text:
        return
    org = member.case.organisation
    phrase = find(ctx.text, phrases_for(org))
    if phrase is None:
        return
    incoming = ctx.incoming
    raise_alert(ctx.session, ctx.services, member, key=f"child_protection:{incoming.channel}:{incoming.event_id}",
                message=ctx.text, phrase=phrase)
    _ = ctx._
    ctx.say("\n".join([
        _("Thank you for writing to me. What you wrote sounds serious. You do not have to cope with it alone."),
        "", *help_lines(ctx.tr, org), "",
        _("I have passed your message on to your Fachkräfte at {org}.").format(org=org.name),
    ]))


def emergency(ctx: Context, _arg: str) -> None:
    """The explicit "Notfall" command and menu entry: the numbers, and a way to reach the Fachkräfte."""
    _ = ctx._
    org = ctx.member.case.organisation if ctx.member else (ctx.staff.organisation if ctx.staff else None)
    choices = [Choice(_("Tell my Fachkräfte now"), f"act:{TELL_ACTION}:")] if ctx.member else []
    ctx.say("\n".join(help_lines(ctx.tr, org)), choices)
    ctx.resume()


def tell_fachkraefte(ctx: Context, _arg: str) -> None:
    member = ctx.member
    if member is None or not authz.may_raise_alert(ctx.principal, member.case):
        ctx.say(ctx._("That button is no longer valid. Nothing was changed."))
        return ctx.resume()
    incoming = ctx.incoming
    raise_alert(ctx.session, ctx.services, member, key=f"child_protection:{incoming.channel}:{incoming.event_id}",
                message="(emergency button)", phrase=None)
    ctx.say(ctx._("I have told your Fachkräfte at {org}. Please call 110 or 112 if you are in danger now.").format(
        org=member.case.organisation.name))
    ctx.resume()


REGISTRY.text_screens.append(screen)
REMINDERS[CHILD_PROTECTION] = remind_open_alert
REMINDER_TEXTS[CHILD_PROTECTION] = alert_message
REGISTRY.command(Command("emergency", {"de": "notfall", "en": "emergency", "tr": "acil"},
                         N_("Emergency help"), emergency, Audience.ANYONE, in_menu=True,
                         aliases=("sos", "notruf", "hilfe_notfall")))
REGISTRY.action(Action(TELL_ACTION, tell_fachkraefte, Audience.FAMILY))
