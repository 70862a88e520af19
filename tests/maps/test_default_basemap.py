"""The default base map loads in mainland China: Tianditu with a key, else AMap; never OSM."""

from __future__ import annotations

import pytest

from wangge.geo.errors import InputError
from wangge.maps.base import new_map
from wangge.maps.tiles import AUTO, TILE_CHOICES, basemap, resolve_tiles
from wangge.settings import Settings


def test_auto_is_tianditu_with_a_key_else_amap() -> None:
    assert resolve_tiles(AUTO) == "amap" and resolve_tiles(AUTO, "") == "amap"
    assert resolve_tiles(AUTO, "abc123") == "tianditu"
    assert [resolve_tiles(n, "abc123") for n in TILE_CHOICES] == list(TILE_CHOICES)
    assert basemap().name == "amap" and basemap().offset == "gcj02"  # drawn shifted to GCJ-02
    assert basemap(AUTO, "abc123").name == "tianditu"
    with pytest.raises(InputError):  # a configured key that is not a key is said, not skipped
        basemap(AUTO, "bad key")
    assert new_map("t")[1].name == "amap"
    assert "tile.openstreetmap.org" not in new_map("t")[0].get_root().render()


def test_settings_resolve_auto_at_the_edge(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WANGGE_MAP_TILES", "WANGGE_TIANDITU_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert Settings(_env_file=None).map_tiles == "amap"
    monkeypatch.setenv("WANGGE_TIANDITU_KEY", "abc123")
    assert Settings(_env_file=None).map_tiles == "tianditu"
    assert Settings(_env_file=None, map_tiles="osm").map_tiles == "osm"  # still a choice
    assert Settings(_env_file=None, map_tiles="none").map_tiles == "none"  # offline
    with pytest.raises(ValueError, match="map_tiles"):
        Settings(_env_file=None, map_tiles="google")
