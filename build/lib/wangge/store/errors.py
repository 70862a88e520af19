"""The one place where storage exceptions become domain errors (``wangge.geo.errors``).

Integrity errors are classified by kind (unique, check, not-null, foreign key) and, where the
constraint is known, given a specific bilingual message. A database that cannot be reached, has
dropped the connection or is locked gives :class:`wangge.geo.errors.StoreUnavailable` (503 with
``Retry-After`` in the API). The driver's own text goes to the log.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    NoResultFound,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from wangge.geo.errors import Conflict, InputError, NotFound, WanggeError


class StoreUnavailable(WanggeError):
    """The database cannot be reached or opened."""

    code = "store_unavailable"


log = logging.getLogger(__name__)

# Errors meaning "the database is not there right now": refused or lost connections, a server
# shutting down, a locked SQLite file, no pooled connection free in time. SQLAlchemy wraps the
# driver's own errors; the drivers' classes are listed for code that reaches them unwrapped.
_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout,
                psycopg.OperationalError, psycopg.InterfaceError, sqlite3.OperationalError)
UNAVAILABLE_LOG_EVERY_S = 30.0  # an outage is logged once, then at most this often

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
    """Turn storage errors raised inside the block into domain errors.

    Integrity and no-result errors become Conflict, InputError or NotFound (``not_found`` is the
    error to raise for ``NoResultFound``, a generic one if omitted); an unreachable, disconnected
    or locked database becomes StoreUnavailable. Every read and write of the store runs in it.
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
    except (*_UNAVAILABLE, DBAPIError) as exc:
        if not is_unavailable(exc):
            raise
        _outage_log.report(exc)
        raise store_unavailable() from exc


def store_unavailable() -> StoreUnavailable:
    """The error for a database that cannot be used right now (the caller may retry)."""
    return StoreUnavailable("数据库暂时不可用，请稍后重试。",
                            "The database is unavailable for the moment; please try again shortly.")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unreachable, gone or locked (not a mistake in SQL)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if not isinstance(exc, _UNAVAILABLE):
        return False
    # SQLite reports mistakes in SQL ("no such table", syntax) as OperationalError too, with the
    # generic SQLITE_ERROR code: those are bugs and stay 500s.
    orig = getattr(exc, "orig", exc)
    return getattr(orig, "sqlite_errorname", None) != "SQLITE_ERROR"


class _OutageLog:
    """Log the first unavailable error, then at most one line per interval with a count."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._lock = threading.Lock()
        self._last = -float("inf")
        self._quiet = 0

    def report(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.every_s:
                self._quiet += 1
                return
            self._last, quiet, self._quiet = now, self._quiet, 0
        orig = getattr(exc, "orig", None) or exc
        first_line = (str(orig).strip().splitlines() or [""])[0]
        more = f" ({quiet} more since the last report)" if quiet else ""
        log.warning("database unavailable%s: %s: %s", more, type(orig).__name__, first_line)


_outage_log = _OutageLog(UNAVAILABLE_LOG_EVERY_S)


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
