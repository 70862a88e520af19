"""Alembic environment for the boundary store.

Migrations run programmatically (``wangge.store.migrate.upgrade``), which passes an open connection,
already inside a transaction, as ``config.attributes["connection"]``; there is no alembic.ini.
"""

from __future__ import annotations

from alembic import context

from wangge.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "store migrations run through wangge.store.migrate.upgrade(), which supplies the connection"
    )

# target_metadata carries the naming convention that op.create_table() applies to constraints.
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
