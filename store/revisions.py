"""Revision counters: one number per kind of data, bumped in the same transaction as every
write to it, so any process can tell whether what it derived from that data is still exact
(counts per unit, a coverage, a page drawn from them) with one small read.

``households``: the households (their places and sizes) and their assignments to units;
``sites``: the service sites; ``workers``: the roster of grid workers; ``networks``: the
walking networks. A counter is 0 until its first bump.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from wangge.store.schema import revisions as revision_table

HOUSEHOLDS = "households"
SITES = "sites"
WORKERS = "workers"
NETWORKS = "networks"
NAMES = (HOUSEHOLDS, SITES, WORKERS, NETWORKS)


def bump_revision(conn: Connection, name: str) -> None:
    """Add one to the revision ``name`` (starting it at 1), inside the caller's transaction."""
    insert = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    conn.execute(insert(revision_table).values(name=name, value=1).on_conflict_do_update(
        index_elements=["name"], set_={"value": revision_table.c.value + 1}))


def read_revision(conn: Connection, name: str) -> int:
    """The revision ``name``."""
    value = conn.execute(sa.select(revision_table.c.value)
                         .where(revision_table.c.name == name)).scalar_one_or_none()
    return int(value or 0)


class RevisionsMixin:
    """The counters, read together. A mixin of :class:`wangge.store.store.Store`."""

    _read: Any

    def revisions(self) -> dict[str, int]:
        """Every revision by name, in one read."""
        with self._read() as conn:
            found = dict(conn.execute(sa.select(revision_table.c.name, revision_table.c.value)).all())
        return {name: int(found.get(name) or 0) for name in NAMES}
