"""Proposed grids for communities, from a units frame: the geo adapter of the partitioners.

Takes the hierarchy as a GeoDataFrame (``code``, ``level``, ``parent_code``, ``geometry`` in
storage lon/lat) and the households per micro-grid, builds the micro-grid graph in a metric CRS
(through :mod:`wangge.geo.crs`), and for each community proposes grids as groups of its
micro-grids: each micro-grid gets a *slot*, the code of the current grid its proposed grid
continues (the one-to-one match keeping most households) or a placeholder ``new-1``, ``new-2``…
for a new grid. Final codes are the plan layer's business, not this one's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from wangge.geo.crs import frame_to_storage, metric_crs_of, to_metric
from wangge.geo.errors import InputError, echo
from wangge.geo.index.hierarchy import assign_hierarchy
from wangge.geo.levels import Level
from wangge.geo.partition.graph import AtomGraph, atom_graph
from wangge.geo.partition.repair import repair_partition
from wangge.geo.partition.report import Partition, Reason, Verdict
from wangge.geo.partition.scratch import scratch_partition

__all__ = ["CommunityProposal", "households_per_microgrid", "propose_grids"]

Method = Literal["repair", "scratch"]
NEW_SLOT = "new-{}"


@dataclass(frozen=True)
class CommunityProposal:
    """The proposed grids of one community.

    ``slots`` maps every micro-grid code of the community to its proposed grid: a current grid
    code or ``new-N``. ``grids`` has one row per proposed grid (``slot``, ``households``,
    ``microgrids``, ``compactness``, ``existing``); ``removed`` lists the current grids no proposed
    grid continues; ``moved`` is the households whose grid changes. ``before`` gives the
    households of the current grids, for comparison.
    """

    community: str
    slots: dict[str, str]
    grids: pd.DataFrame
    removed: tuple[str, ...]
    moved: int
    before: pd.Series
    partition: Partition

    @property
    def verdict(self) -> Verdict:
        return self.partition.verdict

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self.partition.reasons


def households_per_microgrid(units: gpd.GeoDataFrame, lon: ArrayLike, lat: ArrayLike) -> pd.Series:
    """Households per micro-grid code from household points (storage lon/lat; NaN for none).

    Every micro-grid of ``units`` is in the index (0 where no point falls)."""
    where = assign_hierarchy(units, lon, lat)[Level.MICROGRID.value]
    codes = units.loc[units["level"] == Level.MICROGRID.value, "code"].astype(str)
    counts = where.dropna().astype(str).value_counts()
    return counts.reindex(codes.to_numpy(), fill_value=0).astype(np.int64).rename("households")


def _check(units: gpd.GeoDataFrame, households: pd.Series,
           communities: Sequence[str] | None) -> None:
    """Every problem with the inputs at once."""
    problems_zh: list[str] = []
    problems_en: list[str] = []
    missing = {"code", "level", "parent_code", "geometry"} - set(units.columns)
    if missing:
        raise InputError(f"单元表缺少列：{sorted(missing)}。", f"The units lack columns {sorted(missing)}.",
                         missing=sorted(missing))
    micro = set(units.loc[units["level"] == Level.MICROGRID.value, "code"].astype(str))
    unknown = sorted(set(households.index.astype(str)) - micro)
    if unknown:
        problems_zh.append(f"住户数中有 {len(unknown)} 个不是微网格的编码（如 {echo(unknown[0])}）")
        problems_en.append(f"{len(unknown)} household counts name no micro-grid "
                           f"(e.g. {echo(unknown[0])})")
    values = pd.to_numeric(households, errors="coerce")
    if values.isna().any() or (values < 0).any() or (values != values.round()).any():
        problems_zh.append("住户数须为非负整数")
        problems_en.append("household counts must be whole numbers, not negative")
    if households.index.duplicated().any():
        problems_zh.append("住户数中有重复的微网格编码")
        problems_en.append("a micro-grid has more than one household count")
    if communities is not None:
        known = set(units.loc[units["level"] == Level.COMMUNITY.value, "code"].astype(str))
        absent = sorted(set(map(str, communities)) - known)
        if absent:
            problems_zh.append(f"没有社区 {echo(', '.join(absent))}")
            problems_en.append(f"no community {echo(', '.join(absent))}")
    if problems_en:
        raise InputError("；".join(problems_zh) + "。", "; ".join(problems_en) + ".",
                         problems=problems_en)


def _compound_groups(codes: NDArray[np.str_], compounds: pd.Series | None) -> NDArray[np.intp]:
    """Per micro-grid, a group shared by micro-grids that hold a common compound (-1: alone).

    ``compounds`` is indexed by micro-grid code (repeated for a micro-grid holding several
    compounds); micro-grids linked through compounds are glued transitively."""
    n = len(codes)
    if compounds is None or compounds.empty:
        return np.full(n, -1, dtype=np.intp)
    pairs = compounds.dropna()
    pos = pd.Index(codes).get_indexer(pairs.index.astype(str))
    keep = pos >= 0
    comp_id, comp = np.unique(pairs.to_numpy()[keep].astype(str), return_inverse=True)
    link = csr_matrix((np.ones(int(keep.sum())), (pos[keep], n + comp.ravel())),
                      shape=(n + len(comp_id), n + len(comp_id)))
    _, group = connected_components(link, directed=False)
    group = group[:n]
    size = np.bincount(group)
    return np.where(size[group] > 1, group, -1).astype(np.intp)


def propose_grids(units: gpd.GeoDataFrame, households: pd.Series,
                  compounds: pd.Series | None = None, *, communities: Sequence[str] | None = None,
                  minimum: int = 300, maximum: int = 500, method: Method = "repair",
                  seed: int = 0) -> list[CommunityProposal]:
    """Proposed grids of ``communities`` (all by default) within ``[minimum, maximum]`` households.

    ``households`` is indexed by micro-grid code (missing micro-grids hold none); ``compounds``
    names the compound of micro-grids whose compound spans several (those stay in one grid).
    ``method="repair"`` starts from the current grids and moves few households;
    ``"scratch"`` ignores them (the comparison point). Raises :class:`InputError` listing every
    problem with the inputs.
    """
    if method not in ("repair", "scratch"):
        raise InputError(f"未知的划分方法 {echo(method)}。", f"Unknown method {echo(method)}.",
                         accepted=["repair", "scratch"])
    _check(units, households, communities)
    units = frame_to_storage(units)
    level = units["level"].astype(str)
    micro = units[level == Level.MICROGRID.value]
    grid_parent = units.loc[level == Level.GRID.value].set_index(
        units.loc[level == Level.GRID.value, "code"].astype(str))["parent_code"].astype(str)
    codes = micro["code"].astype(str).to_numpy()
    grid_of = micro["parent_code"].astype(str).to_numpy()
    orphan = ~pd.Index(grid_of).isin(grid_parent.index)
    if orphan.any():
        raise InputError(f"有 {int(orphan.sum())} 个微网格的上级不是网格（如 {echo(codes[orphan][0])}）。",
                         f"{int(orphan.sum())} micro-grids have a parent that is no grid "
                         f"(e.g. {echo(codes[orphan][0])}).", microgrids=codes[orphan][:20].tolist())
    community_of = grid_parent.reindex(grid_of).to_numpy()
    wanted = sorted(set(community_of)) if communities is None else [str(c) for c in communities]
    take = np.flatnonzero(pd.Index(community_of).isin(wanted))
    geoms = np.asarray(micro["geometry"].to_numpy(), dtype=object)[take]
    weight = households.astype(np.int64).reindex(codes[take], fill_value=0).to_numpy()
    graph = atom_graph(to_metric(geoms, metric_crs_of(geoms)), weight)
    groups = _compound_groups(codes[take], compounds)
    out = []
    for community in wanted:
        idx = np.flatnonzero(community_of[take] == community)
        out.append(_propose(community, graph.subgraph(idx), codes[take][idx], grid_of[take][idx],
                            groups[idx], minimum, maximum, method, seed))
    return out


def _propose(community: str, graph: AtomGraph, codes: NDArray[np.str_], grids: NDArray[np.str_],
             groups: NDArray[np.intp], minimum: int, maximum: int, method: Method,
             seed: int) -> CommunityProposal:
    names, current = np.unique(grids, return_inverse=True)
    current = current.ravel().astype(np.int64)
    if method == "repair":
        part = repair_partition(graph, current, minimum, maximum, groups=groups, seed=seed)
    else:
        part = scratch_partition(graph, minimum, maximum, groups=groups, current=current, seed=seed)
    slot_names = []
    fresh = 0
    for p in range(part.k):
        if part.matched[p] >= 0:
            slot_names.append(str(names[part.matched[p]]))
        else:
            fresh += 1
            slot_names.append(NEW_SLOT.format(fresh))
    reasons = tuple(Reason(r.code, r.message_zh, r.message_en, r.blocking,
                           {**r.detail, "microgrids": codes[r.detail["atoms"]].tolist()})
                    if "atoms" in r.detail else r for r in part.reasons)
    part = dataclasses.replace(part, reasons=reasons)
    slots = dict(zip(codes.tolist(), [slot_names[p] for p in part.labels], strict=True))
    kept = {str(names[g]) for g in part.matched if g >= 0}
    frame = pd.DataFrame({"slot": slot_names, "households": part.households,
                          "microgrids": np.bincount(part.labels, minlength=part.k),
                          "compactness": part.compactness,
                          "existing": part.matched >= 0})
    before = pd.Series(np.bincount(current, weights=graph.weight, minlength=len(names)).astype(
        np.int64), index=names.astype(str), name="households")
    return CommunityProposal(community, slots, frame,
                             tuple(sorted(set(names.astype(str)) - kept)), part.moved, before, part)
