"""What the benchmarks share: a free port, a scratch PostGIS schema, wangge served as a user
serves it (uvicorn in a subprocess), and the memory a process holds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGIS_URL = "postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge_test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """A URL whose connections work in a new schema of ``url``'s database, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    scoped = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema},public"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A URL of a new database (with PostGIS) on ``url``'s server, dropped afterwards: for a
    run that must own its database, e.g. to take it away in an outage."""
    base = sa.make_url(url)
    name = f"wangge_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    own = base.set(database=name)
    try:
        engine = sa.create_engine(own)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        engine.dispose()
        yield own.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Served:
    base: str   # http://127.0.0.1:PORT
    pid: int    # the uvicorn process


@contextmanager
def serve(app: str, env: dict[str, str], *, workers: int = 1, ready_path: str = "/health",
          headers: dict[str, str] | None = None, settle_s: float | None = None) -> Iterator[Served]:
    """``uvicorn APP --factory`` on a free loopback port until the block ends."""
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--no-access-log",
           "--log-level", "warning"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{ready_path}", headers=headers or {},
                             timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{app} did not start")
            time.sleep(0.5)
        # every worker up and its index built, not only the first
        time.sleep(2.0 * workers if settle_s is None else settle_s)
        yield Served(f"http://127.0.0.1:{port}", proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def rss_mib(pid: int, field: str = "VmRSS", children: bool = True) -> float:
    """A process's resident memory (``VmRSS``) or its peak so far (``VmHWM``), in MiB,
    with its descendants' added unless ``children`` is false (a child that does heavy work
    for it counts)."""
    total = 0.0
    for p in [pid, *(_children(pid) if children else [])]:
        try:
            text = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(field + ":"):
                total += int(line.split()[1]) / 1024
    return total


def _children(pid: int) -> list[int]:
    """Every descendant, whichever of the process's threads started it."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids + [g for k in kids for g in _children(k)]
