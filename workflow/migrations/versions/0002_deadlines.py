"""deadlines

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "duban_deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("clock", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("extension", sa.String(length=64), nullable=True),
        sa.Column("paused_days", sa.Integer(), nullable=False),
        sa.Column("paused_on", sa.Date(), nullable=True),
        sa.Column("raw", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("next_step", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["duban_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("duban_deadline", schema=None) as batch_op:
        batch_op.create_index("ix_duban_deadline_next", ["state", "next_at"], unique=False)
        batch_op.create_index("ix_duban_deadline_due", ["due"], unique=False)
        batch_op.create_index(batch_op.f("ix_duban_deadline_item_id"), ["item_id"], unique=False)

    op.create_table(
        "duban_deadline_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("produced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deadline_id"],
            ["duban_deadline.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deadline_id", "step"),
    )
    with op.batch_alter_table("duban_deadline_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duban_deadline_step_deadline_id"), ["deadline_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("duban_deadline_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duban_deadline_step_deadline_id"))

    op.drop_table("duban_deadline_step")
    with op.batch_alter_table("duban_deadline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duban_deadline_item_id"))
        batch_op.drop_index("ix_duban_deadline_due")
        batch_op.drop_index("ix_duban_deadline_next")

    op.drop_table("duban_deadline")
