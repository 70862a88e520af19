"""The one place where storage exceptions become domain errors (``geo.errors``).

Integrity errors are classified by kind (unique, check, not-null, foreign key) and, where the
constraint is known, given a specific bilingual message. The driver's own text goes to the log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DataError, IntegrityError, NoResultFound

from geo.errors import Conflict, InputError, NotFound, WanggeError

log = logging.getLogger(__name__)

# Known constraints: name -> (error class, message_zh, message_en).
_KNOWN: dict[str, tuple[type[WanggeError], str, str]] = {
    "uq_units_release_id_code": (
        Conflict, "单元编码重复：同一版本中每个编码只能出现一次。",
        "Duplicate unit code: each code may occur only once in a release."
    ),
    "uq_releases_is_current": (
        Conflict,
        "另一个版本同时被设为当前版本，请重试。",
        "Another release was made current at the same time; please try again.",
    ),
    "ck_units_level": (
        InputError,
        "单元层级必须是 street、community、grid、microgrid 之一。",
        "A unit's level must be one of street, community, grid, microgrid.",
    ),
    "ck_releases_current_without_errors": (
        Conflict, "有错误的版本不能设为当前版本。", "A release with errors cannot be made current."
    ),
}

_KIND_BY_SQLSTATE = {"23505": "unique", "23514": "check", "23502": "not_null", "23503": "foreign_key"}
_KIND_BY_SQLITE_NAME = {
    "SQLITE_CONSTRAINT_UNIQUE": "unique",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "unique",
    "SQLITE_CONSTRAINT_CHECK": "check",
    "SQLITE_CONSTRAINT_NOTNULL": "not_null",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "foreign_key",
}
# "UNIQUE constraint failed: units.release_id, units.code" / "CHECK constraint failed: ck_x"
_SQLITE_MESSAGE = re.compile(r"^\w+(?: \w+)? constraint failed: (?P<what>.+)$")


@contextmanager
def translate_errors(not_found: NotFound | None = None) -> Iterator[None]:
    """Turn SQLAlchemy integrity and no-result errors raised inside the block into domain errors.

    ``not_found`` is the error to raise for ``NoResultFound`` (a generic one if omitted).
    """
    try:
        yield
    except NoResultFound as exc:
        raise (not_found or NotFound("未找到数据。", "Not found.")) from exc
    except IntegrityError as exc:
        log.info("integrity error from the database: %s", exc.orig)
        raise integrity_error(exc) from exc
    except (OverflowError, DataError) as exc:  # e.g. an id beyond the integer column's range
        log.info("value out of the database's range: %s", exc)
        raise InputError("数值超出范围。", "A number is out of range.") from exc


def integrity_error(exc: IntegrityError) -> WanggeError:
    """The domain error for one integrity error, from either driver."""
    kind, constraint, column = _describe(exc.orig)
    if constraint in _KNOWN:
        cls, zh, en = _KNOWN[constraint]
        return cls(zh, en, constraint=constraint)
    if kind == "not_null":
        return InputError(f"必填的值为空：{column}。", f"A required value is missing: {column}.",
                          column=column)
    if kind == "check":
        return InputError("数据不符合存储规则。", "The data breaks a storage rule.",
                          constraint=constraint)
    return Conflict("与已有数据冲突。", "The data conflicts with stored data.",
                    constraint=constraint)


def _describe(orig: BaseException | None) -> tuple[str, str | None, str | None]:
    """(kind, constraint name, column) of a driver integrity error, as far as it tells."""
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        diag = orig.diag  # type: ignore[union-attr]
        return _KIND_BY_SQLSTATE.get(sqlstate, "other"), diag.constraint_name, diag.column_name
    kind = _KIND_BY_SQLITE_NAME.get(getattr(orig, "sqlite_errorname", ""), "other")
    match = _SQLITE_MESSAGE.match(str(orig))
    what = match["what"] if match else ""
    if kind == "unique":
        # SQLite names the columns, not the index: rebuild the conventional name from them.
        columns = [part.strip().split(".") for part in what.split(",")]
        if columns and all(len(part) == 2 for part in columns):
            table = columns[0][0]
            return kind, "uq_" + table + "_" + "_".join(col for _, col in columns), None
        return kind, None, None
    if kind == "not_null":
        return kind, None, what.split(".")[-1] or None
    if kind == "check":
        return kind, what or None, None
    return kind, None, None
