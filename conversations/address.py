"""How Wegbegleiter addresses a person: Sie, or du for a young person (sen, ти, ты, the Arabic singular).

Every message to a family member is rendered with :func:`translator_for`; a young person's translator
reads the youth catalog first (:data:`conversations.i18n.YOUTH_DOMAIN`), so flows, notices and letters
never ask who reads them. Young: under the age limit (:mod:`conversations.rules.youth`) on the day, the
limit being the organisation's ``settings["youth"]["age_limit"]``, else the installation's
``WEGBEGLEITER_YOUTH_AGE_LIMIT`` (Settings.youth_age_limit, default 18). Staff are always spoken to
with Sie.
"""

from __future__ import annotations

from datetime import date, datetime

from conversations.clock import BERLIN
from conversations.i18n import Translator, translator
from conversations.rules.youth import DEFAULT_AGE_LIMIT, is_young
from storage.models import FamilyMember, Organisation, StaffMember

_installation = {"age_limit": DEFAULT_AGE_LIMIT}


def configure(age_limit: int) -> None:
    """The installation's age limit (bot.app sets it from Settings.youth_age_limit at start)."""
    _installation["age_limit"] = int(age_limit)


def age_limit(org: Organisation | None) -> int:
    own = ((org.settings or {}).get("youth") or {}).get("age_limit") if org else None
    return int(own) if own is not None else _installation["age_limit"]


def young(person: FamilyMember | StaffMember | None, on: date | datetime) -> bool:
    if not isinstance(person, FamilyMember):
        return False
    day = on.astimezone(BERLIN).date() if isinstance(on, datetime) else on
    return is_young(person.kind, person.birth_date, day, age_limit(person.case.organisation))


def translator_for(person: FamilyMember | StaffMember | None, on: date | datetime,
                   language: str | None = None) -> Translator:
    """The translator for this person on that day: their language, and du if they are young."""
    return translator(language or (person.language if person else None), youth=young(person, on))
