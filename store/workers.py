"""Grid workers (网格员) in the store: who works in which grid, full-time or not, and their
contacts kept apart as personal data (read only for entitled roles, and audited by the caller).

A mixin of :class:`wangge.store.store.Store`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from wangge.geo.errors import InputError
from wangge.store.frames import rows_frame
from wangge.store.households import _chunks, _records
from wangge.store.revisions import WORKERS, bump_revision
from wangge.store.schema import worker_personal as personal_table
from wangge.store.schema import workers as worker_table

_COLUMNS = ("worker_id", "grid_code", "full_time")


class WorkersMixin:
    """Worker methods of the store; ``_read``/``_write`` come from the Store."""

    _read: Any
    _write: Any

    def replace_workers(self, workers: pd.DataFrame, personal: pd.DataFrame | None = None
                        ) -> int:
        """Replace the whole roster in one transaction: the roster file is the source.

        ``workers`` has ``worker_id, grid_code, full_time``; ``personal`` (optional)
        ``worker_id, name, phone``. Returns the number of workers stored.
        """
        missing = [c for c in _COLUMNS if c not in workers.columns]
        if missing:
            raise InputError(f"网格员名册缺少字段：{'、'.join(missing)}。",
                             f"The worker roster lacks columns {missing}.")
        ids = workers["worker_id"].astype(str)
        if ids.duplicated().any():
            raise InputError("网格员编号重复。", "Worker ids repeat.",
                             worker_ids=sorted(set(ids[ids.duplicated()]))[:20])
        now = datetime.now(UTC)
        rows = [{"worker_id": str(r["worker_id"]), "grid_code": str(r["grid_code"]),
                 "full_time": bool(r["full_time"]), "updated_at": now}
                for r in _records(workers, list(_COLUMNS))]
        with self._write() as conn:
            conn.execute(sa.delete(worker_table))
            bump_revision(conn, WORKERS)
            for chunk in _chunks(rows):
                conn.execute(sa.insert(worker_table), chunk)
            if personal is not None and len(personal):
                pk = dict(conn.execute(sa.select(worker_table.c.worker_id, worker_table.c.id)).all())
                contacts = [{"worker_id": pk[str(r["worker_id"])], "name": r.get("name"),
                             "phone": r.get("phone")}
                            for r in _records(personal, ["worker_id", "name", "phone"])
                            if str(r["worker_id"]) in pk]
                for chunk in _chunks(contacts):
                    conn.execute(sa.insert(personal_table), chunk)
        return len(rows)

    def workers(self) -> pd.DataFrame:
        """The roster without personal data: ``worker_id, grid_code, full_time``."""
        query = sa.select(worker_table.c.worker_id, worker_table.c.grid_code,
                          worker_table.c.full_time).order_by(worker_table.c.grid_code,
                                                             worker_table.c.worker_id)
        with self._read() as conn:
            frame = rows_frame(conn.execute(query).all(), list(_COLUMNS))
        # typed even when empty: a boolean mask of no rows must still select rows, not columns
        return frame.astype({"worker_id": object, "grid_code": object, "full_time": bool})

    def worker_contacts(self, grid_code: str) -> list[dict[str, Any]]:
        """Personal data: the name and phone of each worker of a grid. Callers audit the read."""
        query = (sa.select(worker_table.c.worker_id, worker_table.c.full_time,
                           personal_table.c.name, personal_table.c.phone)
                 .select_from(worker_table.outerjoin(
                     personal_table, personal_table.c.worker_id == worker_table.c.id))
                 .where(worker_table.c.grid_code == grid_code)
                 .order_by(worker_table.c.worker_id))
        with self._read() as conn:
            return [{str(k): v for k, v in row.items()} for row in conn.execute(query).mappings()]

    def workers_version(self) -> str | None:
        """Changes when the roster is replaced (services poll it to reload workers)."""
        with self._read() as conn:
            value = conn.execute(sa.select(sa.func.max(worker_table.c.updated_at))).scalar()
        return value.isoformat() if value else None
