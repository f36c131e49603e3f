"""The store's SQLite index: its schema, migrations and connection settings.

One file, WAL mode: one writer at a time and any number of readers, across threads and processes of
one machine. Writes take the lock up front (BEGIN IMMEDIATE), so two writers queue on the busy timeout
instead of failing halfway through a transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

BUSY_TIMEOUT_S = 10.0  # a writer waits this long for another's transaction before saying the store is busy


def _v1(db: sqlite3.Connection) -> None:
    """The first index: one row per run, scoped by workspace."""
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (0)")
    db.execute("""CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        workspace TEXT NOT NULL,
        name TEXT NOT NULL,
        config TEXT NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL DEFAULT '',
        step INTEGER NOT NULL DEFAULT 0,
        weights_step INTEGER,
        created REAL NOT NULL,
        updated REAL NOT NULL)""")
    db.execute("CREATE INDEX runs_by_workspace ON runs (workspace, created)")


def _v2(db: sqlite3.Connection) -> None:
    """What the Runs page and the quota need: pin, notes, soft delete, bytes on disk, the owning process
    (to tell a crashed server's runs), and a summary of the history so a listing reads no folder."""
    for column in ("pinned INTEGER NOT NULL DEFAULT 0", "notes TEXT NOT NULL DEFAULT ''", "deleted REAL",
                   "bytes INTEGER NOT NULL DEFAULT 0", "owner TEXT NOT NULL DEFAULT ''", "loss REAL",
                   "best_val REAL", "elapsed REAL NOT NULL DEFAULT 0"):
        db.execute(f"ALTER TABLE runs ADD COLUMN {column}")


# Migration i takes the schema from version i to i + 1. Append only: a shipped migration never changes.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2]
VERSION = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)  # transactions are explicit
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # in WAL mode a killed process loses nothing committed
    return db


def version(db: sqlite3.Connection) -> int:
    try:
        return db.execute("SELECT version FROM schema_version").fetchone()[0]
    except sqlite3.OperationalError:  # no such table: a new file
        return 0


def migrate(db: sqlite3.Connection) -> int:
    """Bring the schema to VERSION, each step in its own transaction; returns the version found."""
    found = version(db)
    if found > VERSION:
        from rnnlab.store.folder import StoreError

        raise StoreError(f"The run store was written by a newer rnnlab (schema {found}, this one knows {VERSION}); "
                         "upgrade rnnlab or set RNNLAB_HOME to another folder.")
    for step in range(found, VERSION):
        db.execute("BEGIN IMMEDIATE")
        try:
            if version(db) == step:  # another process may have migrated while this one waited for the lock
                MIGRATIONS[step](db)
                db.execute("UPDATE schema_version SET version = ?", (step + 1,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return found
