"""API clients that carry a real key of a chosen role (made in the store, as an admin would)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient

from tests.hierarchy import M1, X0, Y0, D, cell, hierarchy, set_geom
from wangge.api.app import create_app
from wangge.demo.district import build_demo
from wangge.geo.io.boundaries import write_units
from wangge.settings import Settings
from wangge.store import open_store


def make_key(store_url: str, role: str) -> str:
    with open_store(store_url) as store:
        _, key = store.create_key(f"test {role}", role)
    return key


@contextmanager
def api_client(store_url: str, role: str | None = "admin", **settings: Any) -> Iterator[TestClient]:
    """A TestClient of a fresh app; with ``role``, every request carries a key of that role."""
    headers = {"X-API-Key": make_key(store_url, role)} if role else {}
    app = create_app(Settings(database_url=store_url, _env_file=None, **settings))
    with TestClient(app, headers=headers) as client:
        yield client


# Uploads that must be refused: (file name, content, error code). Metres given as degrees.
BAD_BOUNDARY_FILES = [
    ("x.geojson", b"{not json", "file_format"),
    ("x.geojson", json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "320902001", "level": "street"},
        "geometry": {"type": "Polygon", "coordinates": [[[518000, 3697000], [519000, 3697000],
                                                          [519000, 3698000], [518000, 3697000]]]}}]
    }).encode(), "coordinates_out_of_range"),
]


def upload(path: Path) -> dict:
    """A multipart ``file`` field carrying the file at ``path``."""
    return {"file": (path.name, path.read_bytes(), "application/octet-stream")}


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    """A valid little hierarchy (tests.hierarchy) as GeoJSON."""
    return write_units(hierarchy(), tmp_path / "good.geojson")


@pytest.fixture
def broken_file(tmp_path: Path) -> Path:
    """The same with micro-grid M1 grown over its neighbour (an overlap error), as GeoPackage."""
    grown = shapely.union(cell(0), shapely.box(X0 + D, Y0, X0 + 1.5 * D, Y0 + D))
    return write_units(set_geom(hierarchy(), M1, grown), tmp_path / "broken.gpkg")


SMALL_DEMO = {"n_streets": 3, "n_communities": 10, "n_grids": 40, "n_microgrids": 250}


@pytest.fixture(scope="session")
def small_units():
    """A small demo district (3 streets … 250 micro-grids), quick to store and index."""
    return build_demo(**SMALL_DEMO)


def load_release(store_url: str, units, effective: date = date(2026, 1, 1), **store_more: Any) -> str:
    """``units`` stored as the current release (and ``store_more``: workers, sites…)."""
    with open_store(store_url) as store:
        store.create_release(units, source="demo", make_current=True, effective_date=effective)
        if "workers" in store_more:
            store.replace_workers(*store_more["workers"])
    return store_url
