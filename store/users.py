"""Accounts for people with a browser: users, passwords, sessions and failed-login throttling.

A mixin of :class:`wangge.store.store.Store`. A password is kept only as a scrypt hash
(``hashlib.scrypt``, standard library: memory-hard, no extra dependency) with its own random
salt and its parameters, ``scrypt$n$r$p$salt$hash``, so that stronger parameters can be chosen
later without breaking stored hashes. A session is kept only as the SHA-256 of its token (32
random bytes: a fast hash is enough for a secret that cannot be guessed). Every time is read
from the store's ``clock``, so tests can move it.

Throttling: each failed login counts against the account name (known or not, so that a lockout
does not tell which names exist) and against the client address. At ``max_failures`` (per
account) or ``max_failures_per_address`` failures, further attempts are refused unchecked for
``backoff_s``, doubling with each further failure up to ``backoff_max_s``; a quiet hour forgets
them, and a successful login clears its account's count.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wangge.geo.errors import Conflict, InputError, NotFound
from wangge.store.access import check_role
from wangge.store.schema import login_failures as failure_table
from wangge.store.schema import sessions as session_table
from wangge.store.schema import users as user_table

# scrypt parameters of new hashes: N=2^14, r=8, p=1 take 16 MiB and tens of milliseconds per
# hash — slow for guessing, quick enough for a login page. Each hash carries its parameters, so
# raising them later keeps old hashes valid.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_MAXMEM = 256 * 1024 * 1024          # enough for stored parameters up to N=2^17, r=16

MIN_PASSWORD = 8
MAX_PASSWORD = 1024                  # a longer "password" only costs the server time
MAX_NAME = 64
# A session's last use is written at most this often (a page's many requests cost one write).
TOUCH_EVERY = timedelta(seconds=60)
FORGET_FAILURES_AFTER = timedelta(hours=1)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """The stored form of ``password``: ``scrypt$n$r$p$salt$hash`` (base64)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                            maxmem=_MAXMEM, dklen=_HASH_BYTES)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), maxmem=_MAXMEM, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


# Verified against when the account does not exist, so that the answer takes as long.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """A user name, normalised (NFKC, trimmed); InputError if it cannot be one."""
    name = unicodedata.normalize("NFKC", name or "").strip()
    if not name or len(name) > MAX_NAME or any(c.isspace() or not c.isprintable() for c in name):
        raise InputError(f"用户名须为 1–{MAX_NAME} 个字符，不含空格或控制字符。",
                         f"A user name is 1–{MAX_NAME} characters, without spaces or control "
                         "characters.")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        raise InputError(f"密码须为 {MIN_PASSWORD}–{MAX_PASSWORD} 个字符。",
                         f"A password is {MIN_PASSWORD}–{MAX_PASSWORD} characters long.")
    return password


def name_taken(name: str) -> Conflict:
    return Conflict(f"用户“{name}”已存在。", f"User '{name}' already exists.", name=name)


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    created_at: datetime
    password_changed_at: datetime
    last_login_at: datetime | None
    disabled_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        return {"id": self.id, "name": self.name, "role": self.role,
                "created_at": iso(self.created_at),
                "password_changed_at": iso(self.password_changed_at),
                "last_login_at": iso(self.last_login_at), "disabled_at": iso(self.disabled_at)}


_USER_COLUMNS = (user_table.c.id, user_table.c.name, user_table.c.role, user_table.c.created_at,
                 user_table.c.password_changed_at, user_table.c.last_login_at,
                 user_table.c.disabled_at)


