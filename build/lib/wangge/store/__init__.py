"""The boundary store: releases (boundary versions) of street/community/grid/micro-grid units.

One SQLAlchemy store over an embedded SQLite file (default) or PostGIS; schema migrations with
Alembic run when a store is opened. Knows ``geo`` (levels, errors); ``geo`` never knows it.
"""

from wangge.store.backends import open_store
from wangge.store.release_info import ReleaseInfo
from wangge.store.store import Store

__all__ = ["ReleaseInfo", "Store", "open_store"]
