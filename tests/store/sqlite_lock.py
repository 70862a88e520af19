"""Making a store's SQLite file unusable for a while: the "database is locked" outage."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from wangge.store import Store


@contextmanager
def locked_sqlite(store: Store) -> Iterator[None]:
    """Hold an exclusive lock on the store's SQLite file: no other connection may read it.

    Connections in WAL mode keep the file share-locked while open, so the store's pool is
    emptied first (and again if a pooled connection slipped in before the lock was taken).
    """
    path = store.engine.url.database
    assert path is not None
    deadline = time.monotonic() + 10
    while True:
        store.engine.dispose()
        holder = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            holder.execute("PRAGMA locking_mode = EXCLUSIVE")
            holder.execute("BEGIN EXCLUSIVE")
            break
        except sqlite3.OperationalError:
            holder.close()
            assert time.monotonic() < deadline, "could not lock the SQLite file"
            time.sleep(0.01)
    try:
        yield
    finally:
        holder.execute("COMMIT")
        holder.close()  # exclusive locking mode keeps the lock until the connection closes
