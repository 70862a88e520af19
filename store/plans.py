"""Plans in the store: a plan's record and its log of edits (a mixin of the Store).

The units of a plan are never stored: a plan is its base release plus its edits, replayed
(see :mod:`wangge.plans`). Undo marks the last edit undone; a new edit drops the undone ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wangge.geo.errors import Conflict, InputError, NotFound
from wangge.store.schema import plan_edits as edit_table
from wangge.store.schema import plans as plan_table

STATUS_ZH = {"draft": "草稿", "submitted": "已提交", "published": "已发布", "abandoned": "已放弃"}
# Which status may follow which.
NEXT_STATUS = {"draft": {"submitted", "abandoned", "published"},
               "submitted": {"draft", "published", "abandoned"},
               "published": set(), "abandoned": set()}


class StalePlan(Conflict):
    """The plan changed (in another process) since the version the caller holds."""

    code = "plan_changed"


@dataclass(frozen=True)
class PlanInfo:
    id: int
    title: str
    author: str | None
    base_release_id: int
    status: str
    created_at: datetime
    updated_at: datetime
    published_release_id: int | None
    edits: int
    undone: int
    version: int

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "author": self.author,
                "base_release_id": self.base_release_id, "status": self.status,
                "status_zh": STATUS_ZH[self.status], "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(),
                "published_release_id": self.published_release_id, "edits": self.edits,
                "undone": self.undone, "version": self.version}


@dataclass(frozen=True)
class PlanEdit:
    seq: int
    op: dict[str, Any]
    admin: bool
    undone: bool
    author: str | None
    at: datetime


class PlansMixin:
    """Plan methods of the store; ``_read``/``_write``/``_release_row`` come from the Store."""

    _read: Any
    _write: Any
    _release_row: Any

    def create_plan(self, title: str, base_release_id: int, *, author: str | None = None
                    ) -> PlanInfo:
        title = str(title or "").strip()
        if not title or len(title) > 200:
            raise InputError("方案须有标题（不超过 200 个字符）。",
                             "A plan needs a title of at most 200 characters.")
        now = datetime.now(UTC)
        with self._write() as conn:
            self._release_row(conn, base_release_id)
            insert = sa.insert(plan_table).values(
                title=title, author=author, base_release_id=base_release_id, status="draft",
                created_at=now, updated_at=now, version=0).returning(plan_table.c.id)
            plan_id = conn.execute(insert).scalar_one()
            return self._plan(conn, plan_id)

    def plans(self, status: str | None = None) -> list[PlanInfo]:
        """Every plan (or those with ``status``), newest first."""
        with self._read() as conn:
            query = sa.select(plan_table.c.id).order_by(plan_table.c.id.desc())
            if status is not None:
                query = query.where(plan_table.c.status == status)
            return [self._plan(conn, pid) for pid in conn.execute(query).scalars()]

    def plan(self, plan_id: int) -> PlanInfo:
        with self._read() as conn:
            return self._plan(conn, plan_id)

    def plan_edits(self, plan_id: int) -> list[PlanEdit]:
        """The plan's log, in order, undone edits included (marked)."""
        e = edit_table.c
        with self._read() as conn:
            self._plan(conn, plan_id)
            rows = conn.execute(sa.select(e.seq, e.op, e.admin, e.undone, e.author, e.at)
                                .where(e.plan_id == plan_id).order_by(e.seq)).all()
        return [PlanEdit(*row) for row in rows]

    def add_plan_edit(self, plan_id: int, op: dict[str, Any], *, admin: bool,
                      author: str | None = None, expected_version: int | None = None
                      ) -> tuple[int, int]:
        """Append an edit to a draft (dropping undone edits): ``(its sequence, plan version)``.

        With ``expected_version``, refused with :class:`StalePlan` if the plan changed since.
        """
        e = edit_table.c
        now = datetime.now(UTC)
        with self._write() as conn:
            self._editable(conn, plan_id, expected_version)
            conn.execute(sa.delete(edit_table).where(e.plan_id == plan_id, e.undone))
            seq = conn.execute(sa.select(sa.func.coalesce(sa.func.max(e.seq), 0))
                               .where(e.plan_id == plan_id)).scalar_one() + 1
            conn.execute(sa.insert(edit_table).values(plan_id=plan_id, seq=seq, op=op, admin=admin,
                                                      undone=False, author=author, at=now))
            return int(seq), self._touch(conn, plan_id, now)

    def mark_plan_edit(self, plan_id: int, *, undone: bool, expected_version: int | None = None
                       ) -> tuple[int, int]:
        """Undo (the last done edit) or redo (the first undone one): ``(its sequence, plan
        version)``; with ``expected_version`` refused with :class:`StalePlan` if it changed."""
        e = edit_table.c
        with self._write() as conn:
            self._editable(conn, plan_id, expected_version)
            pick = sa.func.max(e.seq) if undone else sa.func.min(e.seq)
            seq = conn.execute(sa.select(pick).where(e.plan_id == plan_id,
                                                     e.undone.is_(not undone))).scalar()
            if seq is None:
                raise Conflict("没有可以撤销的编辑。" if undone else "没有可以重做的编辑。",
                               "There is no edit to undo." if undone else "There is no edit to redo.",
                               plan_id=plan_id)
            conn.execute(sa.update(edit_table).where(e.plan_id == plan_id, e.seq == seq)
                         .values(undone=undone))
            return int(seq), self._touch(conn, plan_id, datetime.now(UTC))

    def set_plan_status(self, plan_id: int, status: str, *,
                        published_release_id: int | None = None) -> PlanInfo:
        with self._write() as conn:
            info = self._plan(conn, plan_id)
            if status not in NEXT_STATUS.get(info.status, set()):
                raise Conflict(f"方案 {plan_id} 状态为“{STATUS_ZH[info.status]}”，不能改为"
                               f"“{STATUS_ZH.get(status, status)}”。",
                               f"Plan {plan_id} is {info.status}; it cannot become {status}.",
                               plan_id=plan_id, status=info.status)
            values: dict[str, Any] = {"status": status, "updated_at": datetime.now(UTC),
                                      "version": info.version + 1}
            if published_release_id is not None:
                values["published_release_id"] = published_release_id
            conn.execute(sa.update(plan_table).where(plan_table.c.id == plan_id).values(values))
            return self._plan(conn, plan_id)

    def rebase_plan(self, plan_id: int, release_id: int) -> PlanInfo:
        """Move a draft onto another base release (its edits replay unchanged over it)."""
        with self._write() as conn:
            self._release_row(conn, release_id)
            info = self._plan(conn, plan_id)
            if info.status not in ("draft", "submitted"):
                raise Conflict(f"方案 {plan_id} 已{STATUS_ZH[info.status]}，不能更换基础版本。",
                               f"Plan {plan_id} is {info.status}; its base cannot change.",
                               plan_id=plan_id)
            conn.execute(sa.update(plan_table).where(plan_table.c.id == plan_id)
                         .values(base_release_id=release_id, updated_at=datetime.now(UTC),
                                 version=info.version + 1))
            return self._plan(conn, plan_id)

    # ---- helpers -------------------------------------------------------------------------
    def _plan(self, conn: Connection, plan_id: int) -> PlanInfo:
        p, e = plan_table.c, edit_table.c
        row = conn.execute(sa.select(plan_table).where(p.id == plan_id)).first()
        if row is None:
            raise NotFound(f"方案 {plan_id} 不存在。", f"Plan {plan_id} does not exist.",
                           plan_id=plan_id)
        counts = dict(conn.execute(sa.select(e.undone, sa.func.count()).where(e.plan_id == plan_id)
                                   .group_by(e.undone)).all())
        return PlanInfo(row.id, row.title, row.author, row.base_release_id, row.status,
                        row.created_at, row.updated_at, row.published_release_id,
                        int(counts.get(False, 0)), int(counts.get(True, 0)), row.version)

    def _editable(self, conn: Connection, plan_id: int, expected_version: int | None = None
                  ) -> PlanInfo:
        # Lock the plan's row first (PostgreSQL): writers of one plan go one at a time.
        conn.execute(sa.select(plan_table.c.id).where(plan_table.c.id == plan_id)
                     .with_for_update())
        info = self._plan(conn, plan_id)
        if expected_version is not None and info.version != expected_version:
            raise StalePlan(f"方案 {plan_id} 已在别处被修改，请重新加载。",
                            f"Plan {plan_id} was changed elsewhere; reload it.", plan_id=plan_id,
                            version=info.version)
        if info.status != "draft":
            raise Conflict(f"方案 {plan_id} 状态为“{STATUS_ZH[info.status]}”，只有草稿可以编辑。",
                           f"Plan {plan_id} is {info.status}; only a draft can be edited.",
                           plan_id=plan_id, status=info.status)
        return info

    @staticmethod
    def _touch(conn: Connection, plan_id: int, now: datetime) -> int:
        """Mark the plan changed; its new version."""
        query = (sa.update(plan_table).where(plan_table.c.id == plan_id)
                 .values(updated_at=now, version=plan_table.c.version + 1)
                 .returning(plan_table.c.version))
        return int(conn.execute(query).scalar_one())
