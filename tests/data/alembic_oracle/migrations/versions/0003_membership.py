"""membership"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "team_id"),
    )
    op.create_foreign_key("fk_membership_user", "membership", "user", ["user_id"], ["id"])
    op.create_index(op.f("ix_membership_user_id"), "membership", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_membership_user_id"), table_name="membership")
    op.drop_table("membership")
