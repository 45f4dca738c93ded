"""The follow-up review report (回头看): the figures the office is judged on, computed by the database.

``Engine.report("followup", …)`` returns a :class:`FollowupReport`, whose ``data`` is a JSON-ready dict
in the documented ``duban.followup/1`` schema (``docs/followup-report.md``), and which writes itself as
HTML, DOCX, Markdown, CSV, XLSX or JSON. Every summary figure is a SQL aggregate (``COUNT``, ``SUM(CASE
…)``, ``GROUP BY``) over the selected items, so its cost in memory does not grow with the data; the
ledgers list rows and so are as long as what they list (``ledgers=False`` leaves them out).

Each figure is defined in :data:`FOOTNOTES`, which the report carries with it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import gc
import importlib
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow import store
from workflow.calendar import SHANGHAI
from workflow.errors import ValidationError
from workflow.model import VOIDED
from workflow.names import normal as normal_name
from workflow.report_defs import FOOTNOTES, SCHEMA, TITLE, rate
from workflow.report_ledgers import LEADS, Scope, count, ledgers, overdue_units
from workflow.report_parts import is_split, parts

if TYPE_CHECKING:
    from workflow.engine import Engine

__all__ = [
    "FORMATS",
    "REPORTS",
    "RESPONSE_CLOCKS",
    "FollowupReport",
    "followup",
    "format_for",
    "render",
    "write",
]

#: The clock whose stop is "the response the law asks for", per kind: a suggestion's reply (答复,
#: 代表法第51条) and a review opinion's written report (书面报告研究处理情况). 按期答复率 reads these.
RESPONSE_CLOCKS: Mapping[str, str] = {"suggestion": "reply", "review_opinion": "report"}
#: Output formats; the ones written by other modules are imported only when asked for.
FORMATS = ("html", "docx", "md", "csv", "xlsx", "json")
BINARY = ("docx", "xlsx")
EXTENSIONS = {
    ".html": "html",
    ".htm": "html",
    ".docx": "docx",
    ".md": "md",
    ".markdown": "md",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
}
OPTIONS = (
    "year",
    "session",
    "date_from",
    "date_to",
    "kind",
    "units",
    "key_only",
    "state",
    "now",
    "flag_bottom",
    "flag_below",
    "ledgers",
    "response_clocks",
)

_I, _A, _C = store.TABLES["duban_item"], store.TABLES["duban_assignment"], store.TABLES["duban_contact"]
_D = store.TABLES["duban_deadline"]
_P, _PR = store.TABLES["duban_promise"], store.TABLES["duban_problem"]
_PARTY = store.TABLES["duban_party"]
SATISFIED = ("satisfied", "basically_satisfied")
RECTIFIED = ("rectified", "closed")


class FollowupReport:
    """A computed follow-up review report: ``data`` (JSON-ready, schema ``duban.followup/1``) and
    its renderings. ``write(path)`` picks the format from the file's extension unless *fmt* is given."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def empty(self) -> bool:
        return bool(self.data["empty"])

    def render(self, fmt: str) -> str | bytes:
        """The report as *fmt*: text for html, md, csv and json; bytes for docx and xlsx."""
        return render(self.data, fmt)

    def write(self, path: str | Path, fmt: str | None = None) -> str:
        """Write the report to *path*; returns the format written."""
        return write(self.data, Path(path), fmt)

    def __repr__(self) -> str:
        return f"<FollowupReport {self.data['summary']['items']} items, filters {self.data['filters']}>"


