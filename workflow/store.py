"""The database: SQLModel tables, connections tuned per backend, and schema migrations.

Every table is prefixed ``duban_`` because duban is embedded in other systems' databases.
The hot path (``Engine.fire``) uses SQLAlchemy Core on these tables; SQLModel gives the typed
rows that integrators and reports read.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.pool import StaticPool
from sqlmodel import JSON, Column, Field, SQLModel

__all__ = [
    "AssignmentRow",
    "AuditRow",
    "ContactRow",
    "DaemonRow",
    "DeadlineRow",
    "DeadlineStepRow",
    "DefinitionRow",
    "IncidentRow",
    "ItemRow",
    "NoticeRow",
    "PartyRow",
    "Prepared",
    "ProblemRow",
    "PromiseRow",
    "SQLModel",
    "VoteRow",
    "claim",
    "connect",
    "migrate",
    "reading",
]

DURABILITY = {"normal": "NORMAL", "full": "FULL"}


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite hands datetimes back naive, so values are stored as UTC and UTC is re-attached on load.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: duban stores only timezone-aware instants")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _instant(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


def _json(**kw: Any) -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False, **kw))


class DefinitionRow(SQLModel, table=True):
    """One version of a lifecycle definition, with its YAML source, so old versions stay loadable."""

    __tablename__ = "duban_definition"
    __table_args__ = (sa.UniqueConstraint("kind", "digest"), sa.UniqueConstraint("kind", "number"))
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    number: int
    digest: str = Field(max_length=64)
    path: str
    source: str = Field(sa_column=Column(sa.Text, nullable=False))
    created_at: dt.datetime = _instant(nullable=False)


class CalendarRow(SQLModel, table=True):
    """One version of an official calendar year loaded into this deployment; the newest id of a year wins."""

    __tablename__ = "duban_calendar"
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    digest: str = Field(max_length=64)
    path: str
    notice: str
    source: str = Field(sa_column=Column(sa.Text, nullable=False))
    loaded_at: dt.datetime = _instant(nullable=False)


class ItemRow(SQLModel, table=True):
    """A suggestion or review opinion. ``version`` is the optimistic lock; ``audit_*`` the chain head."""

    __tablename__ = "duban_item"
    __table_args__ = (sa.Index("ix_duban_item_kind_state", "kind", "state"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64)
    definition_id: int = Field(foreign_key="duban_definition.id")
    state: str = Field(max_length=64)
    title: str
    year: int = Field(index=True)
    round: int = 0
    key_supervised: bool = False
    data: dict[str, Any] = _json()
    version: int = 1
    audit_seq: int = 0
    audit_head: str = Field(max_length=64)
    created_at: dt.datetime = _instant(nullable=False)
    updated_at: dt.datetime = _instant(nullable=False)


class PartyRow(SQLModel, table=True):
    """A handling unit (with its chain of responsibility) or a deputy."""

    __tablename__ = "duban_party"
    __table_args__ = (sa.UniqueConstraint("role", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(max_length=16)  # "unit" | "deputy"
    name: str
    principal_leader: str | None = None  # 主要领导 (负总责)
    department_head: str | None = None  # 部门负责人 (具体责任人)
    handler: str | None = None  # 承办人员 (直接责任人)
    case_leader: str | None = None  # 包案领导
    contacts: dict[str, Any] = _json()


class AssignmentRow(SQLModel, table=True):
    """An item handed to a unit as lead (主办), co-handler (协办) or split part (分办)."""

    __tablename__ = "duban_assignment"
    __table_args__ = (sa.Index("ix_duban_assignment_unit", "unit", "active"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="duban_item.id", index=True)
    unit: str
    role: str = Field(max_length=8)  # lead | co | split
    state: str = Field(max_length=32)  # assigned | accepted | opinion_given | replied | ...
    active: bool = True
    opinion: str | None = None
    reply: dict[str, Any] = _json()
    assigned_at: dt.datetime = _instant(nullable=False)
    updated_at: dt.datetime = _instant(nullable=False)


class PromiseRow(SQLModel, table=True):
    """A B/C reply's promise (承诺事项) with its date, for the promise ledger."""

    __tablename__ = "duban_promise"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="duban_item.id", index=True)
    unit: str
    what: str
    by: dt.date
    status: str = Field(default="open", max_length=16)  # open | kept | broken
    round: int = 0
    note: str | None = None
    verified_at: dt.datetime | None = _instant(nullable=True)


