"""The SQL store: engine factory and Alembic migrations (SQLite embedded default, PostgreSQL in production)."""
