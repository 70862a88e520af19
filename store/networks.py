"""Walking networks in the store, each stored with a release. A mixin of the Store.

Edges are kept as lines (EPSG:4490); the graph is rebuilt from them when loaded (see
geo/network.py), so what is stored is only what a user could inspect or export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa

from geo.crs import STORAGE_CRS
from geo.errors import InputError, NotFound
from store.households import _chunks
from store.schema import network_edges as edge_table
from store.schema import networks as network_table


@dataclass(frozen=True)
class NetworkInfo:
    id: int
    release_id: int | None
    source: str
    created_at: datetime
    edge_count: int
    length_m: float
    dropped: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "release_id": self.release_id, "source": self.source,
                "created_at": self.created_at.isoformat(), "edge_count": self.edge_count,
                "length_m": round(self.length_m, 1), "dropped": self.dropped}


class NetworksMixin:
    _read: Any
    _write: Any
    _geom_param: Any
    _geom_column: Any

    def create_network(self, edges: gpd.GeoSeries | np.ndarray, *, release_id: int | None,
                       source: str, length_m: float, dropped: dict[str, Any] | None) -> NetworkInfo:
        """Store the edges (LineStrings, EPSG:4490) of a network, atomically."""
        if isinstance(edges, gpd.GeoSeries) and (edges.crs is None or not STORAGE_CRS.equals(edges.crs)):
            raise InputError("路网须为 EPSG:4490。", "The network must be in EPSG:4490.")
        geoms = np.asarray(getattr(edges, "values", edges), dtype=object)
        if not len(geoms):
            raise InputError("路网为空。", "The network is empty.")
        with self._write() as conn:
            nid = conn.execute(sa.insert(network_table).values(
                release_id=release_id, source=source, created_at=datetime.now(UTC),
                edge_count=len(geoms), length_m=float(length_m), dropped=dropped)
                .returning(network_table.c.id)).scalar_one()
            wkb = shapely.to_wkb(geoms, output_dimension=2)
            rows = [{"network_id": nid, "edge": i, "wkb": w} for i, w in enumerate(wkb)]
            for chunk in _chunks(rows):
                conn.execute(sa.insert(edge_table).values(geom=self._geom_param()), chunk)
        return self.network_info(nid)

    def network_info(self, network_id: int) -> NetworkInfo:
        with self._read() as conn:
            row = conn.execute(sa.select(network_table).where(network_table.c.id == network_id)).first()
        if row is None:
            raise NotFound(f"路网 {network_id} 不存在。", f"Network {network_id} does not exist.")
        return NetworkInfo(*row)

    def network_for(self, release_id: int) -> NetworkInfo | None:
        """The newest network stored with this release, else the newest of any release."""
        n = network_table.c
        with self._read() as conn:
            row = conn.execute(sa.select(n.id).where(n.release_id == release_id)
                               .order_by(n.id.desc()).limit(1)).first() or \
                conn.execute(sa.select(n.id).order_by(n.id.desc()).limit(1)).first()
        return None if row is None else self.network_info(row[0])

    def network_edges(self, network_id: int) -> np.ndarray:
        """The edges of a network as LineStrings (EPSG:4490), in stored order."""
        e = edge_table.c
        with self._read() as conn:
            blobs = conn.execute(sa.select(self._geom_column(e.geom)).where(e.network_id == network_id)
                                 .order_by(e.edge)).scalars().all()
        return np.asarray(shapely.from_wkb(np.array(blobs, dtype=object)), dtype=object)
