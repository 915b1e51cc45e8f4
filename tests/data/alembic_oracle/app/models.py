import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(255))
    display_name: Mapped[str | None] = mapped_column("name", sa.String(64))


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str | None] = mapped_column(sa.String(64))
    archived: Mapped[bool] = mapped_column(server_default=sa.false())


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("user_id", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", name="fk_membership_user"), index=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("team.id"))
    role: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str | None] = mapped_column(sa.Text)
    invited_by: Mapped[int | None]
