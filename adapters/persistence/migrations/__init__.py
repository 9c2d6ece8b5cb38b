"""Alembic migrations of the paygate schema, shipped inside the package."""
