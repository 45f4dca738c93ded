"""Statutory clocks: what the definitions say about them, and what a fire does to them.

A clock is started by a trigger (``assign`` starts ``reply``), stopped by another (``reply``),
paused and resumed (while a reassignment request is pending, when a parameter says so),
extended (``approve_extension``, up to a ceiling), and restarted when a start trigger fires again.
A clock with ``each`` runs once per record a trigger creates (each promise, each problem), due on
the record's own date. Each clock carries reminders before its due date and an escalation ladder
after it; ``workflow.engine.Engine.due`` produces them, once each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow.calendar import SHANGHAI, Calendar, Due, PeriodError, parse_period
from workflow.errors import ValidationError
from workflow.store import DeadlineRow, Prepared

if TYPE_CHECKING:
    from workflow.definition import ParameterSpec, StateSpec, TransitionSpec, _Parser
    from workflow.registry import Context

__all__ = [
    "CHAIN",
    "ClockSpec",
    "Level",
    "Match",
    "Step",
    "apply_clocks",
    "climb",
    "compute",
    "parse_clocks",
    "recompute",
    "schedule",
]

#: Who a reminder or escalation level goes to: the unit's chain of responsibility, the
#: standing committee's supervising leader of a key item, the office, the deputies.
CHAIN = ("handler", "department_head", "principal_leader", "case_leader", "supervising_leader", "office", "deputy")
_D = DeadlineRow.__table__  # type: ignore[attr-defined]
_OPEN = ("running", "paused")
FIXED = "fixed date"  # the period of a clock whose last day a record names
_INSERT = Prepared(sa.insert(_D), [c.key for c in _D.c if c.key != "id"])
_OPEN_OF_CLOCK = sa.update(_D).where(
    _D.c.item_id == sa.bindparam("w_item"),
    _D.c.clock == sa.bindparam("w_clock"),
    sa.or_(_D.c.state == "running", _D.c.state == "paused"),
)
_CLOSE_ALL = Prepared(_OPEN_OF_CLOCK, ["state", "stopped_at", "next_at"])
_CLOSE_SUBJECT = Prepared(
    _OPEN_OF_CLOCK.where(_D.c.subject == sa.bindparam("w_subject")), ["state", "stopped_at", "next_at"]
)


@dataclass(frozen=True, slots=True)
class Match:
    """A trigger, optionally only when the fire lands in *to* and its data match *when*."""

    trigger: str
    to: str | None = None
    when: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    every: bool = False  # a stop that closes every subject's deadline, whoever fires it (``all: true``)

    def matches(self, trigger: str, dest: str, data: dict[str, Any]) -> bool:
        return (
            trigger == self.trigger
            and (self.to is None or dest == self.to)
            and all(data.get(k) in v for k, v in self.when.items())
        )


@dataclass(frozen=True, slots=True)
class Level:
    """One rung of the escalation ladder: *after* the due date (None: at once), notify *notify*."""

    level: int
    after: str | None
    notify: tuple[str, ...]
    template: str


@dataclass(frozen=True, slots=True)
class ClockSpec:
    name: str
    label: str
    start: tuple[Match, ...]
    stop: tuple[Match, ...] = ()
    period: str | None = None  # parameter name
    long_period: str | None = None  # parameter name, used when the item's `long_when` field is true
    long_when: str | None = None
    pause: tuple[str, ...] = ()
    resume: tuple[str, ...] = ()
    pause_if: str | None = None  # boolean parameter: pause only when it is true
    extend: tuple[str, ...] = ()
    ceiling: str | None = None  # parameter name: the most all extensions together may add
    each: str | None = None  # records field: one clock per record
    date: str | None = None  # the record's date field (its own due date)
    subject: str | None = None  # name of the records' identity (promise, problem)
    reminders: tuple[str, ...] = ()  # periods before the due date
    reminder_template: str = "reminder"
    escalation: tuple[Level, ...] = ()
    start_if: str | None = None  # boolean parameter: the clock runs only when it is true
    on_due: tuple[str, dict[str, Any]] | None = None  # (trigger, data) the sweep fires as `system` when due
    climb_by_round: str | None = None  # boolean parameter: each later round notifies one rung higher
    redate: tuple[str, ...] = ()  # triggers that correct a record's own date (its subject and date fields)


@dataclass(frozen=True, slots=True)
class Step:
    """A reminder (level 0) or an escalation level, and when it falls due."""

    index: int
    kind: str
    level: int
    at: dt.datetime
    notify: tuple[str, ...]
    template: str


def parse_clocks(
    p: _Parser,
    raw: Any,
    transitions: tuple[TransitionSpec, ...],
    states: dict[str, StateSpec],
    parameters: dict[str, ParameterSpec],
) -> dict[str, ClockSpec]:
    """Read the ``clocks`` section; every mistake is reported at its line and column."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        p.error(("clocks",), "clocks must map clock names to {label, start, stop, period, ...}")
        return {}
    reader = _ClockReader(p, {t.trigger for t in transitions}, states, parameters)
    records = {f.name for t in transitions for f in t.fields if f.type in ("records", "list")}
    out: dict[str, ClockSpec] = {}
    for name, spec in raw.items():
        path: tuple[str | int, ...] = ("clocks", name)
        spec = p.mapping(spec, path, "clock", required=("label", "start"))
        r = reader.at(name, spec, path)
        period, each = r.param("period", "period"), spec.get("each")
        if period is None and (each is None or spec.get("date") is None):
            p.error(path, f"clock {name!r} needs a period parameter, or 'each' and 'date' (each record's own date)")
        if each is not None and not (isinstance(each, str) and each in records):
            p.error((*path, "each"), f"'each' must name a list or records field of a transition, not {each!r}")
        for key in ("long_when", "date", "subject"):  # field names, looked up when the clock runs
            if spec.get(key) is not None and not isinstance(spec[key], str):
                p.error((*path, key), f"{key} must be a field name, not {spec[key]!r}")
        if "reminder_template" in spec:
            p.notice_type(spec["reminder_template"], (*path, "reminder_template"))
        reminders = p.names(spec.get("reminders", []), (*path, "reminders"), "reminders")
        for i, text in enumerate(reminders):
            r.period((*path, "reminders", i), text)
        out[name] = ClockSpec(
            name=name,
            label=p.text(spec.get("label"), (*path, "label"), "label"),
            start=r.matches("start"),
            stop=r.matches("stop"),
            period=period,
            long_period=r.param("long_period", "period"),
            long_when=spec.get("long_when"),
            pause=r.triggers("pause"),
            resume=r.triggers("resume"),
            pause_if=r.param("pause_if", "boolean"),
            extend=r.triggers("extend"),
            ceiling=r.param("ceiling", "period"),
            each=each,
            date=spec.get("date"),
            subject=spec.get("subject"),
            reminders=reminders,
            reminder_template=str(spec.get("reminder_template", "reminder")),
            escalation=_levels(p, spec.get("escalation", []), (*path, "escalation")),
            start_if=r.param("start_if", "boolean"),
            on_due=_on_due(p, spec.get("on_due"), (*path, "on_due"), transitions),
            climb_by_round=r.param("climb_by_round", "boolean"),
            redate=r.triggers("redate"),
        )
    return out


