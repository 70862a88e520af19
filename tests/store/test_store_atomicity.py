"""All or nothing: failed imports, concurrent publishing, a process killed mid-import."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text, update
from store_samples import snapshot, squares

from wangge.geo.errors import Conflict, InputError
from wangge.store import Store, open_store
from wangge.store.errors import translate_errors
from wangge.store.schema import releases


def test_duplicate_code_is_a_conflict_and_nothing_is_written(store: Store) -> None:
    store.create_release(squares(5), source="before", make_current=True)
    before = snapshot(store)
    units = squares(50)
    units.loc[49, "code"] = units.loc[3, "code"]  # the last row repeats an earlier code

    with pytest.raises(Conflict) as raised:
        store.create_release(units, source="duplicates", make_current=True)

    assert raised.value.detail == {"constraint": "uq_units_release_id_code"}
    assert "编码重复" in raised.value.message_zh and "Duplicate unit code" in raised.value.message_en
    assert snapshot(store) == before


def test_failure_at_the_last_row_leaves_the_store_as_before(store: Store) -> None:
    store.create_release(squares(5), source="before", make_current=True)
    store.create_release(squares(3), source="draft", error_count=2)
    before = snapshot(store)
    units = squares(3000)
    units.loc[len(units) - 1, "level"] = "building"  # breaks the level check, last of all

    with pytest.raises(InputError) as raised:
        store.create_release(units, source="bad level", make_current=True)

    assert raised.value.detail == {"constraint": "ck_units_level"}
    assert snapshot(store) == before
    # The failed transaction left nothing behind: the next import works.
    info = store.create_release(squares(3000), source="good", make_current=True)
    assert store.current_release() == info and info.unit_count == 3000


def test_missing_required_value_is_an_input_error(store: Store) -> None:
    units = squares(4)
    units["code"] = units["code"].astype(object)
    units.loc[3, "code"] = None
    with pytest.raises(InputError) as raised:
        store.create_release(units, source="no code")
    assert raised.value.detail == {"column": "code"}
    assert store.releases() == []


def test_database_itself_refuses_a_second_current_release(store: Store) -> None:
    first = store.create_release(squares(1), source="a", make_current=True)
    second = store.create_release(squares(1), source="b")
    make_second_current = (
        update(releases).where(releases.c.id == second.id)
        .values(is_current=True, published_at=datetime.now(UTC))
    )
    with pytest.raises(Conflict) as raised, translate_errors(), store.engine.begin() as conn:
        conn.execute(make_second_current)
    assert raised.value.detail == {"constraint": "uq_releases_is_current"}
    assert store.current_release() == first


def test_concurrent_make_current_leaves_exactly_one_current(store: Store) -> None:
    ids = [store.create_release(squares(2), source=f"r{i}").id for i in range(6)]
    failures: list[BaseException] = []

    def publish(release_id: int) -> None:
        try:
            for _ in range(5):
                store.make_current(release_id)
        except BaseException as exc:  # collected and reported by the test thread
            failures.append(exc)

    threads = [threading.Thread(target=publish, args=(rid,)) for rid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    current = [info for info in store.releases() if info.is_current]
    assert len(current) == 1
    assert all(info.published_at is not None for info in store.releases())


def test_sqlite_connection_settings(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'a' / 'b' / 'wangge.db'}") as store:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


# The child process: opens the store, starts a big import, and pauses inside the import's
# transaction just before the R-tree rows are written, after all units were inserted (so the
# uncommitted pages have spilled to disk). It tells the parent by creating the marker file.
_IMPORT_SCRIPT = """
import sys, time
from pathlib import Path
from sqlalchemy import event
from wangge.store import open_store
from store_samples import squares

url, marker, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
store = open_store(url)
units = squares(count, prefix="K")

@event.listens_for(store.engine, "before_cursor_execute")
def pause_before_rtree(conn, cursor, statement, parameters, context, executemany):
    if statement.startswith("INSERT INTO unit_rtree"):
        marker.touch()
        time.sleep(300)

store.create_release(units, source="killed", make_current=True)
print("import finished")
"""


def test_process_killed_mid_import_leaves_sqlite_store_as_before(tmp_path: Path) -> None:
    db = tmp_path / "wangge.db"
    url = f"sqlite:///{db}"
    with open_store(url) as store:
        store.create_release(squares(20), source="before", make_current=True)
        store.create_release(squares(5, prefix="D"), source="draft")
        before = snapshot(store)
    marker = tmp_path / "importing"
    script = tmp_path / "import_and_pause.py"
    script.write_text(_IMPORT_SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}

    log = (tmp_path / "child.out").open("w+b")
    child = subprocess.Popen([sys.executable, str(script), url, str(marker), "200000"],
                             env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None:
                log.seek(0)
                pytest.fail(f"the import ended before it was killed:\n{log.read().decode()}")
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.02)
        wal = Path(f"{db}-wal")
        assert wal.exists() and wal.stat().st_size > 1_000_000, "no uncommitted data on disk"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        log.seek(0)
        output = log.read()
        log.close()
    assert child.returncode == -signal.SIGKILL
    assert b"import finished" not in output

    with open_store(url) as store:
        assert snapshot(store) == before
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        # Still a working store: the same import now goes through.
        info = store.create_release(squares(1000, prefix="K"), source="retry", make_current=True)
        assert store.current_release() == info
        _, units, rtree = snapshot(store)
        assert len(units) == len(rtree) == 20 + 5 + 1000
