"""The Engine: submit items, fire triggers, read items back, all in one database.

A fire is one transaction: the item row (compare-and-set on its version), the sub-rows its
actions write, and its audit row — or nothing at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from transitions import Machine

from workflow import calendars, names, office, scope, store
from workflow.audit import (
    GENESIS,
    INSERT_AUDIT,
    AuditBreak,
    append_event,
    audit_values,
    foreign_triggers,
    verify_items,
)
from workflow.audit_rows import ITEM_COLUMNS, ITEM_TABLE, record
from workflow.beijing import SHANGHAI, beijing_date, beijing_text
from workflow.calendar import Calendar
from workflow.channels import Settings, dispatch, incidents, outbox
from workflow.clocks import apply_clocks, recompute
from workflow.deadlines import DueStep, deadline_dict, deadline_query, definition_of
from workflow.definition import (
    Definition,
    bundled_dir,
    check_parameter,
    load_definition,
    parse_definition,
)
from workflow.definition_numbers import NumberCache
from workflow.errors import (
    BatchError,
    ConflictError,
    DefinitionError,
    InvalidTransition,
    NotFound,
    ValidationError,
    WorkflowError,
)
from workflow.fields import check_data
from workflow.lookup import kind_code, state_code
from workflow.machine import compile_machine
from workflow.model import VOIDED, Actor, AuditEntry, Item, ItemDetail, plain
from workflow.notify import Notices, queue_fire, report_overdue
from workflow.recovery import release_held, requeue, resolve_incident
from workflow.registry import Context, Registry
from workflow.sweep import SweepResult, default_worker, produce, sweep
from workflow.yamlfile import LocatedYAML, read_text

if TYPE_CHECKING:
    from workflow.reports import FollowupReport

__all__ = ["SHANGHAI", "Engine"]

OFFICE = Actor("office")
_T = {
    name: store.TABLES[f"duban_{name}"]
    for name in ("item", "definition", "audit", "assignment", "promise", "problem", "contact", "vote", "party")
}
_ITEM, _AUDIT, _DEADLINE = _T["item"], _T["audit"], store.TABLES["duban_deadline"]
# The hot path's statements are built once: SQLAlchemy then reuses their compiled form, and the
# SET / VALUES columns follow the parameters given at execution.
#: A unit's name is part of its clocks' subject ("unit:NAME", 64 characters in the store).
PARTY_NAME_MAX = 59
_PARTY_LOCK = 0x6475_6261_6E70_7479  # "dubanpty": serialises add_party on PostgreSQL (the look-alike check)
_SELECT_ITEM = store.Prepared(sa.select(_ITEM).where(_ITEM.c.id == sa.bindparam("w_id")))
# A fire reads its item locked (FOR UPDATE on PostgreSQL; SQLite's writer lock already holds it): two
# fires on one item queue instead of both writing sub-rows, where the loser would hit a unique key
# (a problem's number, a notice's key) or a deadlock rather than the ConflictError of the version check.
_LOCK_ITEM = store.Prepared(sa.select(_ITEM).where(_ITEM.c.id == sa.bindparam("w_id")).with_for_update())
_ITEM_COLUMNS = [c.key for c in _ITEM.c if c.key != "id"]
_INSERT_ITEM = store.Prepared(sa.insert(_ITEM).returning(_ITEM.c.id), _ITEM_COLUMNS)
_SET_HEAD = store.Prepared(sa.update(_ITEM).where(_ITEM.c.id == sa.bindparam("w_id")), ["audit_head"])


class Engine:
    """duban's workflow engine over one database.

    :param url: SQLAlchemy URL; ``sqlite:///duban.db`` (embedded) or ``postgresql+psycopg://…``.
    :param definitions: folders or YAML files with lifecycle definitions (default: the bundled ones).
    :param clock: returns the current aware datetime; inject a fake one in tests.
    :param registry: guards, conditions and actions definitions may name (default: the built-ins).
    :param parameters: per-kind overrides of definition parameters (or the path of a YAML file
        holding them, a jurisdiction's own small file), e.g.
        ``{"suggestion": {"rehandle_period": "2 months"}}``.
    :param durability: SQLite ``synchronous`` level: ``normal`` (default; a committed fire survives
        the process being killed) or ``full`` (also survives power loss).
    :param migrate: create or upgrade the schema on open (default True).
    :param notifications: folders of notice templates that override the bundled ones by name.
    :param settings: delivery settings (:class:`~workflow.channels.Settings`, or a TOML file); by default
        from ``DUBAN_*`` environment variables.
    :param calendar: a loaded :class:`~workflow.calendar.Calendar`, or folders of calendar files read
        after the bundled ones (a deployment's own year files or mid-year changes).
    """

    def __init__(
        self,
        url: str = "sqlite:///duban.db",
        *,
        definitions: str | Path | Iterable[str | Path] | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        registry: Registry | None = None,
        parameters: Mapping[str, Mapping[str, Any]] | str | Path | None = None,
        durability: str = "normal",
        migrate: bool = True,
        calendar: Calendar | str | Path | Iterable[str | Path] | None = None,
        notifications: str | Path | Iterable[str | Path] | None = None,
        settings: Settings | str | Path | None = None,
        future_margin: dt.timedelta = dt.timedelta(days=1),
        allow_future: bool = False,
    ) -> None:
        self.url = url
        self.db = store.connect(url, durability=durability)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        # An injected clock is the caller's own truth (tests, the demo's simulated year); only a
        # real clock is a wall to compare explicit instants with.
        self._real_clock = clock is None
        self.future_margin = future_margin
        self.allow_future = allow_future
        self.registry = registry or Registry.default()
        # The bundled years and *calendar*; the years stored in the database (duban calendar load)
        # go on top of them, so a deployment's own calendar wins over a file of the same year.
        self._calendar_base = calendar if isinstance(calendar, Calendar) else Calendar.load(_folders(calendar))
        self.calendar = self._calendar_base
        self._calendar_version = -1
        self.definition_number = NumberCache(self.db)  # definition row id → its kind's 第 N 版
        self.notices = Notices.load(_folders(notifications))
        self.settings = settings if isinstance(settings, Settings) else Settings.load(settings)
        if migrate and store.current_revision(self.db) != store.head_revision():
            store.migrate(self.db)
        with store.reading(self.db) as conn:
            self._sync_calendar(conn)
            self.settings = office.signed(self.settings, conn)  # the stored office name, unless settings say
        self._versions: dict[int, tuple[Definition, Machine, dict[str, Any]]] = {}
        self._places: dict[tuple[str, str], tuple[str, int, int]] = {}
        if isinstance(parameters, (str, Path)):
            parameters, self._places = _read_parameters(Path(parameters))
        self._overrides = {k: dict(v) for k, v in (parameters or {}).items()}
        self._current: dict[str, int] = {}
        for defn in load_definitions(definitions, self.registry, set(self.notices.types)):
            self._current[defn.kind] = self._register(defn)
        for kind in self._overrides:
            if kind not in self._current:
                problem = f"no lifecycle {kind!r} is loaded; kinds: {', '.join(self.kinds)}"
                place = next((p for (k, _), p in self._places.items() if k == kind), None)
                raise DefinitionError(problem, *place) if place else ValidationError(f"parameters.{kind}", problem)

    # ---- definitions ------------------------------------------------------------------------

    @property
    def kinds(self) -> list[str]:
        return sorted(self._current)

    def definition(self, kind: str) -> Definition:
        """The current definition of *kind* (new items start under it)."""
        return self._version(self._current_id(kind))[0]

    def _current_id(self, kind: str) -> int:
        if kind not in self._current:
            raise NotFound(f"no lifecycle {kind!r}; loaded: {', '.join(self.kinds) or 'none'}")
        return self._current[kind]

    def _register(self, defn: Definition) -> int:
        """Record *defn* as a version of its kind (once per digest) and return its row id."""
        table = _T["definition"]
        query = sa.select(table.c.id).where(table.c.kind == defn.kind, table.c.digest == defn.digest)
        # A version already recorded is only read: opening an Engine takes no write lock, so readers
        # (duban list, show, audit verify) never queue behind a writer, and a read-only copy opens.
        with store.reading(self.db) as conn:
            found = conn.execute(query).scalar()
        for _ in range(0 if found is not None else 3):  # another process may register it at the same moment
            with self.db.begin() as conn:
                found = conn.execute(query).scalar()
                if found is not None:
                    break
                number = (
                    conn.execute(
                        sa.select(sa.func.coalesce(sa.func.max(table.c.number), 0)).where(table.c.kind == defn.kind)
                    ).scalar_one()
                    + 1
                )
                try:
                    found = conn.execute(
                        sa.insert(table)
                        .values(
                            kind=defn.kind,
                            number=number,
                            digest=defn.digest,
                            path=defn.path,
                            source=defn.source,
                            created_at=self.clock(),
                        )
                        .returning(table.c.id)
                    ).scalar_one()
                    break
                except IntegrityError:
                    conn.rollback()
        if found is None:
            raise ConflictError(f"could not register definition {defn.kind!r}: concurrent registrations")
        self._versions[found] = self._compiled(defn, found)
        return int(found)

    def _compiled(self, defn: Definition, def_id: int) -> tuple[Definition, Machine, dict[str, Any]]:
        params = defn.defaults()
        for name, value in self._overrides.get(defn.kind, {}).items():
            spec = defn.parameters.get(name)
            field = f"parameters.{defn.kind}.{name}"
            problem = (
                f"{defn.kind} has no parameter {name!r}; it has: {', '.join(params)}"
                if spec is None
                else check_parameter(spec.type, value)
            )
            if problem:
                place = self._places.get((defn.kind, name))
                raise DefinitionError(problem, *place) if place else ValidationError(field, problem)
            params[name] = value
        return defn, compile_machine(defn, self.registry), params

    def _version(self, def_id: int, conn: sa.Connection | None = None) -> tuple[Definition, Machine, dict[str, Any]]:
        """The definition version *def_id*, compiled; old versions are read back from the database."""
        if def_id not in self._versions:
            query = sa.select(_T["definition"]).where(_T["definition"].c.id == def_id)
            if conn is None:
                with store.reading(self.db) as own:
                    row = own.execute(query).one()
            else:
                row = conn.execute(query).one()
            defn = parse_definition(
                row.source, f"{row.path} (version {row.number})", self.registry, set(self.notices.types)
            )
            self._versions[def_id] = self._compiled(defn, def_id)
        return self._versions[def_id]

    # ---- parties ----------------------------------------------------------------------------

    def add_party(self, role: str, name: str, **details: Any) -> dict[str, Any]:
        """Add or update a unit (with its chain of responsibility), a deputy or a leader; returns its row.

        *name* is normalised (:mod:`workflow.names`: NFKC, stripped; refused when it holds a character
        that shows nothing). A name that is a registered party's after normalising updates that party;
        a new name that looks like a registered party's of the same role (:func:`~workflow.names.skeleton`)
        is refused, naming that party."""
        if role not in ("unit", "deputy", "leader"):
            raise ValidationError("role", f"a party is a unit, a deputy or a leader, not {role!r}")
        name = names.normal(name, "name")
        if not name:
            raise ValidationError("name", "a party needs a name")
        if len(name) > PARTY_NAME_MAX:
            raise ValidationError("name", f"a party's name has at most {PARTY_NAME_MAX} characters, not {len(name)}")
        table = _T["party"]
        columns = {"principal_leader", "department_head", "handler", "case_leader", "contacts"}
        for key in details:
            if key not in columns:
                raise ValidationError(key, f"not a party field; fields: {', '.join(sorted(columns))}")
        with self.db.begin() as conn:
            if conn.dialect.name == "postgresql":  # two processes adding look-alikes at once: one waits
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PARTY_LOCK})
            same = conn.execute(sa.select(table.c.name).where(table.c.role == role, table.c.name == name)).scalar()
            if same is None:  # a new name, or one stored before names were normalised, or a look-alike
                stored = conn.execute(sa.select(table.c.name).where(table.c.role == role)).scalars().all()
                same = names.registered(name, role, stored)
            match = (table.c.role == role, table.c.name == (same or name))
            if same is not None:
                if details:
                    conn.execute(sa.update(table).where(*match).values(**details))
            else:
                conn.execute(sa.insert(table).values(role=role, name=name, **{"contacts": {}, **details}))
            row = dict(conn.execute(sa.select(table).where(*match)).one()._mapping)
            release_held(conn, row, self.settings, self._instant(None))
            return row

    def parties(self, role: str | None = None) -> list[dict[str, Any]]:
        table = _T["party"]
        query = sa.select(table).order_by(table.c.role, table.c.name)
        with store.reading(self.db) as conn:
            rows = conn.execute(query.where(table.c.role == role) if role else query)
            return [dict(r._mapping) for r in rows]

    # ---- submit and fire --------------------------------------------------------------------

    def _instant(self, at: dt.datetime | None) -> dt.datetime:
        at = self.clock() if at is None else at
        if not isinstance(at, dt.datetime) or at.tzinfo is None:
            raise ValidationError("at", f"must be a timezone-aware date and time, not {at!r}")
        return at.astimezone(dt.UTC)

    def _sync_calendar(self, conn: sa.Connection) -> None:
        """Count with the stored calendar: another process may have loaded a year since we opened."""
        if calendars.version(conn) != self._calendar_version:
            self.calendar, self._calendar_version = calendars.build(self._calendar_base, conn)

    def calendar_years(self) -> list[dict[str, Any]]:
        """Every calendar year counted with: notice, ``bundled`` or ``stored``, version, file."""
        with store.reading(self.db) as conn:
            return calendars.listing(conn, self._calendar_base)

    def _written(self, at: dt.datetime | None, field: str = "at") -> dt.datetime | None:
        """An explicit instant something is written at, checked against the wall clock."""
        if at is None:
            return None
        at = self._instant(at)
        if self._real_clock and not self.allow_future:
            wall = self.clock()
            if at > wall + self.future_margin:
                hours = self.future_margin.total_seconds() / 3600
                margin = f"{hours / 24:g} day(s)" if hours % 24 == 0 else f"{hours:g} hour(s)"
                raise ValidationError(
                    field,
                    f"{beijing_text(at, 'minutes')} is more than {margin} ahead of the clock "
                    f"({beijing_text(wall, 'minutes')}); history cannot be dated in the future: fix the date, "
                    "or allow it explicitly (allow_future=True, --allow-future)",
                )
        return at

    def submit(
        self,
        kind: str,
        *,
        actor: Actor | str = OFFICE,
        at: dt.datetime | None = None,
        data: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Item:
        """Create an item of *kind* from its submission fields; returns it in its initial state.
        *actor* is an :class:`Actor` or its ``ROLE[:PARTY]`` string, here and in every method taking one."""
        at = self._written(at) or self._instant(None)
        with self.db.begin() as conn:
            return self._submit_in(conn, kind, Actor.of(actor), at, {**(data or {}), **fields})

    def _submit_in(
        self, conn: sa.Connection, kind: str, actor: Actor, at: dt.datetime, data: Mapping[str, Any]
    ) -> Item:
        """Submit inside the caller's transaction (an import writes all its rows in one); *at* is UTC."""
        def_id = self._current_id(kind)
        defn, _machine, params = self._version(def_id, conn)
        values = check_data(defn.submit.fields, data)
        item = {"id": None, "kind": kind, "round": 0, "data": values, "key_supervised": False}
        ctx = Context(defn.initial, item, values, actor, at, conn, defn, params, "submit")
        ctx.authorize(defn.submit.roles)
        ctx.check_setters(defn.submit.fields)
        for name in defn.submit.guards:
            self.registry.guards[name](ctx)
        stored = plain(values)
        row = {
            "kind": kind,
            "definition_id": def_id,
            "state": defn.initial,
            "title": stored["title"],
            "year": beijing_date(at).year,
            "round": 0,
            "key_supervised": False,
            "data": stored,
            "version": 1,
            "audit_seq": 1,
            "audit_head": GENESIS,
            "created_at": at,
            "updated_at": at,
        }
        row["id"] = _INSERT_ITEM.execute(conn, row).fetchone()[0]
        record(ctx.effects, ITEM_TABLE, row["id"], {c: row[c] for c in ITEM_COLUMNS})
        audit = audit_values(row["id"], 1, GENESIS, at, actor, "submit", None, defn.initial, stored, ctx.effects)
        INSERT_AUDIT.execute(conn, audit)
        _SET_HEAD.execute(conn, {"w_id": row["id"], "audit_head": audit["hash"]})
        row["audit_head"] = audit["hash"]
        return _item(row, defn, self.definition_number(def_id, conn))

    def fire(
        self,
        item_id: int,
        trigger: str,
        *,
        actor: Actor | str = OFFICE,
        at: dt.datetime | None = None,
        expected_version: int | None = None,
        data: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> Item:
        """Fire *trigger* on an item; returns the item as it stands after the fire.

        Raises InvalidTransition, PermissionDenied, ValidationError, NotFound, or ConflictError
        when *expected_version* is given and the item has moved on (or another process won a race).
        An item *actor* may not see (:mod:`workflow.scope`) is NotFound, exactly as from :meth:`get`:
        neither its state, its version nor its triggers show in the error.
        On any error nothing is written. An explicit *at* may not precede the item's last change;
        without one, the clock is read once the item is locked and never goes back before it.
        """
        at, actor = self._written(at), Actor.of(actor)
        with self.db.begin() as conn:
            item = self._lock_visible(conn, item_id, actor)
            if expected_version is not None and item["version"] != expected_version:
                raise ConflictError(
                    f"item {item_id} is at version {item['version']}, not {expected_version}: "
                    "it changed since you read it; reload it and try again"
                )
            if at is None:  # read now, after the lock: another process may have just written
                at = max(self._instant(None), item["updated_at"])
            self._sync_calendar(conn)
            new = self._fire_in(conn, item, trigger, actor, at, {**(data or {}), **fields})
        return _item(
            {**item, **new}, self._version(item["definition_id"])[0], self.definition_number(item["definition_id"])
        )

    def fire_many(
        self,
        trigger: str,
        items: Mapping[int, Mapping[str, Any]] | Iterable[int],
        *,
        actor: Actor | str = OFFICE,
        at: dt.datetime | None = None,
        data: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> list[Item]:
        """Fire *trigger* on many items in one transaction, as an assignment meeting (交办会) assigns a
        session's suggestions at once: every item is checked, audited and notified exactly as by
        :meth:`fire`, with *data*/*fields* shared and a mapping's per-item data on top. All or
        nothing: the first item that cannot fire raises :class:`BatchError` naming it, and nothing
        is written. Items are taken in id order (so two batches never wait on each other) and the
        result follows that order."""
        own = items if isinstance(items, Mapping) else {item_id: {} for item_id in items}
        shared, actor = {**(data or {}), **fields}, Actor.of(actor)
        explicit = self._written(at)
        fired: list[Item] = []
        with self.db.begin() as conn:
            self._sync_calendar(conn)
            for item_id in sorted(own):
                try:
                    item = self._lock_visible(conn, item_id, actor)
                    when = explicit or max(self._instant(None), item["updated_at"])
                    new = self._fire_in(conn, item, trigger, actor, when, {**shared, **own[item_id]})
                except WorkflowError as exc:
                    raise BatchError(item_id, exc, len(own)) from exc
                def_id = item["definition_id"]
                fired.append(_item({**item, **new}, self._version(def_id)[0], self.definition_number(def_id, conn)))
        return fired

    @staticmethod
    def _lock_visible(conn: sa.Connection, item_id: int, actor: Actor) -> dict[str, Any]:
        """The item, locked; NotFound, worded as for an id that does not exist, when *actor* may not see it
        (:mod:`workflow.scope`): checked before anything about the item (state, version, triggers) can
        reach an error message."""
        item = _LOCK_ITEM.first(conn, {"w_id": item_id})
        if item is None or not scope.can_see(conn, actor, item_id):
            raise NotFound(f"no item {item_id}")
        return item

    def _fire_in(
        self,
        conn: sa.Connection,
        item: dict[str, Any],
        trigger: str,
        actor: Actor,
        at: dt.datetime,
        data: Mapping[str, Any],
        *,
        timeout: bool = False,
    ) -> dict[str, Any]:
        """Fire *trigger* on *item* inside the caller's transaction; returns the item's new values.
        *timeout*: the sweep fires a clock's ``on_due``, the one fire that sets ``set_by: on_due`` fields."""
        defn, machine, params = self._version(item["definition_id"], conn)
        spec = defn.transition(item["state"], trigger)
        if spec is None:
            raise InvalidTransition(trigger, item["state"], defn.allowed_triggers(item["state"]), item["id"])
        if at < item["updated_at"]:
            raise ValidationError(
                "at",
                f"{beijing_text(at)} is before the item's last change "
                f"({beijing_text(item['updated_at'])}); history is written in order",
            )
        ctx = Context(item["state"], item, {}, actor, at, conn, defn, params, trigger, timeout=timeout)
        ctx.authorize(spec.roles)
        ctx.data = check_data(spec.fields, data)
        ctx.check_setters(spec.fields)
        machine.events[trigger].trigger(ctx)
        if defn.clocks:
            apply_clocks(ctx, trigger, ctx.state, self.calendar, _event_name(spec.label))
        for notice in spec.notices:
            if notice.when_state in (None, ctx.state):
                queue_fire(ctx, self.notices, self.settings, notice, f"audit:{item['id']}:{item['audit_seq'] + 1}")
        kept = {f.name: ctx.data[f.name] for f in spec.fields if f.keep and f.name in ctx.data}
        changes = {"data": {**item["data"], **plain(kept)}} if kept else {}
        changes |= ctx.updates
        return append_event(conn, item, actor, at, trigger, ctx.state, plain(ctx.data), changes, ctx.effects)

    # ---- reading ----------------------------------------------------------------------------

    def get(self, item_id: int, *, actor: Actor | str | None = None) -> ItemDetail:
        """Everything about one item: state, data, units, promises, problems, contacts, votes, history.
        With *actor*, an item they may not see (:mod:`workflow.scope`) is NotFound, as if absent."""
        actor = None if actor is None else Actor.of(actor)
        with store.reading(self.db) as conn:
            row = _SELECT_ITEM.first(conn, {"w_id": item_id})
            if row is None or not scope.can_see(conn, actor, item_id):
                raise NotFound(f"no item {item_id}")

            def rows(name: str, order: str = "id") -> list[dict[str, Any]]:
                t = _T[name]
                found = conn.execute(sa.select(t).where(t.c.item_id == item_id).order_by(t.c[order]))
                return [{k: v for k, v in r._mapping.items() if k != "item_id"} for r in found]

            history = [
                AuditEntry(
                    r["seq"],
                    r["at"],
                    f"{r['actor_role']}:{r['actor_party']}" if r["actor_party"] else r["actor_role"],
                    r["trigger"],
                    r["source"],
                    r["dest"],
                    r["data"],
                    r["hash"],
                )
                for r in rows("audit", "seq")
            ]
            defn = self._version(row["definition_id"], conn)[0]
            base = _item(row, defn, self.definition_number(row["definition_id"], conn))
            return ItemDetail(
                **{f: getattr(base, f) for f in Item.__dataclass_fields__},
                assignments=rows("assignment"),
                promises=rows("promise"),
                problems=rows("problem", "number"),
                contacts=rows("contact"),
                votes=rows("vote"),
                deadlines=[deadline_dict(r, defn) for r in conn.execute(deadline_query(item=item_id)).mappings()],
                history=history,
                allowed_triggers=defn.allowed_triggers(row["state"]),
            )

    def items(
        self,
        *,
        kind: str | None = None,
        state: str | None = None,
        unit: str | None = None,
        year: int | None = None,
        key_supervised: bool | None = None,
        limit: int | None = None,
        actor: Actor | str | None = None,
        voided: bool = False,
    ) -> list[Item]:
        """Items matching every filter given, oldest first. *unit* matches active assignments; *actor*
        keeps only what they may see (:mod:`workflow.scope`: a unit its items, a deputy theirs).
        Voided items (作废) are left out unless *voided* is true or *state* asks for them."""
        actor = None if actor is None else Actor.of(actor)
        loaded = [v[0] for v in self._versions.values()]
        kind = None if kind is None else kind_code(kind, loaded)
        state = None if state is None else self._state_code(state, loaded)
        query = scope.restrict(sa.select(_ITEM).order_by(_ITEM.c.id), actor, self.db.dialect.name)
        if not voided and state is None:
            query = query.where(_ITEM.c.state != VOIDED)
        for column, value in (("kind", kind), ("state", state), ("year", year), ("key_supervised", key_supervised)):
            if value is not None:
                query = query.where(_ITEM.c[column] == value)
        if unit is not None:
            a, unit = _T["assignment"], names.normal(unit, "unit")
            query = query.where(sa.exists().where(a.c.item_id == _ITEM.c.id, a.c.unit == unit, a.c.active))
        with store.reading(self.db) as conn:
            found = conn.execute(query.limit(limit)).all()
            return [
                _item(
                    r._mapping, self._version(r.definition_id, conn)[0], self.definition_number(r.definition_id, conn)
                )
                for r in found
            ]

    def _state_code(self, state: str, loaded: list[Definition]) -> str:
        """*state* as a code; a state only an older definition version has is still one, if an item is in it."""
        try:
            return state_code(state, loaded)
        except ValidationError:
            with store.reading(self.db) as conn:
                if conn.execute(sa.select(_ITEM.c.id).where(_ITEM.c.state == state).limit(1)).first():
                    return state
            raise

    def deadlines(self, *, actor: Actor | str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Open deadlines (or ``state=`` running / paused / stopped / replaced / None for all), soonest
        first, filtered by ``item``, ``kind``, ``clock``, ``unit``, ``provisional`` and ``overdue_at``
        (deadlines whose period ended by that instant), and to the items *actor* may see."""
        actor = None if actor is None else Actor.of(actor)
        if filters.get("unit") is not None:
            filters["unit"] = names.normal(filters["unit"], "unit")
        with store.reading(self.db) as conn:
            rows = conn.execute(scope.restrict(deadline_query(**filters), actor, conn.dialect.name)).mappings().all()
            return [deadline_dict(r, self._version(definition_of(conn, r["item_id"]), conn)[0]) for r in rows]

    def due(self, now: dt.datetime | None = None, *, limit: int = 1000) -> list[DueStep]:
        """Produce the reminders and escalation levels due at *now* (default: the clock), each exactly
        once per (deadline, step) however often this is called; returns what it produced. Unlike
        :meth:`sweep`, this records no escalation on the item and fires no timeout: it is the raw step
        feed for an application that acts on steps itself."""
        return produce(self, self._instant(now), limit, default_worker())

    def sweep(
        self,
        now: dt.datetime | None = None,
        *,
        batch: int = 500,
        dispatch: bool = True,
        worker: str | None = None,
        lease: float = 300.0,
        stop: Callable[[], bool] | None = None,
    ) -> SweepResult:
        """One daemon pass at *now* (default: the clock): every due reminder, escalation level and
        timeout (``on_due``, e.g. deemed satisfied), each exactly once however many processes sweep;
        each escalation is an audit row on its item and queues its notice. Claims are leases of
        *lease* seconds held by *worker* (default host-pid), taken *batch* deadlines at a time. Then
        the outbox is dispatched (unless *dispatch* is false). *stop*, checked between batches, ends
        the pass early after the batch in hand (a daemon shutting down). Returns and logs the counts."""
        when = self._written(now, "now") or self._instant(None)
        with store.reading(self.db) as conn:
            self._sync_calendar(conn)
        return sweep(
            self,
            when,
            batch=batch,
            dispatch=dispatch,
            worker=worker or default_worker(),
            lease=dt.timedelta(seconds=lease),
            stop=stop,
        )

    def report(self, name: str = "followup", **options: Any) -> FollowupReport:
        """The follow-up review report (回头看): figures computed by the database over the items the
        filters select (``year``, ``session``, ``date_from``, ``date_to``, ``kind``, ``units``,
        ``key_only``, ``state``), as of ``now`` (default: the clock). See
        :func:`workflow.reports.followup` for every option and ``docs/followup-report.md`` for the data."""
        from workflow.reports import REPORTS

        if name not in REPORTS:
            raise ValidationError("name", f"no report {name!r}; reports: {', '.join(REPORTS)}")
        return REPORTS[name](self, **options)

    def report_overdue(self, now: dt.datetime | None = None) -> int:
        """Queue the 逾期通报 to the office: every open deadline whose period has ended by *now*, with its
        unit, days overdue and escalation level. Once per day; returns how many items it lists."""
        now = self._instant(now)
        with self.db.begin() as conn:
            return report_overdue(conn, self.notices, self.settings, now)

    def dispatch(self, now: dt.datetime | None = None, *, limit: int = 100) -> dict[str, int]:
        """Send the queued notices that are due (several processes may do this at once); returns counts."""
        return dispatch(self.db, self._instant(now), self.settings, limit)

    def outbox(self, *, status: str | None = None, item: int | None = None) -> list[dict[str, Any]]:
        """Notices in the outbox, newest first, by status (queued, sending, sent, failed, dead) and item."""
        return outbox(self.db, status=status, item=item)

    def incidents(self, *, open_only: bool = True) -> list[dict[str, Any]]:
        """What needs a person: notices with no address to go to, failed or dead notices."""
        return incidents(self.db, open_only=open_only)

    def retry(self, notice_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
        """Queue a failed or dead notice again, at the address its party has now, and resolve its
        incidents; with no address there it is held until one is added. Returns id, status, address."""
        return requeue(self.db, notice_id, self._instant(now), self.settings, ("failed", "dead"))

    def resend(self, notice_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
        """Like :meth:`retry`, for a held notice too (one queued before its party had an address)."""
        return requeue(self.db, notice_id, self._instant(now), self.settings, ("held", "failed", "dead"))

    def resolve_incident(self, incident_id: int, note: str = "", now: dt.datetime | None = None) -> dict[str, Any]:
        """Close an open incident with a note saying how it was dealt with; returns the incident."""
        return resolve_incident(self.db, incident_id, note, self._instant(now))

    def reload_calendar(self, folders: str | Path | Iterable[str | Path] | None = None) -> list[dict[str, Any]]:
        """Store the year files of *folders* in the database (every file validated first; on an error
        nothing is stored), so every process counts with them, and recompute every open deadline on the
        result, in one transaction; each deadline that changes is updated and recorded in its item's
        audit log with the old and new dates. Returns the changes."""
        Calendar.load(_folders(folders))  # validates every file: DefinitionError FILE:LINE:COL
        changes: list[dict[str, Any]] = []
        with self.db.begin() as conn:
            calendars.store_folders(conn, map(Path, _folders(folders)), self._instant(None))
            calendar, version = calendars.build(self._calendar_base, conn)
            for row in conn.execute(deadline_query()).mappings().all():
                item = _SELECT_ITEM.first(conn, {"w_id": row["item_id"]})
                assert item is not None
                spec = self._version(item["definition_id"], conn)[0].clocks.get(row["clock"])
                if spec is None:
                    continue
                new = recompute(dict(row), spec, calendar)
                if (new["due"], new["provisional"]) == (row["due"], row["provisional"]):
                    continue
                conn.execute(sa.update(_DEADLINE).where(_DEADLINE.c.id == row["id"]).values(**new))
                change = {
                    "deadline": row["id"],
                    "clock": row["clock"],
                    "subject": row["subject"],
                    "old_due": row["due"].isoformat(),
                    "new_due": new["due"].isoformat(),
                    "provisional": new["provisional"],
                    "explanation": new["explanation"],
                }
                append_event(
                    conn,
                    item,
                    Actor("system"),
                    max(self._instant(None), item["updated_at"]),
                    "recompute_deadline",
                    item["state"],
                    change,
                    {},
                )
                changes.append({"item": item["id"], **change})
        self.calendar, self._calendar_version = calendar, version
        return changes

    def foreign_triggers(self) -> list[str]:
        """SQL triggers and rules on duban's tables, which duban never creates: each could rewrite later
        writes unseen by the audit (``duban audit verify`` reports them and fails)."""
        with store.reading(self.db) as conn:
            return foreign_triggers(conn)

    def verify_audit(self, item_id: int | None = None) -> list[AuditBreak]:
        """Check the audit of one item (or all): its hash chain, then every row its figures are read
        from against what the chain wrote. Returns the first break of each broken item."""
        with store.reading(self.db) as conn:
            return verify_items(conn, item_id)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_definitions(
    where: str | Path | Iterable[str | Path] | None, registry: Registry, notice_types: set[str] | None = None
) -> list[Definition]:
    """Every definition in the given folders and files (``*.yaml`` directly inside a folder)."""
    entries = (
        [bundled_dir("definitions")] if where is None else [where] if isinstance(where, (str, Path)) else list(where)
    )
    paths: list[Path] = []
    for entry in map(Path, entries):
        try:
            entry.is_dir()
        except OSError as exc:  # a name the system refuses (too long)
            raise DefinitionError(f"cannot use this path: {exc.strerror}", str(entry)[:200], 0, 0) from None
        if entry.is_dir():
            paths += sorted(entry.glob("*.yaml")) + sorted(entry.glob("*.yml"))
        elif entry.is_file():
            paths.append(entry)
        else:
            raise DefinitionError("no such file or folder", str(entry), 0, 0)
    seen: dict[str, Definition] = {}
    for path in paths:
        defn = load_definition(path, registry, notice_types)
        if defn.kind in seen:
            raise DefinitionError(f"kind {defn.kind!r} is already defined in {seen[defn.kind].path}", str(path), 1, 1)
        seen[defn.kind] = defn
    return list(seen.values())


def _read_parameters(path: Path) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], tuple[str, int, int]]]:
    """A jurisdiction's parameter file: ``KIND: {NAME: VALUE}``, with where each value stands."""
    doc = LocatedYAML(read_text(path, "parameter file"), str(path))
    if not isinstance(doc.root, dict) or not all(isinstance(v, dict) for v in doc.root.values()):
        raise DefinitionError(
            "a parameter file maps each kind to its parameters, e.g. suggestion: {rehandle_period: 2 months}",
            str(path),
            1,
            1,
        )
    places = {(kind, name): (str(path), *doc.where((kind, name))) for kind, v in doc.root.items() for name in v}
    return doc.root, places


def _folders(where: str | Path | Iterable[str | Path] | None) -> list[Path]:
    if where is None:
        return []
    return [Path(where)] if isinstance(where, (str, Path)) else [Path(w) for w in where]


def _event_name(label: str) -> str:
    """The first words of a transition's label name the event in explanations: 交办, 答复代表."""
    return label.replace("(", " ").split(" ", 1)[0].strip()


def _item(row: Mapping[Any, Any], defn: Definition, number: int) -> Item:
    return Item(
        id=row["id"],
        kind=row["kind"],
        state=row["state"],
        state_label=defn.state_label(row["state"]),
        title=row["title"],
        year=row["year"],
        round=row["round"],
        key_supervised=row["key_supervised"],
        version=row["version"],
        definition_version=row["definition_id"],
        definition_number=number,
        data=row["data"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
