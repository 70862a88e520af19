"""Domain errors: one base class, one-line subclasses, messages in Chinese and English.

Nothing here knows about HTTP; `api/errors.py` maps these classes to status codes.
"""

from __future__ import annotations

from typing import Any


def echo(value: object, limit: int = 80) -> str:
    """A user's value as a message repeats it: cut to ``limit`` characters, so that a hostile
    input (a 100 KB cell, a 400-digit number) cannot swell the answer or the log."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


class WanggeError(Exception):
    """Base of every error wangge reports to a user.

    ``message_zh`` / ``message_en`` are user-facing; ``detail`` carries structured context
    (feature index, field, rule...) that is safe to show; internals go to the log, not here.
    """

    code = "wangge_error"

    def __init__(self, message_zh: str, message_en: str, **detail: Any) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message_zh, "message_en": self.message_en,
                "detail": self.detail}


class InputError(WanggeError):
    code = "invalid_input"


class CRSError(InputError):
    code = "invalid_crs"


class CoordinateRangeError(InputError):
    code = "coordinates_out_of_range"


class FieldMappingError(InputError):
    code = "field_mapping"


class FileFormatError(InputError):
    code = "file_format"


class TooLarge(InputError):
    code = "payload_too_large"


class TableTooLarge(TooLarge):
    """A table past its limits; ``detail["limit"]`` is rows, columns, cells, unzipped_bytes or ratio."""

    code = "too_large"


class ValidationFailed(WanggeError):
    """A release has errors; ``report`` holds every finding."""

    code = "validation_failed"

    def __init__(self, message_zh: str, message_en: str, report: Any, **detail: Any) -> None:
        super().__init__(message_zh, message_en, **detail)
        self.report = report


class NotFound(WanggeError):
    code = "not_found"


class Conflict(WanggeError):
    code = "conflict"


class NotPermitted(WanggeError):
    """The caller's role may not do this (e.g. a planner changing an official boundary)."""

    code = "not_permitted"
