"""Demo data of the Hilfeplan calendar (issue 18): the Yılmaz case's Hilfeplan dates (SCENARIOS.md cast).

Called by `wegbegleiter demo` after :func:`bot.demo.seed`; tests call it when they want the dates.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.demo import ACTOR
from conversations.context import Services

# The Yılmaz Hilfeplan (issue 18): the Hilfeplangespräch a week before the help began on 1 September 2026,
# the Konkretisierung seven weeks later, and the first Fortschreibung (due 1 March 2027) planned for
# Thursday 25 February 2027, so its Entwicklungsbericht is due on 11 February.
YILMAZ_PARTICIPANTS = ["Ayşe Yılmaz", "Murat Yılmaz", "Emre Yılmaz", "Jana Weber", "Tobias Klein",
                       "Dr. Katrin Schulz"]


def hilfeplan_dates(session: Session, services: Services) -> None:
    """Give the Yılmaz case its Hilfeplan calendar, once (the `demo` command; tests call it when they want it)."""
    from conversations.clock import berlin
    from conversations.hilfeplan import core as hilfeplan
    from storage.models import Case
    from storage.models.hilfeplan import HilfeplanTalk

    case = session.scalar(select(Case).where(Case.title == "Familie Yılmaz"))
    if case is None or case.closed_at is not None or session.scalar(
            select(HilfeplanTalk.id).where(HilfeplanTalk.case_id == case.id)):
        return
    now = services.clock.now()
    first = hilfeplan.add_talk(session, services, ACTOR, now, case, "hilfeplan", berlin(2026, 8, 25, 10, 0),
                               YILMAZ_PARTICIPANTS, place="Jugendamt Magdeburg-Nord")
    hilfeplan.add_talk(session, services, ACTOR, now, case, "konkretisierung", berlin(2026, 10, 13, 10, 0),
                       ["Ayşe Yılmaz", "Jana Weber", "Dr. Katrin Schulz"], place="bei Familie Yılmaz")
    hilfeplan.add_talk(session, services, ACTOR, now, case, "fortschreibung", berlin(2027, 2, 25, 10, 0),
                       YILMAZ_PARTICIPANTS, place="Jugendamt Magdeburg-Nord")
    from conversations import authz

    for item in hilfeplan.items(session, case, include_done=False):
        if item.talk_id == first.id:  # the signed plan and the Kostenzusage of August arrived long ago
            hilfeplan.mark_done(session, authz.OPERATOR, now, item)
