"""API keys and the audit log in the store.

A mixin of :class:`wangge.store.store.Store`. A key is shown once, when it is made; the store keeps its
SHA-256 and its first characters (to tell keys apart in lists), never the key itself.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from wangge.geo.errors import InputError, NotFound
from wangge.store.schema import ROLES
from wangge.store.schema import api_keys as key_table
from wangge.store.schema import audit_log as audit_table

KEY_PREFIX = "wg_"
_SHOWN = 10  # characters of a key kept in clear to tell keys apart ("wg_" + 7)


def hash_key(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    id: int
    prefix: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "prefix": self.prefix, "name": self.name, "role": self.role,
                "created_at": self.created_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


_KEY_COLUMNS = (key_table.c.id, key_table.c.prefix, key_table.c.name, key_table.c.role,
                key_table.c.created_at, key_table.c.revoked_at)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"未知角色“{role}”，可选：{'、'.join(ROLES)}。",
                         f"Unknown role '{role}'; one of {', '.join(ROLES)}.", role=role)
    return role


class AccessMixin:
    """Key and audit methods of the store; ``_read``/``_write`` come from the Store."""

    _read: Any
    _write: Any

    def create_key(self, name: str, role: str) -> tuple[ApiKey, str]:
        """A new key for ``role``: its record and the key itself (shown once, never stored)."""
        check_role(role)
        if not name or not name.strip():
            raise InputError("密钥须有名称（用途或使用方）。", "A key needs a name (who or what uses it).")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        values = {"prefix": key[:_SHOWN], "key_hash": hash_key(key), "name": name.strip(),
                  "role": role, "created_at": datetime.now(UTC), "revoked_at": None}
        with self._write() as conn:
            key_id = conn.execute(sa.insert(key_table).values(values)
                                  .returning(key_table.c.id)).scalar_one()
            row = conn.execute(sa.select(*_KEY_COLUMNS).where(key_table.c.id == key_id)).one()
        return ApiKey(*row), key

    def keys(self) -> list[ApiKey]:
        with self._read() as conn:
            rows = conn.execute(sa.select(*_KEY_COLUMNS).order_by(key_table.c.id)).all()
        return [ApiKey(*row) for row in rows]

    def key_for(self, key: str) -> ApiKey | None:
        """The live (not revoked) key record matching ``key``, or None."""
        query = sa.select(*_KEY_COLUMNS).where(key_table.c.key_hash == hash_key(key),
                                               key_table.c.revoked_at.is_(None))
        with self._read() as conn:
            row = conn.execute(query).first()
        return ApiKey(*row) if row else None

    def revoke_key(self, key_id: int) -> ApiKey:
        with self._write() as conn:
            done = conn.execute(sa.update(key_table).where(key_table.c.id == key_id)
                                .values(revoked_at=datetime.now(UTC)))
            if done.rowcount == 0:
                raise NotFound(f"密钥 {key_id} 不存在。", f"Key {key_id} does not exist.", key_id=key_id)
            row = conn.execute(sa.select(*_KEY_COLUMNS).where(key_table.c.id == key_id)).one()
        return ApiKey(*row)

    def keys_version(self) -> tuple[int, int]:
        """Changes when a key is made or revoked (services poll it to drop cached keys)."""
        query = sa.select(sa.func.count(), sa.func.count(key_table.c.revoked_at))
        with self._read() as conn:
            total, revoked = conn.execute(query).one()
        return int(total), int(revoked)

    def audit(self, action: str, *, key_id: int | None, role: str | None,
              target: str | None = None, status: int | None = None,
              detail: dict[str, Any] | None = None) -> None:
        """Record one write or personal-data read. ``detail`` must hold no personal data."""
        values = {"at": datetime.now(UTC), "key_id": key_id, "role": role, "action": action,
                  "target": target, "status": status, "detail": detail}
        with self._write() as conn:
            conn.execute(sa.insert(audit_table).values(values))

    def audit_entries(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """The audit log, newest first."""
        query = (sa.select(audit_table).order_by(audit_table.c.id.desc())
                 .limit(limit).offset(offset))
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        entries = [{str(k): v for k, v in row.items()} for row in rows]
        return [{**entry, "at": entry["at"].isoformat()} for entry in entries]
