"""Persistence for Wegbegleiter: SQLAlchemy 2 models, sessions and Alembic migrations.

This package never imports `conversations` or `bot`: dependencies point one way.
"""