class ProblemRow(SQLModel, table=True):
    """One problem on a review opinion's problem list, tracked to its own closure."""

    __tablename__ = "duban_problem"
    __table_args__ = (sa.UniqueConstraint("item_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="duban_item.id", index=True)
    number: int
    title: str
    measure: str | None = None
    owner: str | None = None
    due: dt.date | None = None
    status: str = Field(default="open", max_length=16)  # open | planned | in_progress | rectified | closed
    note: str | None = None
    updated_at: dt.datetime = _instant(nullable=False)


class ContactRow(SQLModel, table=True):
    """A contact between a unit and the deputy (办前沟通 / 办中见面 / 办后反馈)."""

    __tablename__ = "duban_contact"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="duban_item.id", index=True)
    unit: str
    stage: str = Field(max_length=16)  # before | during | after
    method: str = Field(max_length=16)
    contacted_on: dt.date
    note: str | None = None
    recorded_at: dt.datetime = _instant(nullable=False)


class VoteRow(SQLModel, table=True):
    """A standing committee satisfaction vote (满意度测评) on a review opinion's report."""

    __tablename__ = "duban_vote"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="duban_item.id", index=True)
    round: int
    satisfied: int
    basically_satisfied: int
    unsatisfied: int
    result: str = Field(max_length=16)  # satisfactory | unsatisfactory
    at: dt.datetime = _instant(nullable=False)


class AuditRow(SQLModel, table=True):
    """Append-only audit log, hash-chained per item: each row's hash covers the previous one."""

    __tablename__ = "duban_audit"
    __table_args__ = (sa.UniqueConstraint("item_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="duban_item.id")
    seq: int
    at: dt.datetime = _instant(nullable=False)
    actor_role: str = Field(max_length=16)
    actor_party: str | None = None
    trigger: str = Field(max_length=64)
    source: str | None = None
    dest: str
    data: dict[str, Any] = _json()
    # The rows the event wrote (workflow.audit_rows), hashed with it; {} on rows from before 0006.
    effects: dict[str, Any] = _json(server_default=sa.text("'{}'"))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class DeadlineRow(SQLModel, table=True):
    """A statutory clock running on an item (or on one of its promises or problems).

    ``next_at`` is when the next reminder or escalation level falls due; the sweep reads only rows
    whose ``next_at`` has passed, through the (state, next_at) index.
    """

    __tablename__ = "duban_deadline"
    __table_args__ = (
        sa.Index("ix_duban_deadline_next", "state", "next_at"),
        sa.Index("ix_duban_deadline_due", "due"),
    )
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="duban_item.id", index=True)
    clock: str = Field(max_length=64)
    subject: str = Field(default="", max_length=64)  # "" for the item, "promise:7", "problem:3"
    round: int = 0
    state: str = Field(max_length=16)  # running | paused | stopped | replaced
    start_date: dt.date
    period: str = Field(max_length=32)
    extension: str | None = Field(default=None, max_length=64)
    paused_days: int = 0
    paused_on: dt.date | None = None
    raw: dt.date
    due: dt.date
    deadline_at: dt.datetime = _instant(nullable=False)
    provisional: bool = False
    explanation: str = Field(sa_column=Column(sa.Text, nullable=False))
    next_step: int = 0
    next_at: dt.datetime | None = _instant(nullable=True)
    level: int = 0
    started_at: dt.datetime = _instant(nullable=False)
    stopped_at: dt.datetime | None = _instant(nullable=True)
    # A sweep's claim: a lease, so that a sweeper killed mid-batch holds nothing once it expires.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: dt.datetime | None = _instant(nullable=True)


class DeadlineStepRow(SQLModel, table=True):
    """A reminder or escalation level produced for a deadline: at most one row per (deadline, step)."""

    __tablename__ = "duban_deadline_step"
    __table_args__ = (sa.UniqueConstraint("deadline_id", "step"),)
    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="duban_deadline.id", index=True)
    step: int
    kind: str = Field(max_length=16)  # reminder | escalation
    level: int
    scheduled_at: dt.datetime = _instant(nullable=False)
    produced_at: dt.datetime = _instant(nullable=False)
    # Why this step sent no notice: several steps of one clock fell due at once (after downtime, or
    # an import of items in flight) and only the latest was sent.
    skipped: str | None = None


