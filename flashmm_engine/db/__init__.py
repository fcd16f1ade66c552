"""The SQL store: engine factory and Alembic migrations (SQLite by default, PostgreSQL in production)."""
