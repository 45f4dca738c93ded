"""outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "duban_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["duban_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("duban_notice", schema=None) as batch_op:
        batch_op.create_index("ix_duban_notice_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_duban_notice_item_id"), ["item_id"], unique=False)

    op.create_table(
        "duban_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["duban_item.id"],
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["duban_notice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("duban_incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duban_incident_item_id"), ["item_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("duban_incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duban_incident_item_id"))

    op.drop_table("duban_incident")
    with op.batch_alter_table("duban_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duban_notice_item_id"))
        batch_op.drop_index("ix_duban_notice_due")

    op.drop_table("duban_notice")