class NoticeRow(SQLModel, table=True):
    """The outbox: a notice rendered when it was queued, in the same transaction as its cause.

    ``key`` is the idempotency key (unique): the same cause and recipient never queue twice, and the
    receiving side sees the key with the notice so that it can drop a redelivery.
    """

    __tablename__ = "duban_notice"
    __table_args__ = (sa.Index("ix_duban_notice_due", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    item_id: int | None = Field(default=None, foreign_key="duban_item.id", index=True)
    type: str = Field(max_length=64)
    channel: str = Field(max_length=16)  # mail | webhook | file
    recipient: str  # the person or unit, as addressed
    role: str = Field(max_length=32)
    unit: str | None = None  # the unit whose chain of responsibility the recipient is in
    address: str  # empty while the notice is held for want of one
    subject: str
    body_text: str = Field(sa_column=Column(sa.Text, nullable=False))
    body_html: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    cause: str = Field(max_length=200)  # "audit:12:3" (item 12, event 3) or "deadline:7:step:2"
    status: str = Field(max_length=16)  # held | queued | sending | sent | failed | dead
    attempts: int = 0
    next_attempt_at: dt.datetime = _instant(nullable=False)
    lease_until: dt.datetime | None = _instant(nullable=True)
    last_error: str | None = None
    queued_at: dt.datetime = _instant(nullable=False)
    sent_at: dt.datetime | None = _instant(nullable=True)


class IncidentRow(SQLModel, table=True):
    """Something that needs a person: a notice with no address to go to, or one that died."""

    __tablename__ = "duban_incident"
    id: int | None = Field(default=None, primary_key=True)
    item_id: int | None = Field(default=None, foreign_key="duban_item.id", index=True)
    notice_id: int | None = Field(default=None, foreign_key="duban_notice.id")
    kind: str = Field(max_length=32)  # missing_contact | render_failed | notice_failed | notice_dead
    message: str
    at: dt.datetime = _instant(nullable=False)
    resolved_at: dt.datetime | None = _instant(nullable=True)
    note: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))  # how it was resolved


class DaemonRow(SQLModel, table=True):
    """A running (or stopped) daemon's heartbeat: who it is, where, and how its last sweep went."""

    __tablename__ = "duban_daemon"
    id: str = Field(primary_key=True, max_length=64)
    host: str = Field(max_length=255)
    pid: int
    started_at: dt.datetime = _instant(nullable=False)
    beat_at: dt.datetime = _instant(nullable=False)
    last_sweep_at: dt.datetime | None = _instant(nullable=True)
    last_result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    last_error_at: dt.datetime | None = _instant(nullable=True)
    stopped_at: dt.datetime | None = _instant(nullable=True)


TABLES = {t.name: t for t in SQLModel.metadata.sorted_tables if t.name.startswith("duban_")}


def connect(url: str, *, durability: str = "normal") -> SAEngine:
    """Create a SQLAlchemy engine tuned for duban.

    On SQLite: WAL mode, foreign keys on, ``synchronous`` from *durability* (``normal``: a committed
    transaction survives the process being killed, the last ones may be lost on power failure;
    ``full``: also survives power failure, slower), and every transaction begins with
    ``BEGIN IMMEDIATE`` so concurrent writers queue instead of losing updates.
    """
    if durability not in DURABILITY:
        raise ValueError(f"durability must be one of {sorted(DURABILITY)}, not {durability!r}")
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    kw: dict[str, Any] = {"poolclass": StaticPool} if memory else {}
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if not memory and cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:  # switching writes the file's header: a read-only copy is read in the mode it has
                cur.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                if "readonly" not in str(exc):
                    raise
        cur.execute(f"PRAGMA synchronous={DURABILITY[durability]}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Writers take the lock up front so that concurrent writers queue instead of failing
        # half-way; readers (see `reading`) use a deferred transaction and never block writers.
        begin = "BEGIN" if conn.get_execution_options().get("duban_read") else "BEGIN IMMEDIATE"
        conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]

    return engine


def claim(
    conn: sa.Connection,
    table: sa.Table,
    due: sa.ColumnElement[bool],
    order: Sequence[sa.ColumnElement[Any]],
    limit: int,
    values: dict[str, Any],
) -> list[dict[str, Any]]:
    """Claim up to *limit* rows matching *due*, first in *order*, setting *values*; one statement,
    ``UPDATE … WHERE id IN (SELECT id … LIMIT n FOR UPDATE SKIP LOCKED) AND <still due> RETURNING *``.

    On PostgreSQL the pick is a MATERIALIZED CTE: as a plain subquery the planner may run it again
    for each row it updates, each run skipping rows just locked, and claim far more than *limit*.
    SQLite takes the plain statement under its single writer.
    """
    pick = sa.select(table.c.id).where(due).order_by(*order).limit(limit)
    if conn.dialect.name == "postgresql":
        picked = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
        ids: Any = sa.select(picked.c.id).scalar_subquery()
    else:
        ids = pick.scalar_subquery()
    statement = sa.update(table).where(table.c.id.in_(ids), due).values(**values).returning(*table.c)
    return [dict(r) for r in conn.execute(statement).mappings()]


