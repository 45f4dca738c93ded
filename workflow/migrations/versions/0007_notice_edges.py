"""notice edges: the unit a notice is for, a note on resolving an incident, a step's skipped notice

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_UNIT_ROLES = ("handler", "department_head", "principal_leader", "case_leader")


def upgrade() -> None:
    with op.batch_alter_table("duban_notice") as batch:
        batch.add_column(sa.Column("unit", sa.String(), nullable=True))
    with op.batch_alter_table("duban_incident") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    with op.batch_alter_table("duban_deadline_step") as batch:
        batch.add_column(sa.Column("skipped", sa.String(), nullable=True))
    # Before 0007 the key was "cause:type:role:unit:recipient", each part written as it was: with the
    # other four parts known, the unit is what lies between them.
    conn = op.get_bind()
    notice = sa.table(
        "duban_notice",
        *(sa.column(c) for c in ("id", "key", "cause", "type", "role", "recipient", "unit")),
    )
    for row in conn.execute(sa.select(notice).where(notice.c.role.in_(_UNIT_ROLES))).mappings():
        head, tail = f"{row['cause']}:{row['type']}:{row['role']}:", f":{row['recipient']}"
        key = row["key"]
        if key.startswith(head) and key.endswith(tail) and len(key) >= len(head) + len(tail):
            unit = key[len(head) : len(key) - len(tail)]
            conn.execute(sa.update(notice).where(notice.c.id == row["id"]).values(unit=unit or None))


def downgrade() -> None:
    for table, column in (("duban_deadline_step", "skipped"), ("duban_incident", "note"), ("duban_notice", "unit")):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
