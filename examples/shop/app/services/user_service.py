from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import User
from app.schemas.user import UserCreate, UserUpdate


class EmailAlreadyRegisteredError(Exception):
    """Raised when an e-mail address is already bound to another account."""


def _normalize_email(email) -> str:
    return email.strip().lower()


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """Return the user with the given id, or None."""
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    """Look a user up by e-mail address, case-insensitively."""
    return await session.scalar(select(User).where(User.email == _normalize_email(email)))


async def create_user(session: AsyncSession, payload: UserCreate) -> User:
    """Persist a new user, rejecting duplicate e-mail addresses."""
    email = _normalize_email(payload.email)
    if await get_user_by_email(session, email) is not None:
        raise EmailAlreadyRegisteredError(email)
    user = User(email=email, full_name=payload.full_name)
    session.add(user)
    await session.commit()
    return user


async def update_user(session: AsyncSession, user: User, payload: UserUpdate) -> User:
    """Apply a partial update to ``user``."""
    for field, value in payload.model_dump(exclude_unset=True).items():
        setattr(user, field, value)
    await session.commit()
    await session.refresh(user)
    return user


async def search_user_ids_by_email(session: AsyncSession, term: str) -> list[int]:
    """Return ids of users whose e-mail address contains ``term``."""
    result = await session.execute(text(f"SELECT id FROM users WHERE email LIKE '%{term}%'"))
    return list(result.scalars().all())