# ---- the computation ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """The selection, checked: every field is what the report's ``filters`` shows."""

    year: int | None = None
    session: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    kind: str | None = None
    units: tuple[str, ...] = ()
    key_only: bool = False
    state: str | None = None

    def shown(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "session": self.session,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "kind": self.kind,
            "units": list(self.units),
            "key_only": self.key_only,
            "state": self.state,
        }

    def where(self) -> list[sa.ColumnElement[bool]]:
        """The conditions on ``duban_item`` that select the report's items."""
        conds: list[sa.ColumnElement[bool]] = []
        if self.year is not None:
            conds.append(_I.c.year == self.year)
        if self.session is not None:
            conds.append(_I.c.data["session"].as_string() == self.session)
        if self.date_from is not None:
            conds.append(_I.c.created_at >= _midnight(self.date_from))
        if self.date_to is not None:
            conds.append(_I.c.created_at < _midnight(self.date_to + dt.timedelta(days=1)))
        if self.kind is not None:
            conds.append(_I.c.kind == self.kind)
        if self.units:  # an alias: the ledgers' own queries on duban_assignment must not correlate with it
            a = _A.alias("unit_filter")
            conds.append(sa.exists().where(a.c.item_id == _I.c.id, a.c.active, a.c.unit.in_(self.units)))
        if self.key_only:
            conds.append(_I.c.key_supervised == sa.true())
        if self.state is not None:
            conds.append(_I.c.state == self.state)
        return conds or [sa.true()]


def followup(engine: Engine, **options: Any) -> FollowupReport:
    """Compute the follow-up review report over the items the filters select.

    Filters (all optional, combined with AND): ``year`` (the year an item was submitted, Asia/Shanghai),
    ``session`` (a suggestion's 会次, exactly as recorded), ``date_from`` / ``date_to`` (submission
    dates, inclusive; ISO strings or dates; ``from`` / ``to`` are accepted too), ``kind`` (suggestion,
    review_opinion), ``units`` (items with an active assignment to any of them, as lead, split or
    co-unit; ``unit`` for one), ``key_only`` (key supervised items, 重点督办), ``state``.

    ``now`` (default: the engine's clock) is the instant the report describes: what is overdue, and
    which promises are past their date. ``flag_bottom`` (default 3) flags the lowest-ranked units,
    at most half of the units that have an on-time figure, so that a small table does not flag
    everyone; ``flag_below`` (a fraction, default None) also flags every unit whose on-time rate is
    below it. ``ledgers=False`` computes the summary and the unit table only (the ledgers are then
    empty lists and ``data["ledgers"]`` is false). ``response_clocks`` overrides
    :data:`RESPONSE_CLOCKS` for one's own definitions.

    An unknown kind, unit, state or session is a :class:`ValidationError` naming the filter and
    listing close matches; a selection with nothing in it is a report with ``empty`` true.
    """
    options = dict(options)
    for alias, name in (("from", "date_from"), ("to", "date_to"), ("unit", "units")):
        if alias in options:
            if name in options:
                raise ValidationError(alias, f"give {alias!r} or {name!r}, not both")
            options[name] = options.pop(alias)
    for key in options:
        if key not in OPTIONS:
            raise ValidationError(key, f"not a report option{_hint(key, OPTIONS)}; options: {', '.join(OPTIONS)}")
    now = options.get("now")
    if now is not None and (not isinstance(now, dt.datetime) or now.tzinfo is None):
        raise ValidationError("now", f"must be a timezone-aware date and time, not {now!r}")
    now = engine._instant(now)
    flag_bottom = options.get("flag_bottom", 3)
    flag_below = options.get("flag_below")
    if not isinstance(flag_bottom, int) or isinstance(flag_bottom, bool) or flag_bottom < 0:
        raise ValidationError("flag_bottom", f"must be a whole number of units, 0 or more, not {flag_bottom!r}")
    if flag_below is not None and (
        isinstance(flag_below, bool) or not isinstance(flag_below, (int, float)) or not 0 <= flag_below <= 1
    ):
        raise ValidationError("flag_below", f"must be a fraction between 0 and 1 (0.8 for 80%), not {flag_below!r}")
    clocks = dict(options.get("response_clocks") or RESPONSE_CLOCKS)
    with store.reading(engine.db) as conn, _no_cycle_collection():
        if conn.dialect.name == "postgresql":  # each statement runs once: JIT-compiling it costs more than it saves
            conn.exec_driver_sql("SET LOCAL jit = off")
        filters = _check(engine, conn, options)
        scope = Scope(engine, conn, filters.where(), now, clocks)
        data = _compute(engine, scope, filters, flag_bottom, flag_below, bool(options.get("ledgers", True)))
    return FollowupReport(data)


