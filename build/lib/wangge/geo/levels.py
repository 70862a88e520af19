"""The four levels of the grid hierarchy and their order."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """A level of the hierarchy, top to bottom."""

    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    MICROGRID = "microgrid"

    @property
    def depth(self) -> int:
        return ORDER.index(self)

    @property
    def parent(self) -> Level | None:
        return ORDER[self.depth - 1] if self.depth > 0 else None

    @property
    def child(self) -> Level | None:
        return ORDER[self.depth + 1] if self.depth + 1 < len(ORDER) else None

    @property
    def zh(self) -> str:
        return NAMES_ZH[self]


ORDER: tuple[Level, ...] = (Level.STREET, Level.COMMUNITY, Level.GRID, Level.MICROGRID)
NAMES_ZH = {Level.STREET: "街道", Level.COMMUNITY: "社区", Level.GRID: "网格",
            Level.MICROGRID: "微网格"}

# Words users write for a level in their files (Chinese and English), mapped to the level.
ALIASES: dict[str, Level] = {
    **{lv.value: lv for lv in ORDER},
    **{zh: lv for lv, zh in NAMES_ZH.items()},
    "镇": Level.STREET, "乡": Level.STREET, "街道办事处": Level.STREET, "town": Level.STREET,
    "subdistrict": Level.STREET,
    "村": Level.COMMUNITY, "居委会": Level.COMMUNITY, "村委会": Level.COMMUNITY,
    "village": Level.COMMUNITY,
    "micro-grid": Level.MICROGRID, "micro_grid": Level.MICROGRID, "微格": Level.MICROGRID,
}


def parse_level(value: object) -> Level | None:
    """Return the level a user's value names, or None if it names none."""
    if value is None:
        return None
    return ALIASES.get(str(value).strip().lower()) or ALIASES.get(str(value).strip())
