"""initial schema

Revision ID: 0001
Revises: none
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "duban_definition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "digest"),
        sa.UniqueConstraint("kind", "number"),
    )
    op.create_table(
        "duban_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("principal_leader", sa.String(), nullable=True),
        sa.Column("department_head", sa.String(), nullable=True),
        sa.Column("handler", sa.String(), nullable=True),
        sa.Column("case_leader", sa.String(), nullable=True),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("role", "name"),
    )
    op.create_table(
        "duban_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("definition_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("key_supervised", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("audit_head", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["definition_id"],
            ["duban_definition.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("duban_item", schema=None) as batch_op:
        batch_op.create_index("ix_duban_item_kind_state", ["kind", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_duban_item_year"), ["year"], unique=False)

    op.create_table(
        "duban_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("opinion", sa.String(), nullable=True),
        sa.Column("reply", sa.JSON(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["duban_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("duban_assignment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duban_assignment_item_id"), ["item_id"], unique=False)
        batch_op.create_index("ix_duban_assignment_unit", ["unit", "active"], unique=False)

    op.create_table(
        "duban_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("actor_party", sa.String(), nullable=True),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("dest", sa.String(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["duban_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "seq"),
    )
    op.create_table(
        "duban_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("contacted_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["duban_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("duban_contact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duban_contact_item_id"), ["item_id"], unique=False)

    op.create_table(
        "duban_problem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("measure", sa.String(), nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["duban_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "number"),
    )
    with op.batch_alter_table("duban_problem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duban_problem_item_id"), ["item_id"], unique=False)

    op.create_table(
        "duban_promise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(), nullable=False),
        sa.Column("what", sa.String(), nullable=False),
        sa.Column("by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["duban_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("duban_promise", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duban_promise_item_id"), ["item_id"], unique=False)

    op.create_table(
        "duban_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("satisfied", sa.Integer(), nullable=False),
        sa.Column("basically_satisfied", sa.Integer(), nullable=False),
        sa.Column("unsatisfied", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["duban_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("duban_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duban_vote_item_id"), ["item_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("duban_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duban_vote_item_id"))

    op.drop_table("duban_vote")
    with op.batch_alter_table("duban_promise", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duban_promise_item_id"))

    op.drop_table("duban_promise")
    with op.batch_alter_table("duban_problem", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duban_problem_item_id"))

    op.drop_table("duban_problem")
    with op.batch_alter_table("duban_contact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duban_contact_item_id"))

    op.drop_table("duban_contact")
    op.drop_table("duban_audit")
    with op.batch_alter_table("duban_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_duban_assignment_unit")
        batch_op.drop_index(batch_op.f("ix_duban_assignment_item_id"))

    op.drop_table("duban_assignment")
    with op.batch_alter_table("duban_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duban_item_year"))
        batch_op.drop_index("ix_duban_item_kind_state")

    op.drop_table("duban_item")
    op.drop_table("duban_party")
    op.drop_table("duban_definition")
