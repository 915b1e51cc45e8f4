"""more"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.rename_table("teams", "team")
    op.add_column("user", sa.Column("nickname", sa.String(length=64), nullable=True))
    op.alter_column("user", "nickname", new_column_name="name")
    op.execute("ALTER TABLE team ADD COLUMN archived boolean NOT NULL DEFAULT false")


def downgrade() -> None:
    op.drop_column("team", "archived")
    op.alter_column("user", "name", new_column_name="nickname")
    op.drop_column("user", "nickname")
    op.rename_table("team", "teams")