def _on_due(
    p: _Parser, raw: Any, path: tuple[str | int, ...], transitions: tuple[TransitionSpec, ...]
) -> tuple[str, dict[str, Any]] | None:
    """``on_due: {trigger: evaluate, data: {...}}``: what the sweep fires when the period ends unanswered."""
    if raw is None:
        return None
    raw = p.mapping(raw, path, "on_due", required=("trigger",))
    trigger, data = raw.get("trigger"), raw.get("data") or {}
    specs = [t for t in transitions if t.trigger == trigger]
    if not specs:
        p.error((*path, "trigger"), f"on_due trigger {trigger!r} is not fired by any transition")
    elif not any("system" in t.roles for t in specs):
        p.error((*path, "trigger"), f"the sweep fires {trigger!r} as role system: add system to that trigger's roles")
    if not isinstance(data, dict):
        p.error((*path, "data"), "data must map field names to values")
        data = {}
    return str(trigger), dict(data)


@dataclass
class _ClockReader:
    """Checks one clock's trigger lists and parameter names against the rest of the definition."""

    p: _Parser
    known: set[str]
    states: dict[str, StateSpec]
    parameters: dict[str, ParameterSpec]
    name: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    path: tuple[str | int, ...] = ()

    def at(self, name: str, spec: dict[str, Any], path: tuple[str | int, ...]) -> _ClockReader:
        return _ClockReader(self.p, self.known, self.states, self.parameters, name, spec, path)

    def matches(self, key: str) -> tuple[Match, ...]:
        entries = self.spec.get(key) or []
        if not isinstance(entries, list):
            self.p.error((*self.path, key), f"{key} must be a list of triggers")
            return ()
        found = []
        for i, entry in enumerate(entries):
            where = (*self.path, key, i)
            entry = {"trigger": entry} if isinstance(entry, str) else self.p.mapping(entry, where, "clock_trigger")
            trigger, to, when = entry.get("trigger"), entry.get("to"), entry.get("when") or {}
            if not (isinstance(trigger, str) and trigger in self.known):
                problem = f"clock {self.name!r}: {key} trigger {trigger!r} is not fired by any transition"
                self.p.error(where, problem)
            if to is not None and not (isinstance(to, str) and to in self.states):
                self.p.error((*where, "to"), f"unknown state {to!r}")
            if not isinstance(when, dict):
                self.p.error((*where, "when"), "when must map field names to values")
                when = {}
            values = {k: tuple(v) if isinstance(v, list) else (v,) for k, v in when.items()}
            every = entry.get("all", False)
            if not isinstance(every, bool):
                self.p.error((*where, "all"), f"all must be true or false, not {every!r}")
            found.append(Match(str(trigger), to, values, every is True))
        return tuple(found)

    def triggers(self, key: str) -> tuple[str, ...]:
        names = self.p.names(self.spec.get(key, []), (*self.path, key), key)
        for i, trigger in enumerate(names):
            if trigger not in self.known:
                self.p.error(
                    (*self.path, key, i),
                    f"clock {self.name!r}: {key} trigger {trigger!r} is not fired by any transition",
                )
        return names

    def param(self, key: str, ptype: str) -> str | None:
        value = self.spec.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or value not in self.parameters:
            self.p.error((*self.path, key), f"{key} names parameter {value!r}, which is not defined")
        elif self.parameters[value].type != ptype:
            self.p.error((*self.path, key), f"parameter {value!r} is a {self.parameters[value].type}, not a {ptype}")
        return str(value)

    def period(self, where: tuple[str | int, ...], text: Any) -> None:
        try:
            parse_period(text)
        except PeriodError as exc:
            self.p.error(where, str(exc))


