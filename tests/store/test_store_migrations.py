"""Schema migrations: they build what store/schema.py describes, on both backends."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import URL, create_engine, inspect, text
from store_samples import squares

from wangge.geo.errors import InputError
from wangge.store import Store, open_store
from wangge.store.migrate import downgrade, upgrade
from wangge.store.schema import metadata

# Tables that are not in the metadata on purpose: SQLite's R-tree and its shadow tables,
# PostGIS's own catalogue.
_OUTSIDE_METADATA = {"unit_rtree", "unit_rtree_node", "unit_rtree_parent", "unit_rtree_rowid",
                     "spatial_ref_sys", "alembic_version"}


def _include_name(name: str | None, kind: str, parent: dict) -> bool:
    return not (kind == "table" and name in _OUTSIDE_METADATA)


def test_migrations_build_the_schema_of_store_schema(store: Store) -> None:
    def include_object(obj: object, name: str | None, kind: str, reflected: bool,
                       compare_to: object) -> bool:
        # The GiST index is PostGIS-only (Index.ddl_if), which autogenerate does not know.
        return not (kind == "index" and name == "ix_units_geom" and store.backend == "sqlite")

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_name": _include_name, "include_object": include_object,
            "compare_type": True,
        })
        assert compare_metadata(context, metadata) == []


def test_constraints_are_named_by_the_convention(store: Store) -> None:
    inspector = inspect(store.engine)
    assert inspector.get_pk_constraint("units")["name"] == "pk_units"
    assert [fk["name"] for fk in inspector.get_foreign_keys("units")] == [
        "fk_units_release_id_releases"]
    assert [uq["name"] for uq in inspector.get_unique_constraints("units")] == [
        "uq_units_release_id_code"]
    assert {ck["name"] for ck in inspector.get_check_constraints("units")} == {"ck_units_level"}
    assert {ck["name"] for ck in inspector.get_check_constraints("releases")} == {
        "ck_releases_current_published", "ck_releases_current_without_errors"}
    assert {"ix_units_release_id_level", "ix_units_release_id_parent_code"} <= {
        ix["name"] for ix in inspector.get_indexes("units")}
    assert "uq_releases_is_current" in {ix["name"] for ix in inspector.get_indexes("releases")}


def test_spatial_index_exists(store: Store) -> None:
    with store.engine.connect() as conn:
        if store.backend == "postgis":
            method = conn.execute(text(
                "SELECT am.amname FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid "
                "JOIN pg_am am ON am.oid = i.relam WHERE i.relname = 'ix_units_geom' "
                "AND i.relnamespace = current_schema()::regnamespace"
            )).scalar_one()
            assert method == "gist"
            column_type = conn.execute(text(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'units'::regclass AND attname = 'geom'"
            )).scalar_one()
            assert column_type == "geometry(Geometry,4490)"
        else:
            sql = conn.execute(text(
                "SELECT sql FROM sqlite_master WHERE name = 'unit_rtree'")).scalar_one()
            assert "USING rtree(id, minx, maxx, miny, maxy)" in sql


def test_reopening_keeps_data_and_is_a_no_op(store_url: str) -> None:
    with open_store(store_url) as store:
        info = store.create_release(squares(3), source="kept", make_current=True)
    with open_store(store_url) as store:
        assert store.releases() == [info]
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
                (_head(),)]


def _head() -> str:
    from alembic.script import ScriptDirectory

    from wangge.store.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_downgrade_to_base_and_back(store: Store) -> None:
    store.create_release(squares(3), source="gone")
    with store.engine.begin() as conn:
        downgrade(conn, "base")
    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version", "spatial_ref_sys"}
    with store.engine.begin() as conn:
        upgrade(conn)
    assert store.releases() == []
    assert store.create_release(squares(2), source="again").unit_count == 2


def test_sqlite_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "wangge.db"
    with open_store(f"sqlite:///{path}") as store:
        assert store.backend == "sqlite" and path.exists()
        assert str(path) in store.url


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_unsupported_url_is_refused(url: str) -> None:
    with pytest.raises(InputError):
        open_store(url)


@pytest.mark.postgis
def test_open_store_installs_postgis_in_a_new_database(postgis_url: URL) -> None:
    name = f"wangge_fresh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgis_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = postgis_url.set(database=name).render_as_string(hide_password=False)
        with open_store(url) as store:
            assert store.backend == "postgis"
            with store.engine.connect() as conn:
                assert conn.execute(text(
                    "SELECT extversion FROM pg_extension WHERE extname = 'postgis'")).scalar()
            assert store.create_release(squares(2), source="fresh").unit_count == 2
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_unreachable_database_is_a_clear_error(tmp_path):
    from wangge.store import open_store
    from wangge.store.errors import StoreUnavailable

    with pytest.raises(StoreUnavailable) as exc:
        open_store("postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=2")
    assert "secret" not in exc.value.message_en and "127.0.0.1" in exc.value.message_en
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    with pytest.raises(StoreUnavailable):
        open_store(f"sqlite:///{blocked}/db.sqlite")
