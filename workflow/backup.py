"""Backups and restores: SQLite through its online backup API, PostgreSQL through ``pg_dump`` / ``pg_restore``.

A SQLite backup is taken in one step of the backup API, that is one read transaction: a consistent snapshot
of the database as it stood at one instant, taken while a daemon keeps writing (in WAL mode readers and
writers do not block each other). The copy is written beside the target under a temporary name, checked, and
renamed into place, so a failed backup leaves nothing behind; it is a single self-contained file (rollback
journal, no ``-wal`` beside it).

A restore checks the backup first (a duban database, no newer than this duban, every audit chain intact) and
then replaces the target database in one step; it refuses to replace a database that holds items or parties
unless forced. On PostgreSQL, ``pg_dump --format=custom`` dumps duban's tables (``duban_*``) in one
repeatable-read snapshot and ``pg_restore --single-transaction`` restores them all or nothing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from workflow.audit import AuditBreak, foreign_triggers, verify_chain
from workflow.errors import ValidationError, WorkflowError
from workflow.store import TABLES, VERSION_TABLE, head_revision

__all__ = ["BackupError", "Copied", "backup", "pg_command", "pg_tool", "restore", "verify_chains"]

_ITEM, _AUDIT = TABLES["duban_item"], TABLES["duban_audit"]
_MAGIC = b"SQLite format 3\x00"


class BackupError(WorkflowError):
    """A backup or restore could not be made (or was refused); nothing was written."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Copied:
    """What a backup or restore copied: items and audit rows (None where the tool does not say), bytes, time."""

    action: str  # "backup" | "restore"
    file: Path
    database: str
    method: str
    items: int | None
    audit_rows: int | None
    size: int
    seconds: float
    revision: str | None = None

    @property
    def summary(self) -> str:
        rows = "" if self.items is None else f"{_n(self.items, 'item')}, {_n(self.audit_rows or 0, 'audit row')}, "
        if self.action == "backup":
            return f"backed up {self.database} to {self.file} ({rows}{_size(self.size)}, {self.method})"
        checked = "audit chains verified" if self.items is not None else "audit chains verified after restore"
        return f"restored {self.file} into {self.database} ({rows}{_size(self.size)}, {self.method}); {checked}"


def backup(url: str, target: str | Path, *, force: bool = False) -> Copied:
    """Back the database at *url* up to the file *target* (refused if it exists, unless *force*)."""
    target = Path(target)
    _folder(target)
    if target.exists() and not force:
        raise BackupError(f"{target} already exists; name a new file, or pass --force to replace it")
    if _is_sqlite(url):
        return _sqlite_backup(url, target)
    return _pg_backup(url, target)


def restore(url: str, source: str | Path, *, force: bool = False) -> Copied:
    """Replace the database at *url* with the backup *source*; refused if the database holds items or parties,
    unless *force*."""
    source = Path(source)
    if not source.is_file():
        raise ValidationError("FILE", f"{source}: no such backup file")
    if _is_sqlite(url):
        return _sqlite_restore(url, source, force)
    return _pg_restore(url, source, force)


def verify_chains(conn: sa.Connection) -> tuple[int, int, list[AuditBreak]]:
    """Check every item's audit chain over *conn* (any schema revision): (items, audit rows, first breaks)."""
    heads = conn.execute(sa.select(_ITEM.c.id, _ITEM.c.audit_seq, _ITEM.c.audit_head).order_by(_ITEM.c.id)).all()
    columns = [_AUDIT.c[c] for c in ("item_id", "seq", "at", "actor_role", "actor_party", "trigger", "source")]
    columns += [_AUDIT.c[c] for c in ("dest", "data", "prev_hash", "hash")]
    if any(c["name"] == "effects" for c in sa.inspect(conn).get_columns("duban_audit")):  # since 0006
        columns.append(_AUDIT.c.effects)
    rows = conn.execute(sa.select(*columns).order_by(_AUDIT.c.item_id, _AUDIT.c.seq)).mappings()
    by_item: dict[int, list[sa.RowMapping]] = {}
    count = 0
    for row in rows:
        by_item.setdefault(row["item_id"], []).append(row)
        count += 1
    breaks = [b for h in heads if (b := verify_chain(h.id, h.audit_seq, h.audit_head, by_item.get(h.id, [])))]
    orphans = sorted(by_item.keys() - {h.id for h in heads})
    breaks += [AuditBreak(i, 1, "audit rows of an item that is not there") for i in orphans]
    return len(heads), count, breaks


# ---- SQLite ----------------------------------------------------------------------------------


def _is_sqlite(url: str) -> bool:
    return sa.engine.make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:":
        raise ValidationError("--db", "an in-memory database has nothing to back up or restore into; use a file")
    return Path(database)


@contextlib.contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        yield conn
    finally:
        conn.close()