def _levels(p: _Parser, raw: Any, path: tuple[str | int, ...]) -> tuple[Level, ...]:
    if not isinstance(raw, list):
        p.error(path, "escalation must be a list of levels")
        return ()
    levels: list[Level] = []
    for i, entry in enumerate(raw):
        where = (*path, i)
        entry = p.mapping(entry, where, "level", required=("level", "notify", "template"))
        level, after = entry.get("level"), entry.get("after")
        if not isinstance(level, int) or isinstance(level, bool) or level != len(levels) + 1:
            p.error((*where, "level"), f"levels are numbered 1, 2, 3, … in order; expected {len(levels) + 1}")
        if after is not None:
            _ClockReader(p, set(), {}, {}).period((*where, "after"), after)
        p.notice_type(entry.get("template"), (*where, "template"))
        notify = p.names(entry.get("notify"), (*where, "notify"), "notify")
        for k, who in enumerate(notify):
            if who not in CHAIN:
                p.error((*where, "notify", k), f"unknown recipient {who!r}; recipients: {', '.join(CHAIN)}")
        levels.append(Level(len(levels) + 1, after, notify, str(entry.get("template", ""))))
    return tuple(levels)


#: The rungs a later round climbs: 承办人员 → 部门负责人 → 主要领导 → the committee's leaders.
RUNGS: tuple[tuple[str, ...], ...] = (
    ("handler",),
    ("department_head",),
    ("principal_leader",),
    ("supervising_leader", "case_leader"),
)


