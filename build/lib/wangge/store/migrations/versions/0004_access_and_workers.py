"""API keys, the audit log, grid workers and their contacts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _code() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _time() -> sa.types.TypeEngine:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("key_hash", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("revoked_at", _time()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.CheckConstraint("role IN ('viewer', 'integrator', 'planner', 'admin')",
                           name=op.f("ck_api_keys_role")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("key_id", sa.Integer),
        sa.Column("role", sa.Text),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text),
        sa.Column("status", sa.Integer),
        sa.Column("detail", sa.JSON),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_table(
        "workers",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("worker_id", _code(), nullable=False),
        sa.Column("grid_code", _code(), nullable=False),
        sa.Column("full_time", sa.Boolean, nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
        sa.UniqueConstraint("worker_id", name=op.f("uq_workers_worker_id")),
    )
    op.create_index(op.f("ix_workers_grid_code"), "workers", ["grid_code"])
    op.create_table(
        "worker_personal",
        sa.Column("worker_id", sa.Integer, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("phone", sa.Text),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_worker_personal")),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], ondelete="CASCADE",
                                name=op.f("fk_worker_personal_worker_id_workers")),
    )


def downgrade() -> None:
    op.drop_table("worker_personal")
    op.drop_table("workers")
    op.drop_table("audit_log")
    op.drop_table("api_keys")