def _compute(
    engine: Engine, scope: Scope, filters: Filters, flag_bottom: int, flag_below: float | None, with_ledgers: bool
) -> dict[str, Any]:
    conn, now = scope.conn, scope.now
    by_stage, items = _stages(engine, scope)
    totals = _totals(scope)
    d = _D.alias("rd")
    on_time, due = conn.execute(
        sa.select(count(scope.on_time(d)), count(sa.or_(scope.replied(d), scope.late(d))))
        .select_from(_I.join(d, scope.response_on(d)))
        .where(*scope.where, sa.not_(scope.ended), sa.not_(is_split()))
    ).one()
    split = parts(scope)  # a split item counts once per part, in the mix and in 按期答复率
    on_time, due = on_time + split["on_time"], due + split["due"]
    promise = _promise_counts(scope)
    problems = conn.execute(
        sa.select(sa.func.count(), count(_PR.c.status.in_(RECTIFIED)))
        .select_from(_PR.join(_I, _I.c.id == _PR.c.item_id))
        .where(*scope.where)
    ).one()
    summary = {
        "items": items,
        "by_stage": by_stage,
        "rates": {
            "on_time": rate(on_time, due),
            "closed": rate(totals["closed"], totals["assigned"]),
            "contact": rate(totals["contacted"], totals["assigned_suggestions"]),
            "satisfaction": rate(totals["satisfied"], totals["rated"]),
            "attitude": rate(totals["attitude_satisfied"], totals["attitude_rated"]),
            "promise_kept": rate(promise["kept"], promise["kept"] + promise["broken"] + promise["overdue"]),
            "rectified": rate(problems[1], problems[0]),
        },
        "grades": {g: totals[g] + split[g] for g in "ABCD"},
        "counts": {
            "assigned": totals["assigned"],
            "promises": promise,
            "problems": {"total": int(problems[0]), "rectified": int(problems[1])},
        },
    }
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "title": TITLE,
        "office": engine.settings.office_name,
        "generated_at": now.astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "filters": filters.shown(),
        "parameters": {"flag_bottom": flag_bottom, "flag_below": flag_below, "response_clocks": scope.clocks},
        "empty": items == 0,
        "ledgers": with_ledgers,
        "summary": summary,
        "units": _units(scope, filters, flag_bottom, flag_below),
    }
    empty: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("items", "unsatisfied", "promises", "reopen", "key_items", "review_opinions", "overdue")
    }
    data |= ledgers(scope) if with_ledgers and items else empty
    data["footnotes"] = dict(FOOTNOTES)
    return data


def _stages(engine: Engine, scope: Scope) -> tuple[list[dict[str, Any]], int]:
    """Items per kind and state, in the order the definitions list their states."""
    rows = scope.conn.execute(
        sa.select(_I.c.kind, _I.c.state, sa.func.count()).where(*scope.where).group_by(_I.c.kind, _I.c.state)
    ).all()
    kinds = engine.kinds

    def order(row: Any) -> tuple[int, int, str]:
        kind, state = row[0], row[1]
        states = list(engine.definition(kind).states) if kind in kinds else []
        return (kinds.index(kind) if kind in kinds else len(kinds), _index(states, state), state)

    stages = [
        {
            "kind": kind,
            "kind_label": scope.kind_label(kind),
            "state": state,
            "label": scope.state_label(kind, state),
            "count": int(n),
        }
        for kind, state, n in sorted(rows, key=order)
    ]
    return stages, sum(s["count"] for s in stages)


