"""A settable clock for ``Store.clock``: tests move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    """Answers the instant last set (ISO 8601 with an offset), as an aware UTC datetime."""

    def __init__(self, instant: str) -> None:
        self.set(instant)

    def set(self, instant: str) -> None:
        self.now = datetime.fromisoformat(instant).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now
