"""The history store: every run, its hosts and results, kept in a SQL database.

SQLite by default (one file, no server), PostgreSQL for many sites; SQLAlchemy Core, schema
changes by Alembic migrations shipped in this package. The store consumes results.json-shaped
documents only, so it does not depend on how the engine computes them.
"""
