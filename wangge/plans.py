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
from typing import Any

import numpy as np

from wangge.geo.errors import Conflict
from wangge.geo.plans.households import PlanHouseholds
from wangge.geo.plans.session import PlanSession
from wangge.settings import Settings
from wangge.store import Store
from wangge.store.plans import PlanInfo

KEPT_SESSIONS = 4   # a demo-sized session holds ~60 MB (households' points and their tree)


class PlanService:
    def __init__(self, store: Store, settings: Settings, kept: int = KEPT_SESSIONS) -> None:
        self.store = store
        self.settings = settings
        self.kept = kept
        self._sessions: OrderedDict[int, PlanSession] = OrderedDict()
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    # ---- plans -----------------------------------------------------------------------------
    def create(self, title: str, base_release_id: int | None = None, *,
               author: str | None = None) -> PlanInfo:
        base = self.store.release_or_current(base_release_id)
        return self.store.create_plan(title, base.id, author=author)

    def set_status(self, plan_id: int, status: str) -> PlanInfo:
        info = self.store.set_plan_status(plan_id, status)
        if status == "abandoned":
            with self._guard:
                self._sessions.pop(plan_id, None)
        return info

    # ---- editing ---------------------------------------------------------------------------
    def edit(self, plan_id: int, op: dict[str, Any], *, admin: bool,
             author: str | None = None) -> dict[str, Any]:
        with self._session(plan_id, editing=True) as session:
            answer = session.edit(op, admin=admin)
            try:
                answer["seq"] = self.store.add_plan_edit(plan_id, op, admin=admin, author=author)
            except BaseException:
                session.undo()
                session.undone.pop()
                raise
            return answer

    def undo(self, plan_id: int) -> dict[str, Any]:
        return self._step(plan_id, undo=True)

    def redo(self, plan_id: int) -> dict[str, Any]:
        return self._step(plan_id, undo=False)

    def _step(self, plan_id: int, *, undo: bool) -> dict[str, Any]:
        with self._session(plan_id, editing=True) as session:
            answer = session.undo() if undo else session.redo()
            try:
                self.store.mark_plan_edit(plan_id, undone=undo)
            except BaseException:
                session.redo() if undo else session.undo()
                raise
            return answer

    # ---- reading ---------------------------------------------------------------------------
    def impact(self, plan_id: int) -> dict[str, Any]:
        with self._session(plan_id) as session:
            return session.impact()

    def summary(self, plan_id: int) -> dict[str, Any]:
        with self._session(plan_id) as session:
            return session.summary()

    def findings(self, plan_id: int) -> list[dict[str, Any]]:
        with self._session(plan_id) as session:
            return [f.as_dict() for f in session.findings.all()]

    def units(self, plan_id: int, level: str | None = None) -> Any:
        """The plan's units as a frame (EPSG:4490), optionally of one level."""
        with self._session(plan_id) as session:
            frame = session.frame()
        return frame if level is None else frame[frame["level"] == level].reset_index(drop=True)

    # ---- sessions --------------------------------------------------------------------------
    @contextmanager
    def _session(self, plan_id: int, *, editing: bool = False) -> Iterator[PlanSession]:
        info = self.store.plan(plan_id)
        if editing and info.status != "draft":
            raise Conflict(f"方案 {plan_id} 不是草稿，不能编辑。",
                           f"Plan {plan_id} is {info.status}; only a draft can be edited.",
                           plan_id=plan_id, status=info.status)
        with self._guard:
            lock = self._locks.setdefault(plan_id, threading.Lock())
        with lock:
            with self._guard:
                session = self._sessions.get(plan_id)
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
        store = self.store
        units = store.units(info.base_release_id)
        located = store.located_households(info.base_release_id)
        households = PlanHouseholds(located["lon"].to_numpy(float), located["lat"].to_numpy(float),
                                    np.asarray(located["size"], dtype=float))
        session = PlanSession(units, households, workers=store.workers(),
                              config=self.settings.validation_config(),
                              ranges=self.settings.household_ranges(),
                              snap_m=self.settings.plan_snap_m)
        edits = store.plan_edits(info.id)
        for edit in edits:
            session.edit(edit.op, admin=edit.admin)
        for edit in edits:
            if edit.undone:
                session.undo()
        return session
