"""Deleting rows together with everything that points at them, found through the foreign keys.

Purging a case must reach every table that holds its data, including tables added later by other jobs:
instead of a list to keep up to date, :func:`erase` follows the schema. Rows of tables that point at
the deleted rows are deleted first (counted per table); a foreign key declared ``ON DELETE SET NULL``
is left to the database; a table named in ``keep`` is never deleted from: its pointer is set to NULL,
or, where it cannot be NULL, :class:`StillReferenced` is raised (a retention rule is in the wrong order).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlalchemy.orm import Session

from storage.models import Base


class StillReferenced(RuntimeError):
    """A row to delete is still needed by a row that must be kept."""


def referencing(table: Table) -> list[tuple[Table, object]]:
    """(child table, foreign key) for every foreign key in the schema that points at ``table``."""
    found = []
    for child in Base.metadata.sorted_tables:
        for fk in child.foreign_keys:
            if fk.column.table is table:
                found.append((child, fk))
    return found


def erase(session: Session, table: Table, where: ColumnElement[bool], counts: Counter[str],
          keep: Collection[str] = ()) -> int:
    """Delete the rows of ``table`` matching ``where`` and, first, the rows depending on them."""
    for child, fk in referencing(table):
        if child is table:
            continue
        column = fk.parent
        pointing = column.in_(select(fk.column).where(where))
        if (fk.ondelete or "").upper() == "SET NULL":
            continue
        if child.name in keep:
            if not column.nullable:
                raise StillReferenced(f"{child.name}.{column.name} still points at {table.name} rows being deleted")
            session.execute(update(child).where(pointing).values({column.name: None}))
            continue
        erase(session, child, pointing, counts, keep)
    deleted = session.execute(delete(table).where(where)).rowcount or 0
    if deleted:
        counts[table.name] += deleted
    return deleted