def _check_sqlite_file(path: Path, what: str) -> str:
    """The schema revision of a duban SQLite file; ValidationError if it is not one."""
    with path.open("rb") as f:
        if f.read(16) != _MAGIC:
            raise ValidationError("FILE", f"{path}: not a SQLite database, so not a duban {what}")
    with _sqlite(path) as conn:
        try:
            found = conn.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ValidationError("FILE", f"{path}: not a duban {what} (no {VERSION_TABLE} table: {exc})") from None
    if not found:
        raise ValidationError("FILE", f"{path}: not a duban {what} (its schema revision is not recorded)")
    return str(found[0])


def _partial(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial-{os.getpid()}")


def _sqlite_backup(url: str, target: Path) -> Copied:
    path = _sqlite_path(url)
    if not path.is_file():
        raise BackupError(f"no database at {path}; check --db / DUBAN_DB")
    revision = _check_sqlite_file(path, "database")
    started = time.monotonic()
    partial = _partial(target)
    partial.unlink(missing_ok=True)
    try:
        with _sqlite(path) as src, _sqlite(partial) as dst:
            src.backup(dst)  # one step: the whole database under one read transaction, a consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            problem = dst.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise BackupError(f"the copy of {path} fails SQLite's check ({problem}); nothing was written")
            items, audits = (
                dst.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("duban_item", "duban_audit")
            )
        with partial.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {path} to {target}: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
    return Copied(
        "backup",
        target,
        str(path),
        "SQLite online backup",
        items,
        audits,
        target.stat().st_size,
        time.monotonic() - started,
        revision,
    )


def _sqlite_restore(url: str, source: Path, force: bool) -> Copied:
    path = _sqlite_path(url)
    _folder(path)
    revision = _check_sqlite_file(source, "backup")
    _not_newer(revision, source)
    started = time.monotonic()
    if path.exists() and path.stat().st_size and not force:
        try:
            with _sqlite(path) as conn:
                held = _held(conn)
        except sqlite3.DatabaseError:
            held = "something that is not a SQLite database"
        if held:
            raise BackupError(
                f"the database {path} holds {held}; restoring would replace them: back it up first, then pass --force"
            )
    staged = _partial(path)
    staged.unlink(missing_ok=True)
    try:
        with _sqlite(source) as src, _sqlite(staged) as tmp:
            src.backup(tmp)
        db = sa.create_engine(f"sqlite:///{staged}")
        try:
            with db.connect() as conn:
                foreign = foreign_triggers(conn) + _sqlite_views(conn)
                items, audits, breaks = verify_chains(conn)
        finally:
            db.dispose()
        _refuse_foreign(source, foreign, "sqlite")
        if breaks:
            raise BackupError(f"{source} is damaged: {breaks[0]}; nothing was restored")
        with _sqlite(staged) as tmp, _sqlite(path) as dst:
            tmp.backup(dst)  # into the live database through its own journal: all at once, under its write lock
    except sqlite3.Error as exc:
        raise BackupError(f"cannot restore {source} into {path}: {exc}; nothing was restored") from None
    finally:
        staged.unlink(missing_ok=True)
    return Copied(
        "restore",
        source,
        str(path),
        "SQLite online backup",
        items,
        audits,
        source.stat().st_size,
        time.monotonic() - started,
        revision,
    )


def _held(conn: sqlite3.Connection) -> str:
    """'N items and M parties' when the database holds any, else ''."""
    counts = []
    for table, word in (("duban_item", "item"), ("duban_party", "party")):
        try:
            n = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        except sqlite3.DatabaseError:
            n = 0
        if n:
            counts.append(_n(n, word))
    tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    if (
        not counts
        and tables
        and not conn.execute(f"SELECT 1 FROM sqlite_master WHERE name = '{VERSION_TABLE}'").fetchone()
    ):
        counts.append(f"{tables} tables of another application")
    return " and ".join(counts)


def _sqlite_views(conn: sa.Connection) -> list[str]:
    """Every view named like one of duban's tables or reading one (duban makes none), as ``view NAME on TABLE``."""
    found = []
    for name, sql in conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name"):
        tables = sorted(set(re.findall(r"\bduban_\w+", sql or "", re.IGNORECASE)))
        if tables or name.lower().startswith("duban_"):
            found.append(f"view {name!r} on {', '.join(tables) or name}")
    return found


def _refuse_foreign(source: Path, found: list[str], kind: str) -> None:
    """Refuse a backup carrying triggers, rules or views on duban's tables: duban creates none, and one could
    rewrite later writes (or what is read back) behind the audit's back."""
    if not found:
        return
    if kind == "sqlite":
        fix = "drop them in a copy of it (sqlite3 COPY 'DROP TRIGGER name', 'DROP VIEW name') and restore the copy"
    else:
        fix = (
            f"list the archive (pg_restore --list {source} > keep.list), delete their lines, and restore it "
            "yourself with pg_restore --use-list=keep.list"
        )
    raise BackupError(
        f"{source} carries {'; '.join(found)}: duban creates no triggers, rules or views, so these came from "
        f"elsewhere and could change what duban writes; nothing was restored. If you trust the backup, {fix}"
    )


def _not_newer(revision: str, source: Path) -> None:
    head = head_revision()
    if revision > head:
        raise BackupError(f"{source} was made by a newer duban (schema {revision}, this one knows {head}); upgrade")


# ---- PostgreSQL ------------------------------------------------------------------------------


def pg_tool(name: str) -> str | None:
    """The ``pg_dump`` / ``pg_restore`` to run: on PATH, else the newest in /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(Path(p).parts[-3]))
    return candidates[-1] if candidates else None


def pg_command(tool: str, url: str, file: Path, *extra: str) -> tuple[list[str], dict[str, str]]:
    """The command line (libpq URL without the password) and the environment (PGPASSWORD) to run *tool*."""
    parsed = sa.engine.make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    libpq = sa.engine.URL.create(
        "postgresql", parsed.username, None, parsed.host, parsed.port, parsed.database, parsed.query
    ).render_as_string(hide_password=False)
    if tool == "pg_dump":
        return [tool, "--format=custom", "--table=duban_*", f"--file={file}", f"--dbname={libpq}", *extra], env
    return [
        tool,
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        *extra,
        f"--dbname={libpq}",
        str(file),
    ], env


def _shown(command: list[str]) -> str:
    return " ".join(f"'{c}'" if any(ch in c for ch in "*?&; ") else c for c in command)


def _run(name: str, url: str, file: Path, *extra: str, shown: Path | None = None, list_only: bool = False) -> str:
    """Run pg_dump or pg_restore; its standard output. With *list_only*, ``pg_restore --list FILE`` alone."""
    command, env = pg_command(name, url, file, *extra)
    if list_only:
        command = [name, "--list", str(file)]
    tool = pg_tool(name)
    if tool is None:
        yourself = _shown(pg_command(name, url, shown or file, *extra)[0])
        raise BackupError(
            f"{name} is not installed (Debian: apt-get install postgresql-client); run it yourself: {yourself}"
        )
    try:
        done = subprocess.run(
            [tool, *command[1:]], env={**os.environ, **env}, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise BackupError(f"cannot run {tool}: {exc.strerror}") from None
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.strip()] or [f"exit status {done.returncode}"]
        raise BackupError(f"{name} failed: {lines[0].strip()}")
    return done.stdout


def _pg_backup(url: str, target: Path) -> Copied:
    started = time.monotonic()
    partial = _partial(target)
    try:
        _run("pg_dump", url, partial, shown=target)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Copied(
        "backup",
        target,
        _safe(url),
        "pg_dump --format=custom",
        None,
        None,
        target.stat().st_size,
        time.monotonic() - started,
    )


def _pg_restore(url: str, source: Path, force: bool) -> Copied:
    with source.open("rb") as f:
        if f.read(5) != b"PGDMP":
            raise ValidationError("FILE", f"{source}: not a pg_dump custom-format archive (make one with duban backup)")
    started = time.monotonic()
    _refuse_foreign(source, _archive_foreign(url, source), "postgresql")
    db = sa.create_engine(url)
    try:
        with db.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            held = []
            for table, word in (("duban_item", "item"), ("duban_party", "party")):
                n = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() if table in names else 0
                if n:
                    held.append(_n(int(n), word))
        if held and not force:
            raise BackupError(
                f"the database {_safe(url)} holds {' and '.join(held)}; restoring would replace them: "
                "back it up first, then pass --force"
            )
        ours = any(n.startswith("duban_") for n in names)
        _run("pg_restore", url, source, *(["--clean", "--if-exists"] if ours else []))
        with db.connect() as conn:
            items, audits, breaks = verify_chains(conn)
            revision = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    finally:
        db.dispose()
    if breaks:
        raise BackupError(f"restored, but the backup itself is damaged: {breaks[0]}")
    return Copied(
        "restore",
        source,
        _safe(url),
        "pg_restore --single-transaction",
        items,
        audits,
        source.stat().st_size,
        time.monotonic() - started,
        revision,
    )


#: The entries of a pg_dump archive's table of contents that duban never creates: ``ID; OID OID TYPE SCHEMA …``
_FOREIGN_TOC = re.compile(r"^\d+; \d+ \d+ (TRIGGER|RULE|POLICY|VIEW|MATERIALIZED VIEW) \S+ (.*)$")


def _archive_foreign(url: str, source: Path) -> list[str]:
    """The triggers, rules, row policies and views a pg_dump archive carries (``pg_restore --list`` reads its
    table of contents without touching a database), as ``trigger NAME on TABLE``."""
    found = []
    for line in _run("pg_restore", url, source, list_only=True).splitlines():
        if match := _FOREIGN_TOC.match(line.strip()):
            kind, rest = match.group(1).lower(), match.group(2).split(" ")  # TABLE [NAME] OWNER
            named = len(rest) >= 3 and kind not in ("view", "materialized view")
            found.append(f"{kind} {' '.join(rest[1:-1])!r} on {rest[0]}" if named else f"{kind} {rest[0]!r}")
    return found


def _safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def _n(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    return f"{count} {word[:-1]}ies" if word.endswith("y") else f"{count} {word}s"


def _folder(file: Path) -> None:
    if not file.parent.is_dir():
        raise BackupError(f"cannot write {file}: the folder {file.parent} does not exist; create it first")
