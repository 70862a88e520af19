"""Bulk assignment on a Dask cluster: the answers of :meth:`HierarchyIndex.assign`, in partitions.

:func:`assign_bulk` builds the :class:`~wangge.geo.index.hierarchy.HierarchyIndex` once, in the calling
process, and ships it to every worker once (``Client.scatter(..., broadcast=True)``); it
scatters the coordinates in slices and makes them a dask-geopandas GeoDataFrame (the point
geometries made on the workers by ``dask_geopandas.points_from_xy``), calls
``HierarchyIndex.assign`` on each partition's points (``map_partitions``), and copies the
partitions' answers into the result in input order. The result equals
``HierarchyIndex.build(units).assign(lon, lat)``: same rows, columns, dtypes and index
(``pandas.testing.assert_frame_equal`` holds, ``tests/test_assign_bulk.py``). Reading the
coordinates back from the points is exact: a shapely point keeps its two doubles bit for bit,
NaN, infinities and -0.0 included.

Where it runs:

- ``client`` given: on that client's cluster, which is left open;
- ``scheduler`` given (``Settings.dask_scheduler``, e.g. ``"tcp://10.0.0.5:8786"``): through a
  client connected for the call. The workers need the same version of wangge installed (that
  they can import it is checked first). Connecting, and waiting for a first worker, take at
  most Dask's ``distributed.comm.timeouts.connect`` each (30 s unless configured);
- neither, or ``scheduler=""``: on a ``LocalCluster`` started for the call and closed after
  it, one worker running as threads in this process, one thread per CPU available.

Choices, measured for 1,000,000 households of the demo district on a 2-core machine
(``benchmarks/assign_bulk_memory.py``; peaks are of the whole process tree):

- Threads, not processes, for the local cluster. The work is NumPy and GEOS, and worker
  processes each load the scientific stack again: two worker processes took the peak to about
  880 MiB and the call to 5.7–5.9 s, against about 390 MiB and 3.6–4.1 s for one worker with
  two threads in the process (index build, about 2 s, included in both).
- No ``spatial_shuffle``. On points sorted along a Hilbert curve ``assign`` is at most about
  0.05 s faster per million points; the shuffle (``set_index`` on the Hilbert distance) costs
  7–10 s. (In dask-geopandas 0.5 with Dask 2026.8, ``spatial_shuffle`` itself fails: its
  partition tasks compute a lazy total-bounds array.)
- The coordinates go to the workers as scattered slices rather than inside the task graph,
  and the answers are copied into columns allocated once as each partition arrives, instead of
  being concatenated at the end (about 65 MiB less at the peak).
- ``POINTS_PER_PARTITION`` = 62,500: 16 partitions for a million points, peak about 390 MiB;
  125,000 gave about 420 MiB, 31,250 about 365 MiB and 15 % more time.
- The price of the GeoDataFrame: making the point geometries is about 0.8 s of the 1.8 s the
  partitions take; partitions of plain lon/lat columns took about 0.8 s and peaked about
  30 MiB lower.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import numbers
import os
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError
from contextlib import contextmanager

import dask.config
import dask.dataframe as dd
import dask_geopandas
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from dask.utils import parse_timedelta
from distributed import Client, KilledWorker, LocalCluster, as_completed
from numpy.typing import ArrayLike, NDArray

from wangge.geo.errors import InputError, WanggeError
from wangge.geo.index.hierarchy import HierarchyIndex, _points

__all__ = ["POINTS_PER_PARTITION", "ClusterUnavailable", "assign_bulk"]

log = logging.getLogger("wangge.bulk")

POINTS_PER_PARTITION = 62_500
"""Default partition size (at least one partition per worker thread all the same)."""

# What the workers must import to run a partition; checked before any work is sent.
_WORKER_MODULE = "wangge.geo.index.hierarchy"


class ClusterUnavailable(WanggeError):
    """The Dask scheduler cannot be reached, has no usable workers, or was lost during a run."""

    code = "cluster_unavailable"


def assign_bulk(units: gpd.GeoDataFrame, lon: ArrayLike, lat: ArrayLike, *,
                scheduler: str | None = None, partitions: int | None = None,
                client: Client | None = None) -> pd.DataFrame:
    """Assign points to every level of ``units`` on a Dask cluster; see the module docstring.

    Returns what ``HierarchyIndex.build(units).assign(lon, lat)`` returns. ``partitions``
    defaults to one per ``POINTS_PER_PARTITION`` points and at least one per worker thread.
    Raises :class:`~wangge.geo.errors.InputError` for bad arguments or units (before any cluster is
    started) and :class:`ClusterUnavailable` when the scheduler cannot be reached, has no
    workers that can import wangge, or is lost during the run.
    """
    x, y = _points(lon, lat)
    _check_arguments(scheduler, partitions, client)
    index = HierarchyIndex.build(units)
    if not len(x):
        return index.assign(x, y)
    crs = units.crs if units.crs is not None else "EPSG:4490"
    with _client((scheduler or "").strip() or None, client) as dask_client:
        return _assign_on(dask_client, index, x, y, partitions, crs)


def _check_arguments(scheduler: str | None, partitions: int | None,
                     client: Client | None) -> None:
    """Refuse contradictory or impossible arguments, every problem at once."""
    problems_zh: list[str] = []
    problems_en: list[str] = []
    if scheduler and client is not None:
        problems_zh.append("调度器地址与 client 只能给一个")
        problems_en.append("give a scheduler address or a client, not both")
    if partitions is not None and (isinstance(partitions, bool)
                                   or not isinstance(partitions, numbers.Integral)
                                   or partitions < 1):
        problems_zh.append(f"分区数应为正整数，实为 {partitions!r}")
        problems_en.append(f"partitions must be a positive integer, got {partitions!r}")
    if problems_zh:
        raise InputError("无法批量分配：" + "；".join(problems_zh),
                         "Cannot assign in bulk: " + "; ".join(problems_en))


@contextmanager
def _client(scheduler: str | None, client: Client | None) -> Iterator[Client]:
    """The client to use: the caller's, one connected to ``scheduler``, or a local cluster's."""
    if client is not None:
        _check_workers(client, str(getattr(client.scheduler, "address", "?")))
        yield client
        return
    if scheduler is None:
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        # The scheduler's HTTP server starts whatever the dashboard setting: on localhost and a
        # free port, so that it neither clashes with another cluster nor listens outside.
        with LocalCluster(n_workers=1, threads_per_worker=threads, processes=False,
                          dashboard_address="127.0.0.1:0") as cluster, \
                Client(cluster, set_as_default=False) as local:
            yield local
        return
    try:
        remote = Client(scheduler, set_as_default=False)
    except Exception as exc:
        _close_failed_client(exc)
        if isinstance(exc, ValueError):  # malformed address: unknown scheme, no port…
            raise InputError(f"Dask 调度器地址“{scheduler}”无效（应如 tcp://主机:8786）。",
                             f"Invalid Dask scheduler address '{scheduler}' (expected e.g. "
                             f"tcp://host:8786).", scheduler=scheduler) from exc
        # Timed out, refused, or something answered that is not a Dask scheduler.
        log.warning("cannot connect to the Dask scheduler at %s: %r", scheduler, exc)
        raise ClusterUnavailable(f"无法连接 Dask 调度器“{scheduler}”，请检查 WANGGE_DASK_SCHEDULER "
                                 f"设置与调度器是否在运行。",
                                 f"Cannot reach the Dask scheduler at '{scheduler}': check "
                                 f"WANGGE_DASK_SCHEDULER and that the scheduler is running.",
                                 scheduler=scheduler) from exc
    with remote:
        _check_workers(remote, scheduler)
        yield remote


def _close_failed_client(exc: BaseException) -> None:
    """Close the Client whose constructor raised ``exc``, now.

    A ``Client`` that failed to connect keeps its event loop thread running; left to
    ``Client.__del__`` at some later garbage collection, its close can deadlock on the loop
    runner lock if that collection happens while another client or cluster is starting (seen
    in the tests). The half-made client is found in the constructor's frame in the traceback.
    """
    tb = exc.__traceback__
    while tb is not None:
        client = tb.tb_frame.f_locals.get("self")
        if isinstance(client, Client):
            try:
                client.close()
            except Exception as close_exc:  # it never worked; closing is best effort
                log.debug("closing a client that failed to connect: %r", close_exc)
            return
        tb = tb.tb_next


def _check_workers(client: Client, where: str) -> None:
    """At least one worker, and every worker able to import the assignment code."""
    try:
        client.wait_for_workers(1, timeout=_connect_timeout_s())
    except TimeoutError as exc:
        raise ClusterUnavailable(f"Dask 调度器“{where}”没有可用的 worker。",
                                 f"The Dask scheduler at '{where}' has no workers.",
                                 scheduler=where) from exc
    module = _WORKER_MODULE
    # A lambda, so that it travels by value to workers that may lack wangge.
    found = client.run(lambda: importlib.util.find_spec(module) is not None, on_error="return")
    lacking = sorted(w for w, ok in found.items() if ok is not True)
    if lacking:
        raise ClusterUnavailable(
            f"Dask worker 无法导入 {module}，请在所有 worker 上安装同一版本的 wangge："
            f"{'、'.join(lacking[:5])}",
            f"Dask workers cannot import {module}; install the same version of wangge on "
            f"every worker: {', '.join(lacking[:5])}", workers=lacking[:10], scheduler=where)


def _connect_timeout_s() -> float:
    """Dask's connect timeout (``distributed.comm.timeouts.connect``, 30 s unless configured)."""
    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="s"))