@dataclass(frozen=True)
class LoginPolicy:
    """How failed logins are throttled (see the module's docstring)."""

    max_failures: int = 5
    max_failures_per_address: int = 20
    backoff_s: float = 30.0
    backoff_max_s: float = 900.0


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to. ``reason``: ok, unknown, disabled, wrong_password,
    throttled (then ``retry_after_s``). ``user`` is set when the account exists."""

    reason: str
    user: User | None = None
    retry_after_s: int = 0

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


@dataclass(frozen=True)
class SessionUser:
    """The account behind a live session."""

    session_id: int
    user_id: int
    name: str
    role: str


class UsersMixin:
    """User, session and login methods of the store; ``_read``/``_write``/``clock`` from Store."""

    _read: Any
    _write: Any
    clock: Any

    # ---- accounts ----------------------------------------------------------------------

    def create_user(self, name: str, role: str, password: str) -> User:
        name = check_name(name)
        check_role(role)
        stored = hash_password(check_password(password))
        now = self.clock()
        with self._write() as conn:
            if conn.execute(sa.select(user_table.c.id).where(user_table.c.name == name)).first():
                raise name_taken(name)
            user_id = conn.execute(sa.insert(user_table).values(
                name=name, role=role, password_hash=stored, created_at=now,
                password_changed_at=now).returning(user_table.c.id)).scalar_one()
            return self._user_row(conn, user_table.c.id == user_id)

    def users(self) -> list[User]:
        with self._read() as conn:
            rows = conn.execute(sa.select(*_USER_COLUMNS).order_by(user_table.c.id)).all()
        return [User(*row) for row in rows]

    def has_user(self, name: str) -> bool:
        with self._read() as conn:
            return conn.execute(sa.select(user_table.c.id).where(
                user_table.c.name == name.strip())).first() is not None

    def user(self, name: str) -> User:
        with self._read() as conn:
            row = conn.execute(sa.select(*_USER_COLUMNS).where(
                user_table.c.name == name.strip())).first()
        if row is None:
            raise self._no_user(name)
        return User(*row)

    def set_password(self, name: str, password: str) -> User:
        """A new password for ``name``; every session of the account ends."""
        stored = hash_password(check_password(password))
        return self._update_user(name, password_hash=stored, password_changed_at=self.clock())

    def disable_user(self, name: str) -> User:
        """The account can no longer log in; its sessions end at once."""
        return self._update_user(name, disabled_at=self.clock())

    def enable_user(self, name: str) -> User:
        return self._update_user(name, disabled_at=None)

    def set_user_role(self, name: str, role: str) -> User:
        """A new role; sessions end so that nobody keeps the old one."""
        return self._update_user(name, role=check_role(role))

    def _update_user(self, name: str, **values: Any) -> User:
        with self._write() as conn:
            found = conn.execute(sa.select(user_table.c.id).where(
                user_table.c.name == name.strip())).scalar_one_or_none()
            if found is None:
                raise self._no_user(name)
            conn.execute(sa.update(user_table).where(user_table.c.id == found).values(**values))
            conn.execute(sa.delete(session_table).where(session_table.c.user_id == found))
            return self._user_row(conn, user_table.c.id == found)

    @staticmethod
    def _no_user(name: str) -> NotFound:
        return NotFound(f"用户“{name}”不存在。", f"User '{name}' does not exist.", name=name)

    def _user_row(self, conn: Connection, where: sa.ColumnElement[bool]) -> User:
        row = conn.execute(sa.select(*_USER_COLUMNS).where(where)).first()
        if row is None:
            raise NotFound("用户不存在。", "No such user.")
        return User(*row)

    # ---- logging in --------------------------------------------------------------------

    def check_login(self, name: str, password: str, address: str,
                    policy: LoginPolicy = LoginPolicy()) -> LoginResult:
        """Check a login attempt, counting failures and refusing throttled subjects unchecked."""
        now = self.clock()
        name = unicodedata.normalize("NFKC", name or "").strip()[:MAX_NAME + 1]
        subjects = {f"user:{name}": policy.max_failures,
                    f"ip:{address}": policy.max_failures_per_address}
        with self._read() as conn:
            rows = conn.execute(sa.select(failure_table.c.blocked_until).where(
                failure_table.c.subject.in_(list(subjects)))).scalars().all()
            found = conn.execute(sa.select(*_USER_COLUMNS, user_table.c.password_hash).where(
                user_table.c.name == name)).first()
        blocked = [until for until in rows if until is not None and until > now]
        user = User(*found[:-1]) if found else None
        if blocked:
            wait = max(blocked) - now
            return LoginResult("throttled", user, max(1, int(wait.total_seconds() + 0.999)))
        matches = verify_password(password, found[-1] if found else _DUMMY_HASH)
        if user is None or user.disabled_at is not None or not matches:
            reason = ("unknown" if user is None else "disabled" if user.disabled_at is not None
                      else "wrong_password")
            with self._write() as conn:
                for subject, limit in subjects.items():
                    self._count_failure(conn, subject, limit, policy, now)
            return LoginResult(reason, user)
        with self._write() as conn:
            conn.execute(sa.delete(failure_table).where(
                failure_table.c.subject == f"user:{name}"))
            conn.execute(sa.update(user_table).where(user_table.c.id == user.id)
                         .values(last_login_at=now))
            # Failures long quiet are forgotten (other subjects' rows too: the table stays small).
            conn.execute(sa.delete(failure_table).where(
                failure_table.c.last_failed_at < now - FORGET_FAILURES_AFTER))
        return LoginResult("ok", user)

    @staticmethod
    def _count_failure(conn: Connection, subject: str, limit: int, policy: LoginPolicy,
                       now: datetime) -> None:
        row = conn.execute(sa.select(failure_table.c.failures, failure_table.c.last_failed_at)
                           .where(failure_table.c.subject == subject).with_for_update()).first()
        failures = 1
        if row is not None and now - row.last_failed_at < FORGET_FAILURES_AFTER:
            failures = row.failures + 1
        blocked_until = None
        if failures >= limit:
            wait = min(policy.backoff_max_s, policy.backoff_s * 2 ** min(failures - limit, 30))
            blocked_until = now + timedelta(seconds=wait)
        values = {"failures": failures, "last_failed_at": now, "blocked_until": blocked_until}
        if row is None:
            conn.execute(sa.insert(failure_table).values(subject=subject, **values))
        else:
            conn.execute(sa.update(failure_table).where(failure_table.c.subject == subject)
                         .values(**values))

    # ---- sessions ----------------------------------------------------------------------

    def start_session(self, user_id: int) -> str:
        """A new session for the user: its token (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._write() as conn:
            conn.execute(sa.insert(session_table).values(
                token_hash=hash_token(token), user_id=user_id, created_at=now, last_seen_at=now))
        return token

    def session_user(self, token: str, *, idle: timedelta, absolute: timedelta
                     ) -> SessionUser | None:
        """The account of a live session, or None (unknown, expired, or the account disabled).

        An expired session is deleted; a live one's last use is written at most once a minute.
        """
        now = self.clock()
        query = (sa.select(session_table.c.id, session_table.c.created_at,
                           session_table.c.last_seen_at, user_table.c.id, user_table.c.name,
                           user_table.c.role, user_table.c.disabled_at)
                 .join(user_table, user_table.c.id == session_table.c.user_id)
                 .where(session_table.c.token_hash == hash_token(token)))
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        session_id, created, seen, user_id, name, role, disabled = row
        if disabled is not None or now - seen > idle or now - created > absolute:
            with self._write() as conn:
                conn.execute(sa.delete(session_table).where(session_table.c.id == session_id))
            return None
        if now - seen >= TOUCH_EVERY:
            with self._write() as conn:
                conn.execute(sa.update(session_table).where(session_table.c.id == session_id)
                             .values(last_seen_at=now))
        return SessionUser(session_id, user_id, name, role)

    def end_session(self, token: str) -> bool:
        """Log out: whether a session was ended."""
        with self._write() as conn:
            done = conn.execute(sa.delete(session_table).where(
                session_table.c.token_hash == hash_token(token)))
        return done.rowcount > 0

    def end_expired_sessions(self, *, idle: timedelta, absolute: timedelta) -> int:
        now = self.clock()
        with self._write() as conn:
            done = conn.execute(sa.delete(session_table).where(sa.or_(
                session_table.c.last_seen_at < now - idle,
                session_table.c.created_at < now - absolute)))
        return done.rowcount

    def session_count(self, user_id: int | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(session_table)
        if user_id is not None:
            query = query.where(session_table.c.user_id == user_id)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())
