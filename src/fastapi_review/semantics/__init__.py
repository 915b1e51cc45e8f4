"""Shared FastAPI / SQLAlchemy / Pydantic knowledge, computed once per file and used by every rule."""