def climb(notify: tuple[str, ...], rungs: int) -> tuple[str, ...]:
    """*notify* moved *rungs* rungs up the chain (the top rung stays the top); office and deputies stay."""
    if rungs <= 0:
        return notify
    out: list[str] = []
    for who in notify:
        at = next((i for i, rung in enumerate(RUNGS) if who in rung), None)
        out += [who] if at is None else RUNGS[min(at + rungs, len(RUNGS) - 1)]
    return tuple(dict.fromkeys(out))


def schedule(spec: ClockSpec, due: dt.date, calendar: Calendar) -> list[Step]:
    """The reminders (days before *due*, at 00:00) and escalation levels (after the deadline), in order."""
    # Keyed by identity (a spec holds dicts): the spec is kept in the value, so its id is not reused.
    kept, steps = calendar.remember(("schedule", id(spec), due), lambda: (spec, _schedule(spec, due, calendar)))
    return steps if kept is spec else _schedule(spec, due, calendar)


def _due(calendar: Calendar, start: dt.date, period: str, event: str) -> Due:
    return calendar.remember(("due", start, period, event), lambda: calendar.due(start, period, event))


def _schedule(spec: ClockSpec, due: dt.date, calendar: Calendar) -> list[Step]:
    deadline = dt.datetime.combine(due + dt.timedelta(days=1), dt.time(), SHANGHAI)
    steps: list[Step] = []
    for text in sorted(spec.reminders, key=lambda r: _days(r), reverse=True):
        day = due - dt.timedelta(days=_days(text))
        steps.append(
            Step(
                len(steps),
                "reminder",
                0,
                dt.datetime.combine(day, dt.time(), SHANGHAI),
                ("handler",),
                spec.reminder_template,
            )
        )
    if spec.on_due is not None:
        steps.append(Step(len(steps), "timeout", 0, deadline, (), ""))
    for level in spec.escalation:
        at = deadline if level.after is None else calendar.due(due, level.after).deadline
        steps.append(Step(len(steps), "escalation", level.level, at, level.notify, level.template))
    return steps


def _days(text: str) -> int:
    period = parse_period(text)
    return period.amount * {"days": 1, "working_days": 1, "months": 30, "years": 365}[period.unit]


def apply_clocks(ctx: Context, trigger: str, dest: str, calendar: Calendar, event: str) -> None:
    """Start, stop, pause, resume and extend the item's clocks as this fire demands."""
    data = {**ctx.item["data"], **ctx.data}
    for spec in ctx.definition.clocks.values():
        stops = [m for m in spec.stop if m.matches(trigger, dest, ctx.data)]
        if stops:
            _close(ctx, spec, "stopped", None if any(m.every for m in stops) else _subject(ctx, spec))
        if any(m.matches(trigger, dest, ctx.data) for m in spec.start):
            _start(ctx, spec, data, calendar, event)
        if trigger in spec.pause and (spec.pause_if is None or ctx.params[spec.pause_if]):
            for row in _open_rows(ctx, spec, "running"):
                _save(ctx, row, {"state": "paused", "paused_on": _today(ctx), "next_at": None})
        if trigger in spec.resume:
            for row in _open_rows(ctx, spec, "paused"):
                days = (_today(ctx) - row["paused_on"]).days
                _recompute(
                    ctx,
                    spec,
                    {**row, "paused_days": row["paused_days"] + days, "paused_on": None, "state": "running"},
                    calendar,
                )
        if trigger in spec.extend:
            for row in _open_rows(ctx, spec, "running"):
                _extend(ctx, spec, row, str(ctx.data["period"]), calendar)
        if trigger in spec.redate:
            _redate(ctx, spec, calendar)
    if ctx.definition.states[dest].final:  # withdrawn, rejected, voided: no clock of the item runs on
        for spec in ctx.definition.clocks.values():
            _close(ctx, spec, "stopped", None)


