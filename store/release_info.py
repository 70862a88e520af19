"""What the store tells about a release (a boundary version)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from wangge.geo.levels import ORDER


@dataclass(frozen=True)
class ReleaseInfo:
    """One release: its metadata, state and unit counts.

    ``published_at`` is when it was first made current (None for a draft); ``counts`` holds the
    number of units per level, every level present.
    """

    id: int
    source: str
    note: str | None
    created_at: datetime
    effective_date: date
    published_at: datetime | None
    is_current: bool
    unit_count: int
    error_count: int
    warning_count: int
    counts: dict[str, int] = field(default_factory=dict, hash=False)

    @classmethod
    def from_row(cls, row: Any, level_counts: dict[str, int]) -> ReleaseInfo:
        """Build from a ``releases`` row and that release's ``{level: count}``."""
        return cls(
            id=row.id,
            source=row.source,
            note=row.note,
            created_at=row.created_at,
            effective_date=row.effective_date,
            published_at=row.published_at,
            is_current=bool(row.is_current),
            unit_count=row.unit_count,
            error_count=row.error_count,
            warning_count=row.warning_count,
            counts={level.value: level_counts.get(level.value, 0) for level in ORDER},
        )

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
            "unit_count": self.unit_count,
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "counts": dict(self.counts),
        }
