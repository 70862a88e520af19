"""Accounts, sessions and failed-login throttling in the store, on both backends, with the
store's clock moved by the tests."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from wangge.geo.errors import Conflict, InputError, NotFound
from wangge.store import Store
from wangge.store.users import LoginPolicy, hash_password, hash_token, verify_password

T0 = datetime(2026, 12, 9, 1, 0, tzinfo=UTC)
IDLE, ABSOLUTE = timedelta(hours=8), timedelta(days=7)
POLICY = LoginPolicy(max_failures=5, max_failures_per_address=20, backoff_s=30, backoff_max_s=900)
PASSWORD = "correct horse 8"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(store: Store) -> Clock:
    store.clock = Clock()
    return store.clock


def _password_hash(store: Store, name: str) -> str:
    from wangge.store.schema import users

    with store.engine.connect() as conn:
        return conn.execute(users.select().where(users.c.name == name)).one().password_hash


def test_password_hashes_are_scrypt_with_their_own_salt_and_parameters():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second                                   # a salt per hash
    kind, n, r, p, salt, digest = first.split("$")
    assert (kind, n, r, p) == ("scrypt", "16384", "8", "1") and len(base64.b64decode(salt)) == 16
    assert base64.b64decode(digest) == hashlib.scrypt(
        PASSWORD.encode(), salt=base64.b64decode(salt), n=16384, r=8, p=1, dklen=32)
    assert verify_password(PASSWORD, first) and not verify_password(PASSWORD + "x", first)
    weaker = hash_password(PASSWORD, n=2**10)                # old parameters keep verifying
    assert weaker.split("$")[1] == "1024" and verify_password(PASSWORD, weaker)
    assert not verify_password(PASSWORD, "sha1$whatever") and not verify_password(PASSWORD, "")


def test_accounts_are_made_listed_disabled_and_given_new_passwords(store: Store, clock: Clock):
    made = store.create_user("  zhangsan ", "planner", PASSWORD)
    assert (made.name, made.role, made.created_at, made.disabled_at) == ("zhangsan", "planner", T0,
                                                                         None)
    stored = _password_hash(store, "zhangsan")
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    with pytest.raises(Conflict):
        store.create_user("zhangsan", "viewer", PASSWORD)
    with pytest.raises(InputError, match="boss"):
        store.create_user("lisi", "boss", PASSWORD)
    with pytest.raises(InputError):
        store.create_user("lisi", "viewer", "short")
    with pytest.raises(InputError):
        store.create_user("li si", "viewer", PASSWORD)
    store.create_user("王五", "viewer", PASSWORD)
    assert [u.name for u in store.users()] == ["zhangsan", "王五"]

    clock.advance(hours=1)
    assert store.disable_user("zhangsan").disabled_at == T0 + timedelta(hours=1)
    assert store.check_login("zhangsan", PASSWORD, "10.0.0.1", POLICY).reason == "disabled"
    store.enable_user("zhangsan")
    assert store.check_login("zhangsan", PASSWORD, "10.0.0.1", POLICY).ok
    store.set_password("zhangsan", "another pass 9")
    assert _password_hash(store, "zhangsan") != stored
    assert store.check_login("zhangsan", PASSWORD, "10.0.0.1", POLICY).reason == "wrong_password"
    assert store.check_login("zhangsan", "another pass 9", "10.0.0.1", POLICY).ok
    assert store.user("zhangsan").last_login_at == clock.now
    with pytest.raises(NotFound):
        store.disable_user("nobody")


def test_login_outcomes(store: Store, clock: Clock):
    store.create_user("zhangsan", "viewer", PASSWORD)
    ok = store.check_login("zhangsan", PASSWORD, "10.0.0.1", POLICY)
    assert ok.ok and ok.user is not None and ok.user.role == "viewer"
    assert store.check_login("zhangsan", "wrong password", "10.0.0.1", POLICY).reason == \
        "wrong_password"
    unknown = store.check_login("nobody", PASSWORD, "10.0.0.1", POLICY)
    assert unknown.reason == "unknown" and unknown.user is None


def test_failed_logins_are_throttled_per_account_growing_then_forgotten(store: Store,
                                                                        clock: Clock):
    store.create_user("zhangsan", "viewer", PASSWORD)
    for _ in range(4):
        assert store.check_login("zhangsan", "guess", "10.0.0.1", POLICY).reason == "wrong_password"
    assert store.check_login("zhangsan", "guess", "10.0.0.2", POLICY).reason == "wrong_password"
    # five failures: even the right password is refused unchecked for 30 s, from any address
    refused = store.check_login("zhangsan", PASSWORD, "10.0.0.3", POLICY)
    assert (refused.reason, refused.retry_after_s) == ("throttled", 30)
    clock.advance(seconds=31)
    assert store.check_login("zhangsan", "guess", "10.0.0.1", POLICY).reason == "wrong_password"
    assert store.check_login("zhangsan", PASSWORD, "10.0.0.1", POLICY).retry_after_s == 60
    clock.advance(seconds=61)
    assert store.check_login("zhangsan", PASSWORD, "10.0.0.1", POLICY).ok   # success clears
    assert store.check_login("zhangsan", "guess", "10.0.0.1", POLICY).reason == "wrong_password"
    assert store.check_login("zhangsan", PASSWORD, "10.0.0.1", POLICY).ok
    # an unknown name is throttled the same way (a lockout does not tell which names exist)
    for _ in range(5):
        assert store.check_login("nobody", "guess", "10.0.0.4", POLICY).reason == "unknown"
    assert store.check_login("nobody", "guess", "10.0.0.4", POLICY).reason == "throttled"
    # waits grow to the cap, and an hour without failures forgets them
    for _ in range(8):
        clock.advance(seconds=901)
        store.check_login("nobody", "guess", "10.0.0.5", POLICY)
    assert store.check_login("nobody", "guess", "10.0.0.5", POLICY).retry_after_s == 900
    clock.advance(hours=2)
    assert store.check_login("nobody", "guess", "10.0.0.5", POLICY).reason == "unknown"


def test_failed_logins_are_throttled_per_address(store: Store, clock: Clock):
    policy = LoginPolicy(max_failures=5, max_failures_per_address=3, backoff_s=10)
    store.create_user("zhangsan", "viewer", PASSWORD)
    for name in ("a", "b", "c"):                 # three names, one address
        assert store.check_login(name, "guess", "10.9.9.9", policy).reason == "unknown"
    assert store.check_login("zhangsan", PASSWORD, "10.9.9.9", policy).reason == "throttled"
    assert store.check_login("zhangsan", PASSWORD, "10.9.9.8", policy).ok   # other addresses pass
    clock.advance(seconds=11)
    assert store.check_login("zhangsan", PASSWORD, "10.9.9.9", policy).ok


def test_sessions_live_until_idle_or_absolute_expiry(store: Store, clock: Clock):
    user = store.create_user("zhangsan", "planner", PASSWORD)
    token = store.start_session(user.id)
    assert len(token) >= 43 and store.session_count(user.id) == 1
    with store.engine.connect() as conn:              # only the token's hash is stored
        from wangge.store.schema import sessions

        assert conn.execute(sessions.select()).one().token_hash == hash_token(token)
    live = store.session_user(token, idle=IDLE, absolute=ABSOLUTE)
    assert live is not None and (live.name, live.role, live.user_id) == ("zhangsan", "planner",
                                                                          user.id)
    assert store.session_user("not a token", idle=IDLE, absolute=ABSOLUTE) is None
    # used every 7 hours, it outlives the 8-hour idle limit ... until the 7-day limit
    for _ in range(23):
        clock.advance(hours=7)
        assert store.session_user(token, idle=IDLE, absolute=ABSOLUTE) is not None
    clock.advance(hours=7, seconds=1)                 # 7 days and a second after the login
    assert store.session_user(token, idle=IDLE, absolute=ABSOLUTE) is None
    assert store.session_count(user.id) == 0          # an expired session is deleted

    idle = store.start_session(user.id)
    clock.advance(hours=8, seconds=1)
    assert store.session_user(idle, idle=IDLE, absolute=ABSOLUTE) is None


def test_logout_disabling_and_new_passwords_end_sessions(store: Store, clock: Clock):
    user = store.create_user("zhangsan", "planner", PASSWORD)
    other = store.create_user("lisi", "viewer", PASSWORD)
    first, second = store.start_session(user.id), store.start_session(user.id)
    kept = store.start_session(other.id)
    assert store.end_session(first) and not store.end_session(first)
    assert store.session_user(first, idle=IDLE, absolute=ABSOLUTE) is None
    assert store.session_user(second, idle=IDLE, absolute=ABSOLUTE) is not None
    store.disable_user("zhangsan")
    assert store.session_user(second, idle=IDLE, absolute=ABSOLUTE) is None
    store.enable_user("zhangsan")
    third = store.start_session(user.id)
    store.set_password("zhangsan", "brand new pass")
    assert store.session_user(third, idle=IDLE, absolute=ABSOLUTE) is None
    fourth = store.start_session(user.id)
    store.set_user_role("zhangsan", "viewer")
    assert store.session_user(fourth, idle=IDLE, absolute=ABSOLUTE) is None
    assert store.session_user(kept, idle=IDLE, absolute=ABSOLUTE) is not None
    clock.advance(hours=9)
    assert store.end_expired_sessions(idle=IDLE, absolute=ABSOLUTE) == 1
    assert store.session_count() == 0