def _redate(ctx: Context, spec: ClockSpec, calendar: Calendar) -> None:
    """A correction of a record's own date (a promise's ``by``) moves its open deadline to the new date."""
    if not (spec.subject and spec.date and spec.subject in ctx.data and spec.date in ctx.data):
        return
    subject, day = f"{spec.subject}:{ctx.data[spec.subject]}", ctx.data[spec.date]
    for state in _OPEN:
        for row in _open_rows(ctx, spec, state):
            if row["subject"] == subject:
                moved = {**row, "start_date": day}
                _save(ctx, row, {"start_date": day, **recompute(moved, spec, calendar)})


def compute(row: dict[str, Any], calendar: Calendar, event: str = "") -> Due:
    """A deadline row's due date from its start, period, extensions and pauses, on *calendar*."""
    if row["period"] == FIXED:
        due = calendar.on(row["start_date"], event)
    else:
        due = calendar.due(row["start_date"], row["period"], event)
    for extension in filter(None, (row.get("extension") or "").split(";")):
        due = calendar.shift(due, extension.strip(), "延期")
    if row.get("paused_days"):
        due = calendar.shift(due, f"{row['paused_days']} days", "暂停")
    return due


def _start(ctx: Context, spec: ClockSpec, data: dict[str, Any], calendar: Calendar, event: str) -> None:
    if spec.start_if is not None and not ctx.params[spec.start_if]:
        return
    if spec.each is None and spec.subject == "unit":  # one clock per unit the item is handed to
        _close(ctx, spec, "replaced", None)
        period = str(ctx.params[str(spec.period)])
        due = _due(calendar, _today(ctx), period, event)
        for unit in dict.fromkeys(a["unit"] for a in ctx.assignments):
            _insert(ctx, spec, f"unit:{unit}", _today(ctx), period, due, calendar)
        return
    if spec.each is None:
        _close(ctx, spec, "replaced", "")
        name = spec.long_period if spec.long_period and data.get(spec.long_when or "") else spec.period
        period = str(ctx.params[str(name)])
        _insert(ctx, spec, "", _today(ctx), period, _due(calendar, _today(ctx), period, event), calendar)
        return
    ids = ctx.created.get(spec.each, [])
    today = _today(ctx)
    if spec.date is None:  # one clock per unit named: a new list replaces the old one
        _close(ctx, spec, "replaced", None)
    for i, record in enumerate(ctx.data.get(spec.each, [])):
        if isinstance(record, str):  # a list of names: one clock per unit
            key: Any = record
        else:
            key = record.get(spec.subject or "", ids[i] if i < len(ids) else i + 1)
        subject = f"{spec.subject}:{key}"
        if spec.date is None:
            period = str(ctx.params[str(spec.period)])
            _insert(ctx, spec, subject, today, period, _due(calendar, today, period, event), calendar)
            continue
        own: dt.date = record[spec.date]  # the record's own date is the last day (a past one is overdue at once)
        _insert(ctx, spec, subject, own, FIXED, calendar.on(own, spec.label.split(" (")[0]), calendar)


def _subject(ctx: Context, spec: ClockSpec) -> str | None:
    """Which of a clock's deadlines a stop trigger names: the acting unit's, a record's, the item's,
    or (None) all of them: a per-unit clock stopped by someone other than a unit, or a per-record clock
    stopped by a trigger that names no record (the item withdrawn)."""
    if spec.subject == "unit":
        return f"unit:{ctx.actor.party}" if ctx.actor.role == "unit" and ctx.actor.party else None
    if spec.subject:
        return f"{spec.subject}:{ctx.data[spec.subject]}" if spec.subject in ctx.data else None
    return ""


