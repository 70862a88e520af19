"""A database that is not there: locked, silent, or its sessions ended. StoreUnavailable, quickly.

The served behaviour (503 with Retry-After, membership from memory, recovery) is in
tests/api/test_outage.py.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from store_samples import squares

from tests.store.sqlite_lock import locked_sqlite
from wangge.store import Store, open_store
from wangge.store.backends import CONNECT_TIMEOUT_S
from wangge.store.errors import StoreUnavailable, translate_errors


# a lock held for a moment must not look like minutes: timed, so run alone
@pytest.mark.serial
def test_locked_sqlite_file_is_unavailable_for_reads_and_writes_then_recovers(tmp_path: Path) -> None:
    # timeout: SQLite's busy wait (5 s by default) before it reports "database is locked".
    with open_store(f"sqlite:///{tmp_path / 'wangge.db'}?timeout=0.2") as store:
        store.create_release(squares(4), source="before", make_current=True)
        with locked_sqlite(store):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable) as raised:
                store.releases()
            with pytest.raises(StoreUnavailable):
                store.create_key("during", "viewer")
            with pytest.raises(StoreUnavailable):
                store.audit("GET /", key_id=None, role=None)
            assert time.monotonic() - started < 5
        assert raised.value.code == "store_unavailable"
        assert raised.value.message_zh and raised.value.message_en
        assert [r.source for r in store.releases()] == ["before"]
        assert store.create_key("after", "viewer")[0].name == "after"


def test_a_mistake_in_sql_is_not_an_outage(tmp_path: Path) -> None:
    """SQLite reports bad SQL as OperationalError too; that must stay a bug (500), not a 503."""
    with open_store(f"sqlite:///{tmp_path / 'wangge.db'}") as store, store.engine.connect() as conn:
        with pytest.raises(OperationalError), translate_errors():
            conn.execute(text("SELECT * FROM no_such_table"))


def test_a_server_that_never_answers_gives_up_after_the_connect_timeout() -> None:
    # A listening socket nobody accepts on: TCP connects, the server never speaks.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as raised:
            open_store(f"postgresql+psycopg://nobody:secret@127.0.0.1:{port}/none")
        waited = time.monotonic() - started
    assert CONNECT_TIMEOUT_S - 0.5 <= waited < CONNECT_TIMEOUT_S + 3
    assert "secret" not in raised.value.message_en


def _backend_pid(store: Store) -> int:
    with store.engine.connect() as conn:  # returned to the pool afterwards
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(admin_url: str, pid: int) -> None:
    admin = create_engine(admin_url)
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    finally:
        admin.dispose()


@pytest.mark.postgis
def test_pooled_connection_whose_backend_was_terminated_is_replaced(
        postgis_schema_url: str) -> None:
    with open_store(postgis_schema_url) as store:
        store.create_release(squares(3), source="before", make_current=True)
        pid = _backend_pid(store)
        _terminate(postgis_schema_url, pid)
        # The pre-ping finds the dead connection on checkout and opens another: no error.
        assert [r.source for r in store.releases()] == ["before"]
        assert _backend_pid(store) != pid


@pytest.mark.postgis
def test_session_ended_mid_transaction_is_unavailable_not_a_raw_error(
        postgis_schema_url: str) -> None:
    with open_store(postgis_schema_url) as store:
        with pytest.raises(StoreUnavailable), store._read() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            _terminate(postgis_schema_url, pid)
            conn.execute(text("SELECT 1"))
        assert store.releases() == []  # and the next request finds a working connection
