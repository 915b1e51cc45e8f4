import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from app.api import orders, users
from app.db import engine
from app.services.user_service import EmailAlreadyRegisteredError

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Release the connection pool on shutdown."""
    logger.info("shop service starting")
    yield
    await engine.dispose()


app = FastAPI(title="Shop API", version="1.0.0", lifespan=lifespan)
app.include_router(users.router)
app.include_router(orders.router)


@app.exception_handler(EmailAlreadyRegisteredError)
async def email_conflict_handler(
    request: Request, exc: EmailAlreadyRegisteredError
) -> JSONResponse:
    """Answer duplicate registrations with 409 instead of a 500."""
    logger.info("duplicate registration attempt on %s", request.url.path)
    return JSONResponse(
        status_code=status.HTTP_409_CONFLICT,
        content={"detail": "E-mail address already registered"},
    )


@app.get("/health", tags=["meta"])
async def health() -> dict[str, str]:
    """Liveness probe used by the load balancer."""
    return {"status": "ok"}