def _insert(
    ctx: Context, spec: ClockSpec, subject: str, start: dt.date, period: str, due: Due, calendar: Calendar
) -> None:
    steps = schedule(spec, due.due, calendar)
    _INSERT.execute(
        ctx.conn,
        {
            "item_id": ctx.item["id"],
            "clock": spec.name,
            "subject": subject,
            "round": ctx.round,
            "state": "running",
            "start_date": start,
            "period": period,
            "extension": None,
            "paused_days": 0,
            "paused_on": None,
            "raw": due.raw,
            "due": due.due,
            "deadline_at": due.deadline,
            "provisional": due.provisional,
            "explanation": due.explanation,
            "next_step": 0,
            "next_at": steps[0].at if steps else None,
            "level": 0,
            "started_at": ctx.at,
            "stopped_at": None,
            "claimed_by": None,
            "claimed_until": None,
        },
    )


def _extend(ctx: Context, spec: ClockSpec, row: dict[str, Any], period: str, calendar: Calendar) -> None:
    extensions = [e for e in (row["extension"] or "").split(";") if e] + [period]
    if spec.ceiling:
        ceiling = str(ctx.params[spec.ceiling])
        base = calendar.due(row["start_date"], row["period"])
        limit = calendar.shift(base, ceiling, "上限").raw
        if compute({**row, "extension": ";".join(extensions), "paused_days": 0}, calendar).raw > limit:
            raise ValidationError(
                "period", f"extensions would total more than the ceiling of {ceiling} (延期上限); at most until {limit}"
            )
    _recompute(ctx, spec, {**row, "extension": ";".join(extensions)}, calendar)


def recompute(row: dict[str, Any], spec: ClockSpec, calendar: Calendar) -> dict[str, Any]:
    """An open deadline's due date, explanation and next step, computed afresh on *calendar*."""
    due = compute(row, calendar, event_of(row["explanation"]))
    steps = schedule(spec, due.due, calendar)[row["next_step"] :]
    return {
        "raw": due.raw,
        "due": due.due,
        "deadline_at": due.deadline,
        "provisional": due.provisional,
        "explanation": due.explanation,
        "next_at": steps[0].at if steps and row["state"] == "running" else None,
    }


def _recompute(ctx: Context, spec: ClockSpec, row: dict[str, Any], calendar: Calendar) -> None:
    kept = {k: row[k] for k in ("state", "extension", "paused_days", "paused_on")}
    _save(ctx, row, {**kept, **recompute(row, spec, calendar)})


def _close(ctx: Context, spec: ClockSpec, state: str, subject: str | None) -> None:
    """Stop (or mark replaced) the clock's open deadlines for *subject*, or for every subject."""
    values = {"w_item": ctx.item["id"], "w_clock": spec.name, "state": state, "stopped_at": ctx.at, "next_at": None}
    if subject is None:
        _CLOSE_ALL.execute(ctx.conn, values)
    else:
        _CLOSE_SUBJECT.execute(ctx.conn, {**values, "w_subject": subject})


def _open_rows(ctx: Context, spec: ClockSpec, state: str) -> list[dict[str, Any]]:
    rows = ctx.conn.execute(
        sa.select(_D).where(_D.c.item_id == ctx.item["id"], _D.c.clock == spec.name, _D.c.state == state)
    )
    return [dict(r._mapping) for r in rows]


def _save(ctx: Context, row: dict[str, Any], values: dict[str, Any]) -> None:
    ctx.conn.execute(sa.update(_D).where(_D.c.id == row["id"]).values(**values))


def _today(ctx: Context) -> dt.date:
    return ctx.today


def event_of(explanation: str) -> str:
    """The event word an explanation starts with (交办 in "交办 2026-03-20 + 3个月 = …"), if any."""
    head = explanation.split(" ", 1)[0]
    return "" if head[:1].isdigit() else head
