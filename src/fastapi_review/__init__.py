"""fastapi-review: a static code-review checker for FastAPI / SQLAlchemy 2 / Pydantic v2 backends."""

__version__ = "0.1.0"
