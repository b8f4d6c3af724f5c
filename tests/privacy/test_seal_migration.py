"""priv4 on a database that already holds data: what lay in clear is encrypted in place, reads back the same,
and no token of it is readable without the key. Runs on SQLite and on PostgreSQL (a schema of its own)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Table,
    create_engine,
    select,
    text,
)
from sqlalchemy.orm import Session

from storage import crypto
from storage.db import alembic_config, make_engine
from storage.models import Appointment, Escalation, FamilyMember
from tests.conftest import TEST_SECRET

SEALED = "priv4"


@pytest.fixture
def engine(database_url: str, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    if not database_url.startswith("postgresql"):
        engine = make_engine(f"sqlite:///{tmp_path}/old.db")
        yield engine
        engine.dispose()
        return
    schema = f"mig_{secrets.token_hex(4)}"
    url = make_engine(database_url).url
    with create_engine(url).begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with create_engine(url).begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def before_sealing(engine: Engine) -> None:
    """Every migration but priv4 (and what would come after it)."""
    cfg = alembic_config(engine)
    script = ScriptDirectory.from_config(cfg)
    sealing = script.get_revision(SEALED)
    targets = [h for h in script.get_heads() if SEALED not in {r.revision for r in script.iterate_revisions(h, "base")}]
    for target in [*targets, *sealing.down_revision]:
        command.upgrade(cfg, target)


def dummy(column: Any) -> Any:
    kind = column.type
    if isinstance(kind, DateTime):
        return datetime(2027, 3, 1, 9, tzinfo=UTC)
    if isinstance(kind, Date):
        return date(2027, 3, 1)
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 0
    if isinstance(kind, JSON):
        return {}
    return "x"


def insert(conn, table_name: str, /, **values: Any) -> int:  # type: ignore[no-untyped-def]
    """A row with the given values; other required columns get a plain dummy."""
    table = Table(table_name, MetaData(), autoload_with=conn)
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key or column.server_default is not None:
            continue
        row[column.name] = dummy(column)
    return conn.execute(table.insert().values(row)).inserted_primary_key[0]


def test_existing_rows_are_encrypted_in_place_and_read_back_the_same(engine):
    crypto.configure(TEST_SECRET)
    before_sealing(engine)
    with engine.begin() as conn:
        org = insert(conn, "organisation", name="Brücke e.V.")
        case = insert(conn, "case", organisation_id=org, reference="F-2027-0001", title="Familie Yılmaz")
        member = insert(conn, "family_member", case_id=case, first_name="Ayşe", last_name="Yılmaz",
                        birth_date=date(1992, 5, 3), kind="parent", language="tr")
        insert(conn, "family_member", case_id=case, first_name="Leyla", kind="child", language="de")
        insert(conn, "escalation", kind="child_protection", key="cp:1", case_id=case, member_id=member,
               facts={"phrase": "halt* nicht mehr aus", "words": "ich halt das nicht mehr aus"})
        insert(conn, "appointment", case_id=case, kind="hausbesuch", place="Breiter Weg 12, 39104 Magdeburg",
               starts_at=datetime(2027, 3, 9, 9, tzinfo=UTC), duration_minutes=120, outcome="planned")
        plain = conn.execute(text("SELECT birth_date FROM family_member WHERE id = :i"), {"i": member}).scalar()
        assert "1992" in str(plain)

    command.upgrade(alembic_config(engine), "heads")

    with engine.connect() as conn:
        raw = conn.execute(text("SELECT last_name, birth_date FROM family_member ORDER BY id")).all()
        facts = conn.execute(text("SELECT facts FROM escalation")).scalar()
        place = conn.execute(text("SELECT place FROM appointment")).scalar()
    assert raw[0][0].startswith("gAAAAA") and raw[0][1].startswith("gAAAAA") and raw[1] == (None, None)
    assert "nicht mehr" not in str(facts) and "Breiter Weg" not in str(place)
    with Session(engine) as session:
        ayse, leyla = session.scalars(select(FamilyMember).order_by(FamilyMember.id)).all()
        assert (ayse.last_name, ayse.birth_date, leyla.birth_date) == ("Yılmaz", date(1992, 5, 3), None)
        alert = session.scalar(select(Escalation))
        assert alert.facts == {"phrase": "halt* nicht mehr aus", "words": "ich halt das nicht mehr aus"}
        assert session.scalar(select(Appointment.place)) == "Breiter Weg 12, 39104 Magdeburg"