def _assign_on(client: Client, index: HierarchyIndex, x: NDArray[np.float64],
               y: NDArray[np.float64], partitions: int | None, crs: object) -> pd.DataFrame:
    started = time.perf_counter()
    n = len(x)
    threads = sum(client.nthreads().values())
    count = min(int(partitions or max(threads, math.ceil(n / POINTS_PER_PARTITION))), n)
    bounds = np.linspace(0, n, count + 1).astype(np.int64).tolist()
    meta = index.assign(x[:0], y[:0])
    try:
        shipped = client.scatter(index, broadcast=True, hash=False)
        # Views of the input: a local cluster's threads read them in place.
        parts = client.scatter(
            [pd.DataFrame({"lon": x[i:j], "lat": y[i:j]}, index=pd.RangeIndex(i, j), copy=False)
             for i, j in zip(bounds[:-1], bounds[1:], strict=True)], hash=False)
        frame = dd.from_delayed(parts, meta=pd.DataFrame({"lon": x[:0], "lat": y[:0]}),
                                verify_meta=False)
        del parts
        points = dask_geopandas.from_dask_dataframe(
            frame, geometry=dask_geopandas.points_from_xy(frame, "lon", "lat", crs=crs))
        assigned = points.map_partitions(_assign_partition, shipped, meta=meta)
        del shipped
        result = _gather_in_order(client, assigned, meta, bounds)
    except (OSError, KilledWorker, CancelledError) as exc:  # OSError: CommClosedError, timeouts
        log.warning("the Dask cluster failed during bulk assignment: %r", exc)
        raise ClusterUnavailable("分配过程中 Dask 集群中断，请稍后重试。",
                                 "The Dask cluster failed during the assignment; try again."
                                 ) from exc
    log.info("assigned %d points in %d partitions on %d worker thread(s) in %.2f s",
             n, count, threads, time.perf_counter() - started)
    return result


