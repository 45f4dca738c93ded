"""audit effects: each audit row records the rows its event wrote, so verify can re-derive them

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("duban_audit") as batch:
        batch.add_column(sa.Column("effects", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table("duban_audit") as batch:
        batch.drop_column("effects")
