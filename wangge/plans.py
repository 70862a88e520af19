"""Plans as a service: sessions kept in memory, every edit written to the store's log.

A plan's units are its base release replayed through its edits (undone edits replayed too,
then undone again, so redo works after a restart). Sessions are kept for the most recently
used plans; one lock per plan makes its edits one at a time. An edit is applied in memory
first (that is where it is checked); if writing it to the log fails, it is taken back, so the
log and the session never disagree.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from wangge.boundaries import with_areas
from wangge.compare import changed_codes
from wangge.geo.boundaries.validate import validate
from wangge.geo.errors import Conflict, NotFound, ValidationFailed, WanggeError
from wangge.geo.plans.households import PlanHouseholds
from wangge.geo.plans.session import PlanSession
from wangge.households import assign_release
from wangge.settings import Settings
from wangge.store import Store
from wangge.store.plans import PlanInfo, StalePlan
from wangge.warmup import warmed

KEPT_SESSIONS = 4   # sessions share their base's household points and index; each keeps its edits


class PlanService:
    def __init__(self, store: Store, settings: Settings, kept: int = KEPT_SESSIONS) -> None:
        self.store = store
        self.settings = settings
        self.kept = kept
        self._sessions: OrderedDict[int, PlanSession] = OrderedDict()
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()
        # The session of a release with no edits, kept to start each plan over it from
        # (PlanSession.fresh): (what it was built from, the session).
        self._base: tuple[tuple[Any, ...], PlanSession] | None = None
        self._base_lock = threading.Lock()

    # ---- plans -----------------------------------------------------------------------------
    def create(self, title: str, base_release_id: int | None = None, *,
               author: str | None = None) -> PlanInfo:
        base = self.store.release_or_current(base_release_id)
        return self.store.create_plan(title, base.id, author=author)

    def set_status(self, plan_id: int, status: str) -> PlanInfo:
        info = self.store.set_plan_status(plan_id, status)
        self._forget(plan_id)
        return info

    # ---- editing ---------------------------------------------------------------------------
    def edit(self, plan_id: int, op: dict[str, Any], *, admin: bool,
             author: str | None = None) -> dict[str, Any]:
        for attempt in range(2):
            with self._session(plan_id, editing=True) as session:
                answer = session.edit(op, admin=admin)
                try:
                    seq, session.version = self.store.add_plan_edit(
                        plan_id, op, admin=admin, author=author, expected_version=session.version)
                except BaseException as exc:
                    session.undo()
                    session.undone.pop()
                    if isinstance(exc, StalePlan) and attempt == 0:
                        self._forget(plan_id)     # another process wrote: reload, apply again
                        continue
                    raise
                answer["seq"] = seq
                return answer
        raise AssertionError("unreachable")

    def undo(self, plan_id: int) -> dict[str, Any]:
        return self._step(plan_id, undo=True)

    def redo(self, plan_id: int) -> dict[str, Any]:
        return self._step(plan_id, undo=False)

    def _step(self, plan_id: int, *, undo: bool) -> dict[str, Any]:
        for attempt in range(2):
            with self._session(plan_id, editing=True) as session:
                answer = session.undo() if undo else session.redo()
                try:
                    _, session.version = self.store.mark_plan_edit(
                        plan_id, undone=undo, expected_version=session.version)
                except BaseException as exc:
                    session.redo() if undo else session.undo()
                    if isinstance(exc, StalePlan) and attempt == 0:
                        self._forget(plan_id)
                        continue
                    raise
                return answer
        raise AssertionError("unreachable")

    def _forget(self, plan_id: int) -> None:
        with self._guard:
            self._sessions.pop(plan_id, None)

    # ---- publishing ------------------------------------------------------------------------
    def publish(self, plan_id: int, effective_date: date | None = None) -> dict[str, Any]:
        """Make the plan a release in force on ``effective_date`` (today by default; a later
        date schedules it), assign the households to it and mark the plan published.

        Refused while the plan has errors. When the base is no longer the current release,
        the plan is first rebased onto the current one if none of the units it changes were
        changed there, else refused with the units that both changed.
        """
        info = self.store.plan(plan_id)
        if info.status not in ("draft", "submitted"):
            raise Conflict(f"方案 {plan_id} 已{info.as_dict()['status_zh']}，不能发布。",
                           f"Plan {plan_id} is {info.status}; it cannot be published.",
                           plan_id=plan_id)
        current = self.store.current_release_id()
        rebased_from = None
        if current is not None and current != info.base_release_id:
            self._rebase(info, current)
            rebased_from, info = info.base_release_id, self.store.plan(plan_id)
        with self._session(plan_id) as session:
            frame = with_areas(session.frame())
        report = validate(frame, self.settings.validation_config())
        checked = {"report": report.as_dict(), "plan_id": plan_id}
        if report.errors:
            raise ValidationFailed(
                f"方案 {plan_id} 有 {len(report.errors)} 个错误，不能发布；请先修正。",
                f"Plan {plan_id} has {len(report.errors)} errors and cannot be published; fix "
                "them first.", report=checked, plan_id=plan_id)
        release = self.store.create_release(
            frame, source=f"方案 {plan_id}：{info.title}", effective_date=effective_date,
            report=checked, error_count=0, warning_count=len(report.warnings), make_current=True,
            note=f"plan {plan_id} over release {info.base_release_id}")
        assigned = assign_release(self.store, release.id)
        info = self.store.set_plan_status(plan_id, "published", published_release_id=release.id)
        self._forget(plan_id)
        return {"plan": info.as_dict(), "release": release.as_dict(), "assignment": assigned,
                "rebased_from": rebased_from}

    def _rebase(self, info: PlanInfo, release_id: int) -> None:
        base = self.store.units(info.base_release_id)
        target = self.store.units(release_id)
        changed_there = changed_codes(base, target)
        with self._session(info.id) as session:
            touched = _touched_codes(session)
        both = sorted(changed_there & touched)
        if both:
            raise Conflict(
                f"方案 {info.id} 的基础版本 {info.base_release_id} 已不是当前版本；当前版本 "
                f"{release_id} 也改动了方案改动的单元：{'、'.join(both[:20])}。请基于当前版本重新规划。",
                f"Plan {info.id} was drawn over release {info.base_release_id}, which is no longer "
                f"current; release {release_id} also changed units the plan changes: "
                f"{', '.join(both[:20])}. Redraw the plan over the current release.",
                plan_id=info.id, base_release_id=info.base_release_id, current_release_id=release_id,
                conflicts=both[:200])
        moved = self.store.rebase_plan(info.id, release_id)
        try:
            self._load(moved)
        except WanggeError as exc:
            self.store.rebase_plan(info.id, info.base_release_id)
            raise Conflict(f"方案 {info.id} 的编辑不能在当前版本 {release_id} 上重放：{exc.message_zh}",
                           f"Plan {info.id}'s edits do not replay over the current release "
                           f"{release_id}: {exc.message_en}", plan_id=info.id) from exc
        self._forget(info.id)

    # ---- reading ---------------------------------------------------------------------------
    def impact(self, plan_id: int) -> dict[str, Any]:
        with self._session(plan_id) as session:
            return session.impact()

    def propose(self, plan_id: int, community: str, *, minimum: int | None = None,
                maximum: int | None = None) -> dict[str, Any]:
        """Proposed grids for a community of the plan (nothing changes; accept with regroup)."""
        with self._session(plan_id) as session:
            return session.propose(community, minimum=minimum, maximum=maximum)

    def propose_microgrids(self, plan_id: int, grid: str, *, minimum: int | None = None,
                           maximum: int | None = None) -> dict[str, Any]:
        """Proposed micro-grids for a grid, buildings as atoms (accept with subdivide)."""
        with self._session(plan_id) as session:
            return session.propose_microgrids(grid, minimum=minimum, maximum=maximum)

    def compare_map(self, plan_id: int, options: Any, level: str = "grid") -> Any:
        """The plan drawn over its base, changed units filled (a folium map)."""
        from wangge.geo.levels import Level
        from wangge.maps.compare import compare

        base = self.store.plan(plan_id).base_release_id
        with self._session(plan_id) as session:
            before, after = session.base.frame(), session.frame()
            impact_changed = set(session.impact()["changed"])
            lv = Level(level)
            hb = session.households_by_code(lv, base=True)
            ha = session.households_by_code(lv)
        # In tiles (large levels): the base as it is, and its units the plan left unchanged.
        remote = options.remote(base, "overview")
        return compare(before, after, level=level, changed=impact_changed, households_before=hb,
                       households_after=ha, lang=options.lang, tiles=options.tiles,
                       tianditu_key=options.tianditu_key, assets=options.assets,
                       remote_before=remote, remote_after=remote)

    def stats(self, plan_id: int, level: str, within: str | None = None) -> list[dict[str, Any]]:
        """Figures of the plan's units of ``level`` (all, or under ``within``)."""
        from wangge.geo.levels import Level

        with self._session(plan_id) as session:
            return session.stats(Level(level), within)

    def trial(self, plan_id: int) -> PlanSession:
        """A private copy of the plan as stored, to try edits on without touching it."""
        return self._load(self.store.plan(plan_id))

    def summary(self, plan_id: int) -> dict[str, Any]:
        with self._session(plan_id) as session:
            return session.summary()

    def findings(self, plan_id: int) -> list[dict[str, Any]]:
        with self._session(plan_id) as session:
            return [f.as_dict() for f in session.findings.all()]

    def units(self, plan_id: int, level: str | None = None, within: str | None = None) -> Any:
        """The plan's units as a frame (EPSG:4490): all, or of one level, or under one unit."""
        with self._session(plan_id) as session:
            state = session.state
            frame = state.frame(state.subtree(state.get(within).uid) if within else None)
        return frame if level is None else frame[frame["level"] == level].reset_index(drop=True)

    # ---- sessions --------------------------------------------------------------------------
    @contextmanager
    def _session(self, plan_id: int, *, editing: bool = False) -> Iterator[PlanSession]:
        with self._guard:
            lock = self._locks.setdefault(plan_id, threading.Lock())
        with lock:
            info = self.store.plan(plan_id)
            if editing and info.status != "draft":
                raise Conflict(f"方案 {plan_id} 不是草稿，不能编辑。",
                               f"Plan {plan_id} is {info.status}; only a draft can be edited.",
                               plan_id=plan_id, status=info.status)
            with self._guard:
                session = self._sessions.get(plan_id)
                if session is not None and session.version != info.version:
                    session = None            # changed by another process: replay again
                if session is not None:
                    self._sessions.move_to_end(plan_id)
            if session is None:
                session = self._load(info)
                with self._guard:
                    self._sessions[plan_id] = session
                    while len(self._sessions) > self.kept:
                        self._sessions.popitem(last=False)
            yield session

    def _load(self, info: PlanInfo) -> PlanSession:
        session = self.base_session(info.base_release_id).fresh()
        edits = self.store.plan_edits(info.id)
        for edit in edits:
            session.edit(edit.op, admin=edit.admin)
        for edit in edits:
            if edit.undone:
                session.undo()
        session.version = info.version
        return session


    def base_session(self, release_id: int) -> PlanSession:
        """A session over ``release_id`` with no edits, built once while its households,
        workers and gazetteer stay the same (a release's units never change). Never edited
        itself: each plan starts from a :meth:`PlanSession.fresh` copy. Also prepared for the
        current release when a service starts (``warm_maps``)."""
        store = self.store
        revisions = store.revisions()
        key = (release_id, revisions["households"], revisions["workers"], self._gazetteer_id())
        with self._base_lock:
            if self._base is not None and self._base[0] == key:
                return self._base[1]
            households = PlanHouseholds(*store.household_points())
            session = PlanSession(store.units(release_id), households, workers=store.workers(),
                                  config=self.settings.validation_config(),
                                  ranges=self.settings.household_ranges(),
                                  snap_m=self.settings.plan_snap_m, compounds=self._compounds())
            self._base = (key, session)
            return session

    def warm(self) -> bool:
        """Build the base session of the current release (run in the background when a
        service starts); a failure is logged and answered False, never raised: plans then
        build it when opened."""
        def work() -> None:
            current = self.store.current_release()
            if current is not None:    # else nothing to prepare yet
                self.base_session(current.id)

        return warmed("规划基础", "plan base", work)

    def _gazetteer_id(self) -> int | None:
        try:
            return self.store.gazetteer_info().id
        except NotFound:
            return None

    def _compounds(self) -> tuple[PlanHouseholds, Any] | None:
        """Buildings of the current gazetteer as points with their compound ids, if any."""
        lon, lat, compound = self.store.building_points()
        return (PlanHouseholds(lon, lat), compound) if len(lon) else None

def _touched_codes(session: PlanSession) -> set[str]:
    """Base codes of the units the plan changes, with the parents of the units it adds."""
    out = set()
    for unit in session.state:
        old = session.base.units.get(unit.uid)
        if old is None:
            parent = session.base.units.get(unit.parent)
            if parent is not None:
                out.add(parent.code)
        elif (old.code, old.name, old.parent, old.geom) != (unit.code, unit.name, unit.parent,
                                                           unit.geom):
            out.add(old.code)
    out |= {u.code for u in session.base if u.uid not in session.state.units}
    return out
