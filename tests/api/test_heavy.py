"""Heavy requests: one at a time per key (429 + Retry-After otherwise), and uploads worked on in a
child process answer exactly as in-process, errors included."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import wangge.api.heavy as heavy_module
from tests.api.conftest import BAD_BOUNDARY_FILES, api_client, make_key, upload
from tests.hierarchy import M1, M2
from wangge.api.heavy import HeavySlot, slots_of
from wangge.api.routers import releases

IN_PROCESS = {"isolate_above_mb": 1000.0}
ISOLATED = {"isolate_above_mb": 0.0}
# Validation in a child process touches no storage (the store only holds the API key), so the
# tests comparing it with in-process validation run on SQLite only; imports and the heavy slots
# run on both backends.
SQLITE_ONLY = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


@pytest.fixture
def first_call_waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The first validation (in-process) waits for ``go`` after setting ``entered``."""
    entered, go = threading.Event(), threading.Event()
    real = releases.check_file
    calls: list[int] = []

    def check_file(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            entered.set()
            assert go.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(releases, "check_file", check_file)
    yield entered, go
    go.set()


def test_a_second_heavy_request_of_the_same_key_gets_429(store_url, good_file, first_call_waits):
    entered, go = first_call_waits
    other = {"X-API-Key": make_key(store_url, "planner")}
    roster = {"file": ("w.csv", b"worker_id,grid_code\n", "text/csv")}
    with api_client(store_url, role="planner", heavy_per_key=1, **IN_PROCESS) as client, \
            ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/v1/validate", files=upload(good_file))
        assert entered.wait(60)
        for path, files in (("/v1/validate", upload(good_file)), ("/v1/workers/import", roster)):
            r = client.post(path, files=files)
            assert r.status_code == 429, r.text
            assert r.headers["Retry-After"] == str(heavy_module.RETRY_AFTER_S)
            body = r.json()
            assert body["code"] == "rate_limited" and body["message"] and body["message_en"]
            assert body["detail"]["limit"] == 1
        # another key is not affected
        r = client.post("/v1/validate", files=upload(good_file), headers=other)
        assert r.status_code == 200 and r.json()["report"]["ok"]
        go.set()
        assert first.result(60).status_code == 200
        # the slot is given back after a success…
        assert client.post("/v1/validate", files=upload(good_file)).status_code == 200
        # …and after an error
        bad = {"file": ("x.geojson", b"{not json", "application/octet-stream")}
        assert client.post("/v1/validate", files=bad).status_code == 400
        assert client.post("/v1/releases", files=bad).status_code == 400
        assert client.post("/v1/validate", files=upload(good_file)).status_code == 200
        assert slots_of(client.app)._running == {}


def test_anonymous_callers_are_counted_by_address(store_url, good_file, first_call_waits):
    entered, go = first_call_waits
    with api_client(store_url, role=None, anonymous_role="viewer", **IN_PROCESS) as client, \
            ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/v1/validate", files=upload(good_file))
        assert entered.wait(60)
        r = client.post("/v1/validate", files=upload(good_file))
        assert r.status_code == 429 and r.headers["Retry-After"]
        go.set()
        assert first.result(60).status_code == 200


def test_all_callers_together_are_capped_too(store_url, good_file, first_call_waits):
    entered, go = first_call_waits
    others = [{"X-API-Key": make_key(store_url, "planner")} for _ in range(2)]
    with api_client(store_url, role="planner", heavy_per_key=1, heavy_total=1,
                    **IN_PROCESS) as client, ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/v1/validate", files=upload(good_file))
        assert entered.wait(60)
        r = client.post("/v1/validate", files=upload(good_file), headers=others[0])
        assert r.status_code == 429 and r.headers["Retry-After"]
        assert r.json()["detail"] == {"running": 1, "limit": 1, "retry_after_s": 5}
        go.set()
        assert first.result(60).status_code == 200
        r = client.post("/v1/validate", files=upload(good_file), headers=others[1])
        assert r.status_code == 200


def test_no_limit_when_zero(store_url, good_file, first_call_waits):
    entered, go = first_call_waits
    with api_client(store_url, heavy_per_key=0, heavy_total=0, **IN_PROCESS) as client, \
            ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/v1/validate", files=upload(good_file))
        assert entered.wait(60)
        assert client.post("/v1/validate", files=upload(good_file)).status_code == 200
        go.set()
        assert first.result(60).status_code == 200


def _without_timing(value: Any) -> Any:
    """A body without the validation's run time, which differs between two runs."""
    if isinstance(value, dict):
        return {k: _without_timing(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_timing(v) for v in value]
    return value


@pytest.fixture
def both(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any, list]]:
    """Two clients on one store: work in-process, and work in a child (counted)."""
    children: list[str] = []
    real = heavy_module.run_isolated

    def counted(fn, *args, **kwargs):  # noqa: ANN001, ANN202
        children.append(fn.__name__)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(heavy_module, "run_isolated", counted)
    with api_client(store_url, **IN_PROCESS) as here, api_client(store_url, **ISOLATED) as child:
        yield here, child, children


@SQLITE_ONLY
def test_isolated_validation_returns_the_same_report(both, broken_file):
    here, child, children = both
    a = here.post("/v1/validate", files=upload(broken_file), data={"repair": "true"})
    assert children == []
    b = child.post("/v1/validate", files=upload(broken_file), data={"repair": "true"})
    assert children == ["check_file"]
    assert a.status_code == b.status_code == 200
    assert _without_timing(a.json()) == _without_timing(b.json())
    assert b.json()["report"]["findings"][0]["geometry"]["type"] == "Polygon"
    assert set(b.json()["report"]["findings"][0]["codes"]) == {M1, M2}


@pytest.mark.parametrize("name,content,code", BAD_BOUNDARY_FILES)
@SQLITE_ONLY
def test_domain_errors_in_the_child_give_the_same_4xx(both, name, content, code):
    here, child, children = both
    for path in ("/v1/validate", "/v1/releases"):
        a = here.post(path, files={"file": (name, content, "application/octet-stream")})
        b = child.post(path, files={"file": (name, content, "application/octet-stream")})
        assert a.status_code == b.status_code == 400
        assert a.json() == b.json() and b.json()["code"] == code and b.json()["message_en"]
    assert children == ["check_file", "check_file"]


def test_isolated_import_refuses_and_stores_the_same(both, broken_file, good_file):
    here, child, children = both
    a = here.post("/v1/releases", files=upload(broken_file), data={"make_current": "true"})
    b = child.post("/v1/releases", files=upload(broken_file), data={"make_current": "true"})
    assert a.status_code == b.status_code == 422
    assert _without_timing(a.json()) == _without_timing(b.json())
    assert b.json()["code"] == "validation_failed" and b.json()["report"]["report"]["error_count"] == 1
    r = child.post("/v1/releases", files=upload(good_file), data={"make_current": "true"})
    assert r.status_code == 201 and r.json()["release"]["unit_count"] == 15
    assert children == ["check_file", "check_file"]
    assert child.get(f"/v1/units/{M1}").json()["properties"]["code"] == M1


def _nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@SQLITE_ONLY
def test_a_child_outliving_polls_for_the_client_is_answered(store_url, tmp_path):
    """While the child works the handler asks whether the client left; a present client gets
    its answer (the poll runs in the worker thread, through the event loop)."""
    with api_client(store_url, **ISOLATED) as client:
        @client.app.post("/test/nap")
        def nap(heavy: HeavySlot) -> dict:
            return {"slept": heavy.run(Path(__file__), _nap, 1.2)}

        r = client.post("/test/nap")
    assert r.status_code == 200 and r.json() == {"slept": 1.2}
