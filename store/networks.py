"""Walking networks in the store, each stored with a release. A mixin of the Store.

Edges are kept as lines (EPSG:4490); the graph is rebuilt from them when loaded (see
geo/coverage/network.py), so what is stored is only what a user could inspect or export.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa

from wangge.geo.crs import STORAGE_CRS
from wangge.geo.errors import InputError, NotFound
from wangge.store.households import _chunks
from wangge.store.revisions import NETWORKS, bump_revision
from wangge.store.schema import network_edges as edge_table
from wangge.store.schema import networks as network_table


@dataclass(frozen=True)
class NetworkInfo:
    id: int
    release_id: int | None
    source: str
    created_at: datetime
    edge_count: int
    length_m: float
    dropped: dict[str, Any] | None
    metric_epsg: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "release_id": self.release_id, "source": self.source,
                "created_at": self.created_at.isoformat(), "edge_count": self.edge_count,
                "length_m": round(self.length_m, 1), "dropped": self.dropped}


class NetworksMixin:
    _read: Any
    _write: Any
    _geom_param: Any
    _geom_column: Any

    def create_network(self, edges: gpd.GeoDataFrame, *, release_id: int | None, source: str,
                       dropped: dict[str, Any] | None) -> NetworkInfo:
        """Store a network's edges (``u, v, length_m``, LineStrings in EPSG:4490), atomically."""
        missing = [c for c in ("u", "v", "length_m") if c not in edges.columns]
        if missing or edges.crs is None or not STORAGE_CRS.equals(edges.crs):
            raise InputError("路网须为含 u、v、length_m 的 EPSG:4490 线表。",
                             "A network is a table of lines (u, v, length_m) in EPSG:4490.",
                             missing=missing)
        if not len(edges):
            raise InputError("路网为空。", "The network is empty.")
        geoms = np.asarray(edges.geometry.values, dtype=object)
        epsg = edges.attrs.get("metric_epsg")
        with self._write() as conn:
            nid = conn.execute(sa.insert(network_table).values(
                release_id=release_id, source=source, created_at=datetime.now(UTC),
                edge_count=len(geoms), length_m=float(edges["length_m"].sum()), dropped=dropped,
                metric_epsg=int(epsg) if epsg else None)
                .returning(network_table.c.id)).scalar_one()
            bump_revision(conn, NETWORKS)
            wkb = shapely.to_wkb(geoms, output_dimension=2)
            rows = [{"network_id": nid, "edge": i, "u": int(a), "v": int(b), "length_m": float(m),
                     "wkb": w}
                    for i, (a, b, m, w) in enumerate(zip(edges["u"], edges["v"], edges["length_m"],
                                                         wkb, strict=True))]
            for chunk in _chunks(rows):
                conn.execute(sa.insert(edge_table).values(geom=self._geom_param()), chunk)
        return self.network_info(nid)

    def network_info(self, network_id: int) -> NetworkInfo:
        with self._read() as conn:
            row = conn.execute(sa.select(network_table).where(network_table.c.id == network_id)).first()
        if row is None:
            raise NotFound(f"路网 {network_id} 不存在。", f"Network {network_id} does not exist.")
        return NetworkInfo(*row)

    def networks(self) -> list[NetworkInfo]:
        """Every network stored, oldest first."""
        with self._read() as conn:
            rows = conn.execute(sa.select(network_table).order_by(network_table.c.id)).all()
        return [NetworkInfo(*row) for row in rows]

    def network_for(self, release_id: int) -> NetworkInfo | None:
        """The newest network stored with this release, else the newest of any release."""
        n = network_table.c
        with self._read() as conn:
            row = conn.execute(sa.select(n.id).where(n.release_id == release_id)
                               .order_by(n.id.desc()).limit(1)).first() or \
                conn.execute(sa.select(n.id).order_by(n.id.desc()).limit(1)).first()
        return None if row is None else self.network_info(row[0])

    def network_edges(self, network_id: int) -> gpd.GeoDataFrame:
        """The edges of a network: ``u, v, length_m, geometry`` (EPSG:4490), in stored order;
        ``attrs["metric_epsg"]`` is the metric CRS it was measured in."""
        info = self.network_info(network_id)
        e = edge_table.c
        with self._read() as conn:
            rows = conn.execute(sa.select(e.u, e.v, e.length_m, self._geom_column(e.geom))
                                .where(e.network_id == network_id).order_by(e.edge)).all()
        blobs = np.array([r[3] for r in rows], dtype=object)
        frame = gpd.GeoDataFrame({"u": [r[0] for r in rows], "v": [r[1] for r in rows],
                                  "length_m": [r[2] for r in rows]},
                                 geometry=list(shapely.from_wkb(blobs)) if len(rows) else [],
                                 crs=STORAGE_CRS)
        frame.attrs["metric_epsg"] = info.metric_epsg
        return frame
