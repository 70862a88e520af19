"""API clients that carry a real key of a chosen role (made in the store, as an admin would)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from store import open_store
from wangge.settings import Settings


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