def _totals(scope: Scope) -> dict[str, int]:
    """One pass over the selected items: assigned, closed, contacted, rated, satisfied, A/B/C/D.

    Grouped by kind, reply category and rating, and summed here over the few groups: each item's JSON
    fields are then read once, as group keys (PostgreSQL re-parses a ``json`` value for every
    reference), and its EXISTS lookups run once. 见面率 counts suggestions only."""
    assigned = sa.and_(sa.exists().where(_A.c.item_id == _I.c.id), sa.not_(scope.ended))
    contacted = sa.exists().where(_C.c.item_id == _I.c.id, _C.c.stage.in_(("before", "during")))
    category, result = _I.c.data["category"].as_string(), _I.c.data["result"].as_string()
    attitude = _I.c.data["attitude"].as_string()
    query = (
        sa.select(
            _I.c.kind,
            category,
            result,
            attitude,
            sa.func.count(),
            count(assigned),
            count(_I.c.state == "closed"),  # a closed item was assigned: closing needs a reply or a report
            count(sa.and_(assigned, contacted)),
        )
        .where(*scope.where)
        .group_by(_I.c.kind, category, result, attitude)
    )
    names = ("assigned", "closed", "contacted", "assigned_suggestions", "rated", "satisfied")
    totals = dict.fromkeys((*names, "attitude_rated", "attitude_satisfied"), 0)
    totals |= dict.fromkeys("ABCD", 0)
    for kind, grade, rating, manner, items, assigned_n, closed, contacted_n in scope.conn.execute(query):
        totals["assigned"] += int(assigned_n)
        totals["closed"] += int(closed)
        if kind == "suggestion":
            totals["assigned_suggestions"] += int(assigned_n)
            totals["contacted"] += int(contacted_n)
        if rating is not None:
            totals["rated"] += int(items)
            totals["satisfied"] += int(items) if rating in SATISFIED else 0
        if manner is not None:  # 办理态度, rated beside the result on the same form
            totals["attitude_rated"] += int(items)
            totals["attitude_satisfied"] += int(items) if manner in SATISFIED else 0
        if grade in totals and len(grade) == 1:
            totals[grade] += int(items)
    return totals


def _promise_counts(scope: Scope) -> dict[str, int]:
    """Promises of the selected items by status, an open one past its date counted as overdue."""
    d = scope.promise_deadline()
    past = d.c.deadline_at <= scope.now
    row = scope.conn.execute(
        sa.select(
            count(_P.c.status == "kept").label("kept"),
            count(_P.c.status == "broken").label("broken"),
            count(sa.and_(_P.c.status == "open", past)).label("overdue"),
            count(sa.and_(_P.c.status == "open", sa.or_(d.c.deadline_at.is_(None), sa.not_(past)))).label("open"),
        )
        .select_from(_P.join(_I, _I.c.id == _P.c.item_id).outerjoin(d, scope.promise_on(d)))
        .where(*scope.where)
    ).one()
    return {k: int(v) for k, v in row._mapping.items()}


def _units(scope: Scope, filters: Filters, flag_bottom: int, flag_below: float | None) -> list[dict[str, Any]]:
    """Per unit (主办 or 分办): its items, replies, overdue clocks and ratings; ranked, the bottom flagged."""
    d = _D.alias("rd")
    result, attitude = _I.c.data["result"].as_string(), _I.c.data["attitude"].as_string()
    # Grouped by an expression rather than the column: otherwise SQLite walks the unit index and looks
    # each row's item up at random, twice as slow as reading the items in order. Grouped by rating too,
    # so that the JSON is read once per row (as in _totals).
    by_unit = (_A.c.unit + "").label("unit")
    query = (
        sa.select(
            by_unit,
            result,
            attitude,
            sa.func.count(),
            count(scope.replied(d)),
            count(scope.on_time(d)),
            count(scope.late(d)),
            count(_I.c.round > 0),
        )
        .select_from(_A.join(_I, _I.c.id == _A.c.item_id).outerjoin(d, scope.response_on(d)))
        .where(*scope.where, sa.not_(scope.ended), _A.c.active, _A.c.role.in_(LEADS))
        .group_by(by_unit, result, attitude)
    )
    if filters.units:
        query = query.where(_A.c.unit.in_(filters.units))
    sums: dict[str, list[int]] = {}
    for unit, rating, manner, *counts in scope.conn.execute(query):
        n = int(counts[0])
        # items, replied, on time, late, rehandled, satisfied, rated, attitude satisfied, attitude rated
        add = [*map(int, counts), n if rating in SATISFIED else 0, 0 if rating is None else n]
        add += [n if manner in SATISFIED else 0, 0 if manner is None else n]
        sums[unit] = [a + b for a, b in zip(sums.get(unit, [0] * 9), add, strict=True)]
    found: dict[str, dict[str, Any]] = {}
    for unit, (items, replied, on_time, late, rehandled, satisfied, rated, *manner) in sums.items():
        found[unit] = _unit_row(unit, items, replied, on_time, late, satisfied, rated, rehandled)
        found[unit]["attitude"] = rate(*manner)
    for unit, clocks, earliest in overdue_units(scope, filters.units):
        entry = found.setdefault(unit, _unit_row(unit, 0, 0, 0, 0, 0, 0, 0))
        entry["overdue_now"] = int(clocks)
        entry["longest_overdue_days"] = (scope.today - earliest).days
    return _rank(list(found.values()), flag_bottom, flag_below)


