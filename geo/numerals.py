"""Chinese numerals as people write them in addresses and registers.

``cn_to_int`` reads a numeral below 1000 (``十二``, ``一二〇一``); ``people`` reads a count of
persons as registers write it (``3``, ``三口``, ``3人``, ``两口人``). Full-width digits are the
callers' NFKC business (the table reader and the address normaliser both apply it).
"""

from __future__ import annotations

import re
import unicodedata

CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
CN_NUMERAL = "零〇○一二两三四五六七八九十百"

_PEOPLE = re.compile(rf"(?P<n>[0-9]+(?:\.0+)?|[{CN_NUMERAL}]+)\s*(?:口人|口|人|名)?")


def cn_to_int(text: str) -> int | None:
    """The value of a Chinese numeral below 1000 (``十二`` → 12, ``一二〇一`` → 1201), else None."""
    if not text:
        return None
    if "十" not in text and "百" not in text:
        digits = [CN_DIGITS.get(c) for c in text]
        if any(d is None for d in digits):
            return None
        return int("".join(str(d) for d in digits))
    total, current = 0, 0
    for c in text:
        if c in CN_DIGITS:
            current = CN_DIGITS[c]
        elif c == "十":
            total += (current or 1) * 10
            current = 0
        elif c == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def people(value: object) -> int | None:
    """A count of persons as written (``3``, ``3.0``, ``三口``, ``3人``, ``两口人``); None when
    empty. Raises ValueError for anything else (a register row to report, not to drop)."""
    if value is None:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text or text.lower() == "nan":
        return None
    match = _PEOPLE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a count of persons: {text!r}")
    n = match.group("n")
    if len(n) > 8:      # no register counts persons in the hundreds of millions
        raise ValueError("not a count of persons: too many digits")
    value_ = int(float(n)) if n[0].isdigit() else cn_to_int(n)
    if value_ is None:
        raise ValueError(f"not a count of persons: {text!r}")
    return value_