@contextmanager
def reading(engine: SAEngine) -> Iterator[sa.Connection]:
    """A connection for reads only: on SQLite its transaction does not take the write lock."""
    with engine.connect() as conn:
        yield conn.execution_options(duban_read=True)


class Prepared:
    """A Core statement compiled once per dialect and run straight on the DBAPI cursor.

    For the few statements every fire runs. SQLAlchemy's execute spends ~50 µs on bookkeeping
    (events, result metadata, Row objects) that these do not need; values are still converted by
    the column types' own bind and result processors, so rows read and write exactly as through
    SQLAlchemy. *keys* fixes the SET / VALUES columns of an UPDATE or INSERT: every call gives them all.
    """

    def __init__(self, statement: sa.Select[Any] | sa.Insert | sa.Update, keys: Sequence[str] = ()) -> None:
        self.statement = statement
        self.keys = list(keys)
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, conn: sa.Connection) -> _Compiled:
        dialect = conn.dialect
        found = self._by_dialect.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=self.keys or None)
            binds = {name: bp.type.dialect_impl(dialect).bind_processor(dialect) for name, bp in compiled.binds.items()}
            columns = self.statement.exported_columns  # the selected, or RETURNING, columns
            results = [(str(c.key), c.type.dialect_impl(dialect).result_processor(dialect, None)) for c in columns]
            order = list(compiled.positiontup or []) if compiled.positional else None
            fixed = {name: bp.value for name, bp in compiled.binds.items() if bp.value is not None}
            found = self._by_dialect[dialect.name] = _Compiled(str(compiled), binds, order, results, fixed)
        return found

    def execute(self, conn: sa.Connection, params: dict[str, Any]) -> Any:
        """Run with *params*; returns the DBAPI cursor (rowcount, fetches)."""
        c = self._compiled(conn)
        given = {**c.fixed, **params} if c.fixed else params
        values = {k: _convert(c.binds.get(k), v) for k, v in given.items()}
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(c.sql, [values[k] for k in c.order] if c.order is not None else values)
        return cursor

    def execute_many(self, conn: sa.Connection, many: Sequence[dict[str, Any]]) -> int:
        """Run once per parameter set in one DBAPI ``executemany``; returns the rows affected in all
        (sqlite3 and psycopg both sum them)."""
        if not many:
            return 0
        c = self._compiled(conn)
        rows: list[Any] = []
        for params in many:
            given = {**c.fixed, **params} if c.fixed else params
            if c.order is not None:
                rows.append([_convert(c.binds.get(k), given[k]) for k in c.order])
            else:
                rows.append({k: _convert(c.binds.get(k), v) for k, v in given.items()})
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(c.sql, rows)
        return int(cursor.rowcount)

    def rows(self, conn: sa.Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every result row as a dict of column key to converted value."""
        c = self._compiled(conn)
        return [
            {key: (proc(v) if proc else v) for (key, proc), v in zip(c.results, raw, strict=True)}
            for raw in self.execute(conn, params).fetchall()
        ]

    def first(self, conn: sa.Connection, params: dict[str, Any]) -> dict[str, Any] | None:
        found = self.rows(conn, params)
        return found[0] if found else None


#: Instants already converted for the database, by (bind processor, value): a fire binds its instant
#: in a dozen places and a sweep batch its now and due dates row after row (UTC conversion and
#: formatting cost a few µs each). Bounded: cleared when full.
_INSTANTS: dict[tuple[Any, dt.date], Any] = {}
_INSTANTS_MAX = 4096


def _convert(proc: Any, value: Any) -> Any:
    if proc is None or value is None:
        return value
    if not isinstance(value, dt.date):  # datetimes are dates too
        return proc(value)
    key = (proc, value)
    found = _INSTANTS.get(key)
    if found is None:
        if len(_INSTANTS) >= _INSTANTS_MAX:
            _INSTANTS.clear()
        found = _INSTANTS[key] = proc(value)
    return found


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    binds: dict[str, Any]
    order: list[str] | None
    results: list[tuple[str, Any]]
    fixed: dict[str, Any]  # values of the statement's literal bind parameters


MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "duban_alembic_version"


def _alembic_config(engine: SAEngine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(engine: SAEngine) -> str | None:
    """The schema revision the database is at, or None for an empty database."""
    with reading(engine) as conn:
        if not sa.inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def migrate(engine: SAEngine, revision: str = "head") -> None:
    """Create or upgrade duban's tables with the Alembic migrations shipped in the package."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)
