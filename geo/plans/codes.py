"""Codes of new and moved units under the code rule.

With ``prefix_serial`` a unit's code is its parent's code plus a serial of fixed width, so a
unit that changes parent gets a new code (the next free serial under its new parent) and its
descendants keep their serials under the new prefix. The next serial is one above the highest
used under that parent now or in the base release, so a code removed by an edit is never given
to another unit in the same plan (and replaying the edits gives the same codes).
"""

from __future__ import annotations

from wangge.geo.boundaries.rules import ValidationConfig
from wangge.geo.errors import Conflict, InputError
from wangge.geo.levels import Level
from wangge.geo.plans.state import Draft, Unit


class CodeBook:
    """Hands out codes; knows the base release's codes so serials are not reused."""

    def __init__(self, config: ValidationConfig, base_codes: set[str]) -> None:
        self.config = config
        self.base_codes = frozenset(base_codes)

    def new_code(self, draft: Draft, parent: Unit, level: Level, taken: frozenset[str] = frozenset()
                 ) -> str:
        """The next free code for a ``level`` unit under ``parent``."""
        prefix = parent.code
        width = self.config.serial_digits[level] if self.config.code_rule == "prefix_serial" else 0
        used = {u.code for u in draft.kids(parent.uid)} | set(taken)
        used |= {c for c in self.base_codes if c.startswith(prefix)}
        serials = [int(c[len(prefix):].lstrip("-") or 0) for c in used
                   if c.startswith(prefix) and c[len(prefix):].lstrip("-").isdigit()
                   and (width == 0 or len(c) == len(prefix) + width)]
        serial = max(serials, default=0) + 1
        if width:
            if serial >= 10 ** width:
                raise Conflict(f"{parent.code} 下的{level.zh}编码已用完（{width} 位序号）。",
                               f"No {level.value} code left under {parent.code} "
                               f"({width}-digit serials).", code=parent.code)
            return f"{prefix}{serial:0{width}d}"
        return f"{prefix}-{serial}"

    def check(self, draft: Draft, unit: Unit, code: str, parent: Unit | None) -> str:
        """``code`` if it may name ``unit`` under ``parent``, else InputError/Conflict."""
        code = str(code).strip()
        if not code or len(code) > 64:
            raise InputError("编码不能为空，且不超过 64 个字符。",
                             "A code must be 1 to 64 characters.", code=code[:64])
        if self.config.code_rule == "prefix_serial":
            pattern = self.config.code_pattern(unit.level)
            prefix = parent.code if parent is not None else None
            if not pattern.match(code) or (prefix is not None and not code.startswith(prefix)):
                expected = f"{prefix} 开头、" if prefix else ""
                raise InputError(
                    f"{unit.level.zh}编码 {code} 不符合编码规则：应为{expected}"
                    f"{self.config.code_length(unit.level)} 位数字。",
                    f"{unit.level.value} code {code} breaks the code rule: expected "
                    f"{self.config.code_length(unit.level)} digits"
                    + (f" starting with {prefix}." if prefix else "."), code=code)
        owner = draft.state.by_code.get(code)
        if owner is not None and owner != unit.uid:
            current = draft.unit(owner)
            if current is not None and current.code == code:
                raise Conflict(f"编码 {code} 已被 {current.name} 使用。",
                               f"Code {code} is already used by {current.name}.", code=code)
        if any(u is not None and u.code == code and u.uid != unit.uid
               for u in draft.changes.values()):
            raise Conflict(f"编码 {code} 已被使用。", f"Code {code} is already used.", code=code)
        return code


def reprefix(draft: Draft, unit: Unit, new_code: str) -> None:
    """Give ``unit`` ``new_code`` and its descendants the new prefix (their serials kept)."""
    old = unit.code
    draft.set(unit.but(code=new_code))
    stack = [unit.uid]
    while stack:
        for kid in draft.kids(stack.pop()):
            if kid.code.startswith(old):
                draft.set(kid.but(code=new_code + kid.code[len(old):]))
            stack.append(kid.uid)


