"""Alembic environment: runs duban's migrations on the engine handed over by ``store.migrate``."""

from typing import Any

from alembic import context

from workflow.store import TABLES, VERSION_TABLE, SQLModel


def _ours(name: str | None, type_: str, _parent: Any) -> bool:
    # The database may be shared with the host application: never touch tables that are not ours.
    return type_ != "table" or bool(name and name.startswith("duban_"))


engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
        include_name=_ours,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
assert TABLES  # the models are imported, so autogenerate sees them
