"""Create PostgreSQL databases that do not exist yet: `pg_databases.py <server URL> <db> [<db> ...]`
(server URL without a database, e.g. postgresql+psycopg://postgres@127.0.0.1:5432). Used by `make run-full`."""

from __future__ import annotations

import sys

import sqlalchemy as sa


def main(server: str, names: list[str]) -> None:
    engine = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        present = set(conn.execute(sa.text("SELECT datname FROM pg_database")).scalars())
        for name in names:
            if name not in present:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                print(f"run: created database {name}")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
