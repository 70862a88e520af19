"""Validation settings: tolerances, the code rule and area ranges per level.

A plain frozen dataclass so `geo/` stays free of the settings machinery; the application's
settings object builds one (see ``wangge.settings``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wangge.geo.levels import Level

KM2 = 1_000_000.0


def _default_area_ranges() -> dict[Level, tuple[float, float]]:
    # Urban and rural districts differ a lot; these are wide sanity bounds (warnings only).
    return {
        Level.STREET: (0.3 * KM2, 800 * KM2),
        Level.COMMUNITY: (0.02 * KM2, 200 * KM2),
        Level.GRID: (2_000.0, 60 * KM2),
        Level.MICROGRID: (100.0, 20 * KM2),
    }


def _default_serial_digits() -> dict[Level, int]:
    return {Level.STREET: 3, Level.COMMUNITY: 3, Level.GRID: 3, Level.MICROGRID: 3}


@dataclass(frozen=True)
class ValidationConfig:
    """Tolerances and rules for :func:`wangge.geo.boundaries.validate.validate`.

    Areas are m² measured in a CGCS2000 Gauss–Krüger zone; lengths in m.
    """

    overlap_tolerance_m2: float = 1.0   # sibling overlaps below this are warnings
    gap_tolerance_m2: float = 1.0       # gaps below this are warnings
    outside_tolerance_m2: float = 1.0   # a child sticking out of its parent by less: warning
    sliver_width_m: float = 1.0         # a polygon part whose mean width (2A/P) is below: sliver
    noise_m2: float = 1e-4              # below coordinate precision (1 cm²): not a finding
    noise_width_m: float = 0.001        # gap/overlap pieces thinner than 1 mm: overlay residue
    # --repair refuses to change a unit's area by more than this (in % of its drawn area).
    repair_max_area_change_pct: float = 1.0
    # Code rule "prefix_serial": a unit's code is its parent's code plus N digits (per level);
    # a street's parent code is the county adcode of ``root_code_digits`` digits.
    code_rule: str = "prefix_serial"    # or "none"
    root_code_digits: int = 6
    serial_digits: dict[Level, int] = field(default_factory=_default_serial_digits)
    area_ranges_m2: dict[Level, tuple[float, float]] = field(default_factory=_default_area_ranges)

    def __post_init__(self) -> None:
        if not 0.0 <= self.repair_max_area_change_pct < 100.0:
            raise ValueError("repair_max_area_change_pct must be in [0, 100)")

    def code_length(self, level: Level) -> int:
        return self.root_code_digits + sum(self.serial_digits[lv] for lv in Level
                                           if lv.depth <= level.depth)

    def code_pattern(self, level: Level) -> re.Pattern[str]:
        return re.compile(rf"^[0-9]{{{self.code_length(level)}}}$")

    def level_from_code(self, code: str) -> Level | None:
        """The level a code of the default rule belongs to, by its length."""
        if self.code_rule != "prefix_serial" or not (code.isascii() and code.isdigit()):
            return None
        for level in Level:
            if len(code) == self.code_length(level):
                return level
        return None
