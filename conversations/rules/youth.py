"""Who counts as a young person, for the form of address (seed 001–003: Augenhöhe; locales/README.md).

Young people are spoken to with du (sen, ти, ты, the Arabic singular) in every flow, notice and letter.
Young means under the age limit on the day (18 unless the organisation or the installation sets another);
a child whose birth date is not recorded counts as young.
"""

from __future__ import annotations

from datetime import date

DEFAULT_AGE_LIMIT = 18
CHILD = "child"  # MemberKind.CHILD (storage), named here to keep the rule free of the database


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def is_young(kind: str, birth_date: date | None, on: date, age_limit: int = DEFAULT_AGE_LIMIT) -> bool:
    if birth_date is None:
        return kind == CHILD
    return age_on(birth_date, on) < age_limit
