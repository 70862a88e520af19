"""Shared fixtures: a database URL per store backend, and an open store.

SQLite always runs (a file under ``tmp_path``). PostGIS runs when ``WANGGE_TEST_POSTGIS_URL``
names a database (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/wangge_test``); it is
created with the postgis extension if missing, and every test gets a fresh schema in it, first
on the search path and dropped afterwards. Without the variable the PostGIS cases are skipped,
except under ``CI=true``, where they fail: CI must never silently skip PostGIS.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, make_url, text

from tests.postgis_pool import SchemaPool
from wangge.store import Store, open_store

POSTGIS_ENV = "WANGGE_TEST_POSTGIS_URL"

# pytest-xdist workers start with COLUMNS=80 in their environment; rich consoles made at import
# (wangge.cli.common) would keep that width for good and cut the CLI tables the tests read.
os.environ.pop("COLUMNS", None)


def _postgis_base_url() -> URL:
    url = os.environ.get(POSTGIS_ENV, "")
    if not url:
        reason = f"{POSTGIS_ENV} is not set; PostGIS tests need a PostGIS server"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}, and CI must run them.", pytrace=False)
        pytest.skip(reason)
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


@pytest.fixture(scope="session")
def postgis_url() -> URL:
    """The PostGIS test database, created with the postgis extension if it does not exist."""
    url = _postgis_base_url()
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            # One session at a time (xdist workers start together): CREATE DATABASE and
            # CREATE EXTENSION IF NOT EXISTS both fail when another session makes the same.
            conn.execute(text("SELECT pg_advisory_lock(hashtext('wangge tests: postgis_url'))"))
            try:
                found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                     {"name": url.database}).first()
                if found is None:
                    conn.execute(text(f'CREATE DATABASE "{url.database}"'))
                engine = create_engine(url)
                try:
                    with engine.begin() as extension:
                        extension.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
                finally:
                    engine.dispose()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(hashtext('wangge tests: postgis_url'))"))
    finally:
        admin.dispose()
    return url


@pytest.fixture
def postgis_schema_url(postgis_url: URL) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema (dropped after the test)."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(postgis_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = postgis_url.update_query_dict({"options": f"-csearch_path={schema},public"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def postgis_pool(postgis_url: URL) -> Iterator[SchemaPool]:
    """Migrated schemas of the PostGIS test database, emptied between tests (tests/postgis_pool.py)."""
    pool = SchemaPool(postgis_url)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def postgis_store_url(postgis_pool: SchemaPool) -> Iterator[str]:
    """A URL whose connections work in an empty, migrated schema of its own for this test."""
    schema = postgis_pool.take()
    try:
        yield postgis_pool.url(schema)
    finally:
        postgis_pool.give_back(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty store, once per backend (PostGIS: migrated already, from the pool)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'wangge.db'}"
    return str(request.getfixturevalue("postgis_store_url"))


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def module_store_url(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL for an empty, migrated store per backend that one module's read-only tests share."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('module_store') / 'store' / 'wangge.db'}"
        return
    pool: SchemaPool = request.getfixturevalue("postgis_pool")
    schema = pool.take()
    try:
        yield pool.url(schema)
    finally:
        pool.give_back(schema)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, migrated, empty store; closed after the test."""
    with open_store(store_url) as opened:
        yield opened


# The demo district, its register, sites and walking network are deterministic for their seed and
# take seconds to build; many modules need the same ones, so they are built once per session
# (per xdist worker) and every module gets its own copy (a test that edits its frame cannot leak
# into another module). Determinism itself is still tested where it was (those tests call the
# builders again and compare).


@pytest.fixture(scope="session")
def _demo_session():
    from wangge.demo.district import build_demo

    return build_demo()


@pytest.fixture(scope="session")
def _demo_register_session(_demo_session):
    from wangge.demo.register import build_register

    return build_register(_demo_session)


@pytest.fixture(scope="session")
def _demo_sites_session(_demo_session, _demo_register_session):
    from wangge.demo.sites import build_demo_sites

    return build_demo_sites(_demo_session, _demo_register_session)


@pytest.fixture(scope="session")
def _demo_network_session():
    from wangge.demo.network import build_demo_network

    return build_demo_network()


def _copy_register(reg):
    """A DemoRegister whose frames are copies (the dataclass holds frames only)."""
    fields = dataclasses.fields(reg)
    return type(reg)(**{f.name: getattr(reg, f.name).copy() for f in fields})


@pytest.fixture(scope="module")
def demo_units(_demo_session):
    """``build_demo()`` (the full default district), a copy of the session's one."""
    return _demo_session.copy()


@pytest.fixture(scope="module")
def demo_register(_demo_register_session):
    """``build_register(build_demo())``, a copy of the session's one."""
    return _copy_register(_demo_register_session)


@pytest.fixture(scope="module")
def demo_sites(_demo_sites_session):
    """``build_demo_sites(build_demo(), build_register(build_demo()))``, a copy."""
    return _demo_sites_session.copy()


@pytest.fixture(scope="session")
def demo_network(_demo_network_session):
    """``build_demo_network()``; shared: WalkNetwork is used read-only (its arrays are never assigned)."""
    return _demo_network_session
