"""Privacy's own bookkeeping: which key the database was written with, and the counts kept from deleted data.

``key_check`` holds one row: a Fernet token of a fixed text under the key in use, so a start-up with
another key is refused before anything is written with it (:mod:`storage.keys`). During a rotation
``next_token`` holds the same text under the new key; a row of each column is then under one key or
the other, and the rotation can be run again until it is done.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime


class KeyCheck(Base):
    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    token: Mapped[str] = mapped_column(Text)
    next_token: Mapped[str | None] = mapped_column(Text)  # set while a rotation is under way
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RetainedFigure(Base):
    """An anonymous count kept when the data it was counted from is deleted (for the Träger's figures).

    One row per organisation, year, metric (``cases_closed``, ``appointments``, ``minutes_delivered``,
    ``complaints``, ``child_protection``, ...) and key (the help type, outcome, category; "" for none).
    """

    __tablename__ = "retained_figure"
    __table_args__ = (UniqueConstraint("organisation_id", "year", "metric", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    year: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(100), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)


class LinkUse(Base):
    """A signed link from an email that was used (its POST went through): each link works once.

    The link is named by its route, argument and the outbox message it was sent in (:mod:`bot.web.links`).
    Rows older than the links' lifetime are deleted by the purge: by then the link has expired anyway.
    """

    __tablename__ = "link_use"
    __table_args__ = (UniqueConstraint("outbox_id", "route", "arg"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(Integer)
    route: Mapped[str] = mapped_column(String(40))
    arg: Mapped[str] = mapped_column(String(40))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
