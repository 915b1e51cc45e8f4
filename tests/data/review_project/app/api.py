from fastapi import APIRouter, Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.models import Item, Tag

router = APIRouter(prefix="/items")


@router.get("/")
async def list_items(session: AsyncSession = Depends(get_session)) -> list[dict]:
    """Every item with its tags."""
    result = []
    for item in (await session.scalars(select(Item))).all():
        tags = [await session.get(Tag, tag_id) for tag_id in item.tag_ids]
        result.append({"name": item.name, "tags": [t.name for t in tags]})
    return result


@router.get("/{item_id}")
async def read_item(item_id: int, session: AsyncSession = Depends(get_session)) -> dict:
    """One item."""
    item = await session.get(Item, item_id)
    return {"name": item.name}


@router.delete("/{item_id}")
async def delete_item(item_id: int, session: AsyncSession = Depends(get_session)) -> None:
    await session.delete(await session.get(Item, item_id))
