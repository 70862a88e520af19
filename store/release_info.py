"""What the store tells about a release (a boundary version)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal

from wangge.geo.levels import ORDER

# Boundary versions take effect on Chinese calendar days (UTC+8, no daylight saving).
CHINA_TIME = timezone(timedelta(hours=8), "CST")


def china_date(moment: datetime) -> date:
    """The Chinese calendar date of an instant (UTC+8); a naive datetime is read as China time."""
    return moment.date() if moment.tzinfo is None else moment.astimezone(CHINA_TIME).date()


@dataclass(frozen=True)
class ReleaseInfo:
    """One release: its metadata, state and unit counts, as of one day (China date).

    ``published_at`` is when it was last published (None for a draft); ``is_current`` whether it
    is the release in force that day; ``scheduled`` whether it is published with an effective
    date still to come (it comes into force that day); ``counts`` holds the number of units per
    level, every level present.
    """

    id: int
    source: str
    note: str | None
    created_at: datetime
    effective_date: date
    published_at: datetime | None
    is_current: bool
    scheduled: bool
    unit_count: int
    error_count: int
    warning_count: int
    counts: dict[str, int] = field(default_factory=dict, hash=False)

    @classmethod
    def from_row(cls, row: Any, level_counts: dict[str, int],
                 today: date | None = None) -> ReleaseInfo:
        """Build from a ``releases`` row and that release's ``{level: count}``, as of ``today``
        (China date; the real one by default)."""
        today = today or china_date(datetime.now(UTC))
        return cls(
            id=row.id,
            source=row.source,
            note=row.note,
            created_at=row.created_at,
            effective_date=row.effective_date,
            published_at=row.published_at,
            is_current=bool(row.is_current),
            scheduled=row.published_at is not None and row.effective_date > today,
            unit_count=row.unit_count,
            error_count=row.error_count,
            warning_count=row.warning_count,
            counts={level.value: level_counts.get(level.value, 0) for level in ORDER},
        )

    @property
    def state(self) -> Literal["current", "scheduled", "published", "draft"]:
        """current (in force), scheduled (in force from its effective date), published (in force
        before, replaced since) or draft (never published)."""
        if self.is_current:
            return "current"
        if self.scheduled:
            return "scheduled"
        return "draft" if self.published_at is None else "published"

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, dates and times in ISO 8601."""
        return {
            "id": self.id,
            "source": self.source,
            "note": self.note,
            "created_at": self.created_at.isoformat(),
            "effective_date": self.effective_date.isoformat(),
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "is_current": self.is_current,
            "scheduled": self.scheduled,
            "state": self.state,
            "unit_count": self.unit_count,
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "counts": dict(self.counts),
        }