def _unit_row(
    unit: str, items: int, replied: int, on_time: int, late: int, satisfied: Any, rated: Any, rehandled: Any
) -> dict[str, Any]:
    return {
        "unit": unit,
        "items": items,
        "replied": replied,
        "replied_on_time": on_time,
        "on_time": rate(on_time, replied + late),
        "overdue_now": 0,
        "longest_overdue_days": 0,
        "satisfaction": rate(satisfied, rated),
        "attitude": rate(0, 0),
        "rehandled": int(rehandled),
    }


def _rank(units: list[dict[str, Any]], flag_bottom: int, flag_below: float | None) -> list[dict[str, Any]]:
    """Order by on-time rate, then satisfaction, fewer overdue, shorter longest overdue; units with the
    same figures share a rank (1, 1, 3, …) and are listed by name. Units without an on-time figure come
    last and are never flagged; of the others, those ranked below the top (count − N) are flagged,
    N = ``flag_bottom`` but at most half of them, so that a tie never flags the best."""

    def figures(u: dict[str, Any]) -> tuple[Any, ...]:
        on_time, sat = u["on_time"]["value"], u["satisfaction"]["value"]
        return (
            on_time is None,
            -(on_time or 0.0),
            sat is None,
            -(sat or 0.0),
            u["overdue_now"],
            u["longest_overdue_days"],
        )

    units.sort(key=lambda u: (figures(u), u["unit"]))
    ranked = sum(1 for u in units if u["on_time"]["value"] is not None)
    cutoff = ranked - min(flag_bottom, ranked // 2)
    rank, previous = 0, None
    for n, u in enumerate(units, start=1):
        if figures(u) != previous:
            rank, previous = n, figures(u)
        value = u["on_time"]["value"]
        below = flag_below is not None and value is not None and value < flag_below
        u |= {"rank": rank, "flagged": value is not None and (rank > cutoff or below)}
    return units


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while a report is built. The ledgers allocate many small
    dicts and lists and no reference cycles, yet each allocation threshold crossed sets off a scan of
    everything allocated so far: about 40% of the time of a report over 100,000 items."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: The reports ``Engine.report(name, …)`` knows.
REPORTS: dict[str, Callable[..., FollowupReport]] = {"followup": followup}


# ---- checking the filters -------------------------------------------------------------------


def _check(engine: Engine, conn: sa.Connection, options: Mapping[str, Any]) -> Filters:
    kind = options.get("kind")
    if kind is not None and kind not in engine.kinds:
        raise ValidationError(
            "kind", f"unknown kind {kind!r}{_hint(kind, engine.kinds)}; kinds: {', '.join(engine.kinds)}"
        )
    units = options.get("units") or ()
    units = (units,) if isinstance(units, str) else tuple(units)
    units = tuple(normal_name(name, "units") for name in units)
    if units:
        known = set(conn.execute(sa.select(_PARTY.c.name).where(_PARTY.c.role == "unit")).scalars())
        known |= set(conn.execute(sa.select(_A.c.unit).distinct()).scalars())
        for name in units:
            if name not in known:
                listed = ", ".join(sorted(known)) or "none registered"
                raise ValidationError("units", f"unknown unit {name!r}{_hint(name, known)}; units: {listed}")
    state = options.get("state")
    if state is not None:
        states = {s for k in ([kind] if kind else engine.kinds) for s in engine.definition(k).states}
        if state not in states:
            raise ValidationError(
                "state", f"unknown state {state!r}{_hint(state, states)}; states: {', '.join(sorted(states))}"
            )
        if state == VOIDED:
            raise ValidationError(
                "state",
                "voided items (作废) are left out of every figure and ledger; list them with duban list --voided",
            )
    session = options.get("session")
    if session is not None:
        recorded = _I.c.data["session"].as_string()
        known = {s for s in conn.execute(sa.select(recorded).where(recorded.is_not(None)).distinct()).scalars()}
        if session not in known:
            listed = ", ".join(sorted(known)) or "no item records a session"
            raise ValidationError(
                "session", f"no item is from session {session!r}{_hint(session, known)}; sessions: {listed}"
            )
    year = options.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise ValidationError("year", f"must be a year such as 2026, not {year!r}")
    date_from, date_to = _date("from", options.get("date_from")), _date("to", options.get("date_to"))
    if date_from and date_to and date_from > date_to:
        raise ValidationError("from", f"{date_from} is after the end of the range ({date_to})")
    return Filters(year, session, date_from, date_to, kind, units, bool(options.get("key_only")), state)


def _date(field: str, value: Any) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a date; write YYYY-MM-DD") from None


def _hint(name: Any, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(name), sorted(options), n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SHANGHAI)


def _index(seq: list[str], value: str) -> int:
    return seq.index(value) if value in seq else len(seq)


# ---- formats --------------------------------------------------------------------------------


def format_for(path: Path | None, fmt: str | None = None) -> str:
    """The format to write: *fmt* when given, else the one *path*'s extension names."""
    if fmt is not None:
        fmt = fmt.lower().lstrip(".")
        if fmt not in FORMATS:
            raise ValidationError(
                "format", f"unknown format {fmt!r}{_hint(fmt, FORMATS)}; formats: {', '.join(FORMATS)}"
            )
        return fmt
    if path is None:
        return "md"
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise ValidationError(
            "format",
            f"cannot tell the format from {path.name!r}; name the file .html, .docx, .md, .csv, .xlsx or "
            f".json, or give the format ({', '.join(FORMATS)})",
        )
    return found


def render(data: dict[str, Any], fmt: str) -> str | bytes:
    """*data* as *fmt*: text for html, md, csv and json; the file's bytes for docx and xlsx."""
    fmt = format_for(None, fmt)
    if fmt in ("md", "csv", "json"):
        from workflow import report_text

        return report_text.render(data, fmt)
    if fmt == "html":
        return str(_renderer("report_html", "render_html")(data))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"report.{fmt}"
        write(data, path, fmt)
        return path.read_bytes()


def write(data: dict[str, Any], path: Path, fmt: str | None = None) -> str:
    """Write *data* to *path* as *fmt* (default: from the extension); returns the format written.
    CSV files start with a byte-order mark so that Excel reads their Chinese as UTF-8."""
    fmt = format_for(path, fmt)
    if fmt == "docx":
        _renderer("report_office", "write_docx")(data, path)
    elif fmt == "xlsx":
        _renderer("report_office", "write_xlsx")(data, path)
    else:
        text = render(data, fmt)
        assert isinstance(text, str)
        path.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
    return fmt


def _renderer(module: str, name: str) -> Any:
    """A renderer from its own module, imported only when used (python-docx and openpyxl load slowly)."""
    return getattr(importlib.import_module(f"workflow.{module}"), name)