def _assign_partition(part: gpd.GeoDataFrame, index: HierarchyIndex) -> pd.DataFrame:
    """``index.assign`` on the partition's points, keeping the partition's row labels."""
    geoms = part.geometry.to_numpy()
    out = index.assign(shapely.get_x(geoms), shapely.get_y(geoms))
    out.index = part.index
    return out


def _gather_in_order(client: Client, assigned: dd.DataFrame, meta: pd.DataFrame,
                     bounds: list[int]) -> pd.DataFrame:
    """The partitions' results copied into columns allocated once, in input order.

    Each partition is let go as soon as it is copied, so the result is held once rather than
    once in parts and again concatenated (about 65 MiB less at the peak for 1,000,000 points).
    """
    n = bounds[-1]
    columns = {name: _empty_column(meta[name], n) for name in meta.columns}
    futures = client.compute(assigned.to_delayed())
    rows = {f.key: slice(bounds[i], bounds[i + 1]) for i, f in enumerate(futures)}
    pending = as_completed(futures, with_results=True, loop=client.loop)
    del futures
    for future, part in pending:
        at = rows.pop(future.key)
        for name, column in columns.items():
            values = part[name]
            column[at] = (values.cat.codes if isinstance(values.dtype, pd.CategoricalDtype)
                          else values).to_numpy()
        del future, part, values
    out = {name: (pd.Series(pd.Categorical.from_codes(column, dtype=meta[name].dtype))
                  if isinstance(meta[name].dtype, pd.CategoricalDtype)
                  else pd.Series(column, dtype=column.dtype, copy=False))
           for name, column in columns.items()}
    return pd.DataFrame(out, copy=False)


def _empty_column(like: pd.Series, n: int) -> NDArray[np.generic]:
    """Room for ``n`` values of a column like ``like`` (its codes if it is categorical)."""
    if isinstance(like.dtype, pd.CategoricalDtype):
        return np.empty(n, dtype=like.cat.codes.dtype)
    if isinstance(like.dtype, np.dtype):
        if like.dtype.kind == "O":
            return np.full(n, None, dtype=object)
        return np.empty(n, dtype=like.dtype)
    raise TypeError(f"bulk assignment cannot gather column {like.name!r} of dtype {like.dtype}")
