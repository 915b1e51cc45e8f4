from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from sqlalchemy import select

from app.db import SessionDep
from app.models import User
from app.schemas.user import UserCreate, UserRead, UserUpdate
from app.services import user_service

router = APIRouter(prefix="/users", tags=["users"])


async def get_current_user(
    session: SessionDep,
    x_user_id: Annotated[int, Header(description="Set by the API gateway after authentication.")],
) -> User:
    """Resolve the authenticated caller from the gateway-provided header."""
    user = await user_service.get_user(session, x_user_id)
    if user is None or not user.is_active:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Not authenticated")
    return user


CurrentUserDep = Annotated[User, Depends(get_current_user)]


@router.get("", response_model=list[UserRead])
async def list_users(
    session: SessionDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[User]:
    """List users ordered by id."""
    result = await session.execute(select(User).order_by(User.id).offset(offset).limit(limit))
    return list(result.scalars().all())


@router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED)
async def create_user(payload: UserCreate, session: SessionDep) -> User:
    """Register a new user; duplicate e-mail addresses are answered with 409."""
    return await user_service.create_user(session, payload)


@router.get("/search", response_model=list[int])
async def search_users(
    session: SessionDep, q: Annotated[str, Query(min_length=3, max_length=100)]
) -> list[int]:
    """Return ids of users whose e-mail address contains ``q``."""
    return await user_service.search_user_ids_by_email(session, q)


@router.get("/{user_id}", response_model=UserRead)
async def get_user(user_id: int, session: SessionDep) -> User:
    """Fetch a single user by id."""
    user = await user_service.get_user(session, user_id)
    if user is None:
        raise HTTPException(status_code=404)
    return user


@router.get("/me", response_model=UserRead)
async def read_current_user(current_user: CurrentUserDep) -> User:
    """Return the profile of the authenticated caller."""
    return current_user


@router.patch("/me", response_model=UserRead)
async def update_current_user(
    payload: UserUpdate, session: SessionDep, current_user: CurrentUserDep
) -> User:
    return await user_service.update_user(session, current_user, payload)
