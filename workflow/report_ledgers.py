"""The follow-up review report's shared SQL pieces and its ledgers.

The ledgers list rows (items, unsatisfied items round by round, promises, items to reopen, key
items, review opinions with their problems and votes, overdue clocks), so each is as long as what it
lists; each is still one query (or two) for all its rows, never one per item.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow import store
from workflow.calendar import SHANGHAI
from workflow.errors import NotFound
from workflow.model import VOIDED
from workflow.report_defs import PROBLEM_LABELS, PROMISE_LABELS, RESULT_LABELS, VOTE_LABELS, rate
from workflow.wording import plain

if TYPE_CHECKING:
    from workflow.engine import Engine

__all__ = ["LEADS", "OPEN", "Scope", "count", "ledgers", "overdue_units"]

LEADS = ("lead", "split")  # the units that answer for an item: 主办 and 分办, not 协办
OPEN = ("running", "paused")  # a paused clock is still open (as in the 逾期通报)
#: Audit rows that are not a step of handling: the sweep's escalations, recomputed deadlines.
SYSTEM_EVENTS = ("escalate", "recompute_deadline")
_I, _A, _D = store.TABLES["duban_item"], store.TABLES["duban_assignment"], store.TABLES["duban_deadline"]
_P, _PR, _V = store.TABLES["duban_promise"], store.TABLES["duban_problem"], store.TABLES["duban_vote"]
_AU = store.TABLES["duban_audit"]
_RECTIFIED = ("rectified", "closed")


class Scope:
    """One report's selection: the connection, the item conditions, the instant it describes, and
    the SQL pieces several figures share (built once, so that one statement never joins a piece twice)."""

    def __init__(
        self,
        engine: Engine,
        conn: sa.Connection,
        where: Sequence[sa.ColumnElement[bool]],
        now: dt.datetime,
        clocks: dict[str, str],
    ) -> None:
        # Voided items (作废, entered by mistake) are left out of every figure and ledger, here once.
        self.where = [*where, _I.c.state != VOIDED]
        self.engine, self.conn, self.now, self.clocks = engine, conn, now, clocks
        self.today = now.astimezone(SHANGHAI).date()
        self._labels: dict[tuple[str, str], str] = {}
        finals = {k: [s for s, spec in engine.definition(k).states.items() if spec.final] for k in engine.kinds}
        #: Items in a final state (withdrawn, rejected): no longer handled, so neither counted as
        #: assigned nor chased for a clock a withdrawal left running.
        self.ended = sa.or_(
            sa.false(), *(sa.and_(_I.c.kind == k, _I.c.state.in_(states)) for k, states in finals.items() if states)
        )

    def kind_label(self, kind: str) -> str:
        try:
            return plain(self.engine.definition(kind).label)
        except NotFound:  # items of a lifecycle no longer loaded keep their names
            return kind

    def state_label(self, kind: str, state: str) -> str:
        found = self._labels.get((kind, state))
        if found is None:
            try:
                found = plain(self.engine.definition(kind).state_label(state))
            except NotFound:
                found = state
            self._labels[(kind, state)] = found
        return found

    def clock_label(self, kind: str, clock: str) -> str:
        try:
            spec = self.engine.definition(kind).clocks.get(clock)
        except NotFound:
            spec = None
        return plain(spec.label) if spec else clock

    def event_label(self, kind: str, trigger: str, source: str | None) -> str:
        try:
            spec = self.engine.definition(kind).transition(source or "", trigger)
        except NotFound:
            spec = None
        if spec is not None and spec.label:
            return plain(spec.label)
        return {"submit": "提交"}.get(trigger, trigger)

    def promise_deadline(self) -> sa.Subquery:
        """Open promise clocks (one per promise), to be joined with :meth:`promise_on`."""
        return (
            sa.select(_D.c.item_id, _D.c.subject, _D.c.deadline_at)
            .where(_D.c.subject.like("promise:%"), _D.c.state.in_(OPEN))
            .subquery()
        )

    def response_on(self, d: sa.FromClause) -> sa.ColumnElement[bool]:
        """Join condition from an item to its response clock *d* (a suggestion's reply, a review opinion's
        written report): the row for the whole item, not replaced by a reassignment. A kind's response
        clock starts once (or restarts only by replacing the open row), so at most one row matches."""
        which = [sa.and_(_I.c.kind == kind, d.c.clock == clock) for kind, clock in self.clocks.items()]
        return sa.and_(
            d.c.item_id == _I.c.id,
            d.c.subject == "",
            d.c.state != "replaced",
            sa.or_(*which) if which else sa.false(),
        )

    def replied(self, d: sa.FromClause) -> sa.ColumnElement[bool]:
        """The response clock was stopped: by the response, since items in a final state are left out."""
        return d.c.state == "stopped"

    def on_time(self, d: sa.FromClause) -> sa.ColumnElement[bool]:
        """Stopped by its deadline (24:00 of the due date, extensions added, pauses not counted)."""
        return sa.and_(d.c.state == "stopped", d.c.stopped_at <= d.c.deadline_at)

    def late(self, d: sa.FromClause) -> sa.ColumnElement[bool]:
        """Still open and past its deadline."""
        return sa.and_(d.c.state.in_(OPEN), d.c.deadline_at <= self.now)

    @staticmethod
    def promise_on(d: sa.Subquery) -> sa.ColumnElement[bool]:
        # The item_id term lets the join use the deadline table's item index.
        return sa.and_(d.c.item_id == _P.c.item_id, d.c.subject == sa.literal("promise:") + sa.cast(_P.c.id, sa.String))


def _attributed(scope: Scope) -> sa.Subquery:
    """Every open clock of the selection past its deadline, once per unit it is counted against:
    a co-unit's opinion clock against that co-unit, a promise against the unit that made it, any
    other clock against the item's lead (or split) units. Columns: id, item_id, unit, due."""
    od = (
        sa.select(_D.c.id, _D.c.item_id, _D.c.subject, _D.c.due)
        .join(_I, _I.c.id == _D.c.item_id)
        .where(*scope.where, sa.not_(scope.ended), _D.c.state.in_(OPEN), _D.c.deadline_at <= scope.now)
        .cte("overdue_clocks")
    )
    of_unit, of_promise = od.c.subject.like("unit:%"), od.c.subject.like("promise:%")
    by_unit = sa.select(od.c.id, od.c.item_id, sa.func.substr(od.c.subject, 6, type_=sa.String).label("unit"), od.c.due)
    by_promise = sa.select(od.c.id, od.c.item_id, _P.c.unit, od.c.due).join(
        _P,
        sa.and_(_P.c.item_id == od.c.item_id, od.c.subject == sa.literal("promise:") + sa.cast(_P.c.id, sa.String)),
    )
    by_lead = (
        sa.select(od.c.id, od.c.item_id, _A.c.unit, od.c.due)
        .join(_A, sa.and_(_A.c.item_id == od.c.item_id, _A.c.active, _A.c.role.in_(LEADS)))
        .where(sa.not_(of_unit), sa.not_(of_promise))
    )
    return sa.union_all(by_unit.where(of_unit), by_promise, by_lead).subquery("attributed")


def overdue_units(scope: Scope, units: Sequence[str]) -> list[tuple[str, int, dt.date]]:
    """(unit, overdue clocks, earliest due date) for each unit with a clock past its deadline."""
    a = _attributed(scope)
    query = sa.select(a.c.unit, sa.func.count(sa.distinct(a.c.id)), sa.func.min(a.c.due)).group_by(a.c.unit)
    if units:
        query = query.where(a.c.unit.in_(units))
    return [(str(u), int(n), _as_date(due)) for u, n, due in scope.conn.execute(query)]


def ledgers(scope: Scope) -> dict[str, list[dict[str, Any]]]:
    units = _units_by_item(scope)
    promises = _promises(scope)
    return {
        "items": _items(scope, units),
        "unsatisfied": _unsatisfied(scope, units),
        "promises": promises,
        "reopen": _reopen(scope),
        "key_items": _key_items(scope, units),
        "review_opinions": _review_opinions(scope, units),
        "overdue": _overdue(scope, units, {p["promise_id"]: p["unit"] for p in promises}),
    }


def count(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    """How many rows meet *cond* (0, not NULL, over no rows)."""
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


# The ledgers list many rows: their dates and instants are read raw (type_coerce) and written out as ISO
# text here, which is all a report needs, instead of being parsed into date objects and formatted back.
# SQLite hands back the stored text, PostgreSQL (psycopg) date and datetime objects; JSON likewise text
# or Python values.


def raw(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return sa.type_coerce(column, sa.String)


def _iso(value: Any) -> str | None:
    """A date column's value as ISO text (SQLite stores dates as ISO text already)."""
    if value is None or isinstance(value, str):
        return value
    return str(value.isoformat())


def _day(value: Any) -> str | None:
    """An instant's Asia/Shanghai date as ISO text. SQLite stores instants as UTC text
    ``YYYY-MM-DD HH:MM:SS.ffffff``; Shanghai is UTC+8 all year (no daylight saving since 1991), so
    from 16:00 UTC the Shanghai date is the next day."""
    if value is None:
        return None
    if isinstance(value, str):
        day = value[:10]
        return (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat() if value[11:13] >= "16" else day
    return str(value.astimezone(SHANGHAI).date().isoformat())


Units = dict[int, tuple[list[str], list[str]]]  # item id -> (lead or split units, co-units)


def _units_by_item(scope: Scope) -> Units:
    found: Units = {}
    rows = scope.conn.execute(
        sa.select(_A.c.item_id, _A.c.unit, _A.c.role)
        .join(_I, _I.c.id == _A.c.item_id)
        .where(*scope.where, _A.c.active)
        .order_by(_A.c.item_id, _A.c.id)
    ).all()
    for item_id, unit, role in rows:
        entry = found.get(item_id)
        if entry is None:
            entry = found[item_id] = ([], [])
        entry[0 if role in LEADS else 1].append(unit)
    return found


_NO_UNITS: tuple[list[str], list[str]] = ([], [])


def _items(scope: Scope, units: Units) -> list[dict[str, Any]]:
    """One row per selected item, with the submission fields an import reads back (the XLSX's 事项
    sheet round-trips through ``duban import``) and how its reply went."""
    d = _D.alias("rd")
    data = _I.c.data
    on_time = sa.case((scope.on_time(d), 1), (sa.or_(scope.replied(d), scope.late(d)), 0))
    query = (
        sa.select(
            _I.c.id,
            _I.c.kind,
            _I.c.state,
            _I.c.title,
            _I.c.round,
            _I.c.key_supervised,
            raw(_I.c.created_at),
            # The whole JSON as text, parsed here once: faster than extracting eight fields in SQL
            # (PostgreSQL parses a json value again for each) and than the driver's own JSON loader.
            sa.cast(data, sa.Text),
            raw(d.c.due),
            raw(sa.case((scope.replied(d), d.c.stopped_at))),
            on_time,
        )
        # A withdrawn item's stopped clock is not a reply: items in a final state join no response clock.
        .select_from(_I.outerjoin(d, sa.and_(scope.response_on(d), sa.not_(scope.ended))))
        .where(*scope.where)
        .order_by(_I.c.id)
    )
    out = []
    state_label, result_label, loads = scope.state_label, RESULT_LABELS.get, json.loads
    for row in scope.conn.execute(query).all():
        item_id, kind, state, title, rounds, key, created, text, due, replied_at, on_time_flag = row
        fields = loads(text)
        result = fields.get("result")
        leads, cos = units.get(item_id, _NO_UNITS)
        out.append(
            {
                "item_id": item_id,
                "kind": kind,
                "number": fields.get("number"),
                "title": title,
                "proposers": list(fields.get("proposers") or ()),
                "lead_deputy": fields.get("lead_deputy"),
                "session": fields.get("session"),
                "body": fields.get("body"),
                "suggested_units": list(fields.get("suggested_units") or ()),
                "submitted_on": _day(created),
                "units": leads,
                "co_units": cos,
                "state": state,
                "state_label": state_label(kind, state),
                "key_supervised": bool(key),
                "round": rounds + 1,
                "reply_due": _iso(due),
                "replied_on": _day(replied_at),
                "on_time": None if on_time_flag is None else bool(on_time_flag),
                "category": _category(fields, leads),
                "result": result,
                "result_label": result_label(result or "", ""),
            }
        )
    return out


def _category(fields: dict[str, Any], leads: list[str]) -> Any:
    """The reply category; a split item's is each part's in the order of its units ("B、A", "—" for a
    part not yet replied), as the item has no single category."""
    parts = fields.get("part_categories")
    if not parts:
        return fields.get("category")
    return "、".join(str(parts.get(u) or "—") for u in leads)


def _unsatisfied(scope: Scope, units: Units) -> list[dict[str, Any]]:
    """Suggestions rated unsatisfied at least once, round by round (a round ends with a rating that
    sends the item back, or with the follow-up review reopening it)."""
    rows = scope.conn.execute(
        sa.select(
            _AU.c.item_id, _I.c.kind, _I.c.title, _I.c.state, _AU.c.trigger, _AU.c.dest, raw(_AU.c.at),
            _AU.c.data["result"].as_string(),
        )
        .join(_I, _I.c.id == _AU.c.item_id)
        .where(*scope.where, _I.c.round > 0, _AU.c.trigger.in_(("reply", "evaluate", "reopen")))
        # Ordered by the item's id (the same number): SQLite then reads the few items re-handled and
        # their audit rows by index, instead of the whole audit log in index order.
        .order_by(_I.c.id, _AU.c.seq)
    ).all()  # fmt: skip
    by_item: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
    for item_id, kind, title, state, trigger, dest, at, result in rows:
        entry = by_item.get(item_id)
        if entry is None:
            entry = by_item[item_id] = ((kind, title, state), [{"result": None, "replied_on": None}])
        current = entry[1][-1]
        if trigger == "reply" and dest == "replied":
            current["replied_on"] = _day(at)
        elif trigger == "evaluate":
            current["result"] = result
        if trigger in ("evaluate", "reopen") and dest == "rehandling":
            entry[1].append({"result": None, "replied_on": None})
    out = []
    for item_id, ((kind, title, state), found) in by_item.items():
        if not any(r["result"] == "unsatisfied" for r in found):
            continue
        rounds = []
        for n, r in enumerate(found, start=1):
            result = r["result"] or ("awaiting_rating" if r["replied_on"] else "awaiting_reply")
            rounds.append(
                {"round": n, "result": result, "result_label": RESULT_LABELS[result], "replied_on": r["replied_on"]}
            )
        out.append(
            {
                "item_id": item_id,
                "title": title,
                "units": units.get(item_id, _NO_UNITS)[0],
                "rounds": rounds,
                "state": state,
                "state_label": scope.state_label(kind, state),
            }
        )
    return out


def _promises(scope: Scope) -> list[dict[str, Any]]:
    d = scope.promise_deadline()
    # Open and past its date: by its clock's deadline (the promised day rolled past rest days) when it
    # has one, else by the promised day itself.
    past = sa.case((d.c.deadline_at.is_not(None), d.c.deadline_at <= scope.now), else_=_P.c.by < scope.today)
    rows = scope.conn.execute(
        sa.select(
            _P.c.id, _P.c.item_id, _I.c.title, _P.c.unit, _P.c.what, raw(_P.c.by), _P.c.status, _P.c.round,
            _P.c.note, raw(_P.c.verified_at), sa.case((sa.and_(_P.c.status == "open", past), 1), else_=0),
        )
        .select_from(_P.join(_I, _I.c.id == _P.c.item_id).outerjoin(d, scope.promise_on(d)))
        .where(*scope.where)
        .order_by(_P.c.by, _P.c.id)
    ).all()  # fmt: skip
    out = []
    for promise_id, item_id, title, unit, what, by, status, rounds, note, verified, overdue in rows:
        status = "overdue" if overdue else status
        out.append(
            {
                "promise_id": promise_id,
                "item_id": item_id,
                "title": title,
                "unit": unit,
                "what": what,
                "by": _iso(by),
                "round": rounds + 1,
                "status": status,
                "status_label": PROMISE_LABELS.get(status, status),
                "verified_on": _day(verified),
                "note": note,
            }
        )
    return out


def _reopen(scope: Scope) -> list[dict[str, Any]]:
    """Closed items with a promise found broken and no reopening since it was found so."""
    since = sa.exists().where(_AU.c.item_id == _P.c.item_id, _AU.c.trigger == "reopen", _AU.c.at >= _P.c.verified_at)
    rows = scope.conn.execute(
        sa.select(_P.c.id, _P.c.item_id, _I.c.title, _P.c.what, raw(_P.c.by), raw(_P.c.verified_at), _P.c.note)
        .join(_I, _I.c.id == _P.c.item_id)
        .where(*scope.where, _I.c.state == "closed", _P.c.status == "broken", sa.not_(since))
        .order_by(_P.c.item_id, _P.c.id)
    )
    out = []
    for promise_id, item_id, title, what, by, verified_at, note in rows:
        verified = _day(verified_at)
        reason = f"承诺事项“{what}” (期限 {_iso(by)}) 于 {verified} 核实未落实"
        out.append(
            {
                "item_id": item_id,
                "title": title,
                "promise": what,
                "promise_id": promise_id,
                "by": _iso(by),
                "verified_on": verified,
                "reason": reason + (f": {note}" if note else ""),
            }
        )
    return out


def _key_items(scope: Scope, units: Units) -> list[dict[str, Any]]:
    key = _I.c.key_supervised == sa.true()
    last = (  # grouped by the item's id rather than the audit column: read from the key items (see above)
        sa.select(_I.c.id.label("item_id"), sa.func.max(_AU.c.seq).label("seq"))
        .join(_AU, _AU.c.item_id == _I.c.id)
        .where(*scope.where, key, _AU.c.trigger.not_in(SYSTEM_EVENTS))
        .group_by(_I.c.id)
        .subquery()
    )
    data = _I.c.data
    rows = scope.conn.execute(
        sa.select(
            _I.c.id, _I.c.kind, _I.c.title, _I.c.state, _I.c.round, data["supervising_leader"].as_string(),
            data["case_leader"].as_string(), data["category"].as_string(), _AU.c.trigger, _AU.c.source, raw(_AU.c.at),
        )
        .select_from(
            _I.join(last, last.c.item_id == _I.c.id).join(
                _AU, sa.and_(_AU.c.item_id == _I.c.id, _AU.c.seq == last.c.seq)
            )
        )
        .where(*scope.where, key)
        .order_by(_I.c.id)
    )  # fmt: skip
    out = []
    for item_id, kind, title, state, rounds, supervising, case, category, trigger, source, at in rows:
        progress = f"{_day(at)} {scope.event_label(kind, trigger, source)}"
        if category:
            progress += f"; 最近答复 {category} 类"
        if rounds:
            progress += f"; 重新办理 {rounds} 轮"
        leads, cos = units.get(item_id, _NO_UNITS)
        out.append(
            {
                "item_id": item_id,
                "title": title,
                "supervising_leader": supervising,
                "case_leader": case,
                "state": state,
                "state_label": scope.state_label(kind, state),
                "units": leads + cos,
                "progress": progress,
            }
        )
    return out


def _review_opinions(scope: Scope, units: Units) -> list[dict[str, Any]]:
    is_ro = _I.c.kind == "review_opinion"
    opinions: dict[int, dict[str, Any]] = {}
    for item_id, title, state, rounds in scope.conn.execute(
        sa.select(_I.c.id, _I.c.title, _I.c.state, _I.c.round).where(*scope.where, is_ro).order_by(_I.c.id)
    ):
        opinions[item_id] = {
            "item_id": item_id,
            "title": title,
            "units": units.get(item_id, _NO_UNITS)[0],
            "state": state,
            "state_label": scope.state_label("review_opinion", state),
            "problems": [],
            "rectified": 0,
            "total": 0,
            "rate": rate(0, 0),
            "votes": [],
            "second_review": rounds > 0,
        }
    problems = scope.conn.execute(
        sa.select(_PR.c.item_id, _PR.c.number, _PR.c.title, _PR.c.status, raw(_PR.c.due), _PR.c.measure, _PR.c.owner)
        .join(_I, _I.c.id == _PR.c.item_id)
        .where(*scope.where, is_ro)
        .order_by(_PR.c.item_id, _PR.c.number)
    ).all()
    for item_id, number, title, status, due, measure, owner in problems:
        entry = opinions[item_id]
        entry["problems"].append(
            {
                "number": number,
                "title": title,
                "status": status,
                "status_label": PROBLEM_LABELS.get(status, status),
                "due": _iso(due),
                "measure": measure,
                "owner": owner,
            }
        )
        entry["total"] += 1
        entry["rectified"] += status in _RECTIFIED
    votes = scope.conn.execute(
        sa.select(
            _V.c.item_id, _V.c.round, _V.c.satisfied, _V.c.basically_satisfied, _V.c.unsatisfied, _V.c.result,
            raw(_V.c.at),
        )
        .join(_I, _I.c.id == _V.c.item_id)
        .where(*scope.where, is_ro)
        .order_by(_V.c.item_id, _V.c.at, _V.c.id)
    )  # fmt: skip
    for item_id, rounds, satisfied, basically, unsatisfied, result, at in votes:
        opinions[item_id]["votes"].append(
            {
                "round": rounds + 1,
                "satisfied": satisfied,
                "basically_satisfied": basically,
                "unsatisfied": unsatisfied,
                "result": result,
                "result_label": VOTE_LABELS.get(result, result),
                "on": _day(at),
            }
        )
    for entry in opinions.values():
        entry["rate"] = rate(entry["rectified"], entry["total"])
    return list(opinions.values())


def _overdue(scope: Scope, units: Units, promise_units: dict[int, str]) -> list[dict[str, Any]]:
    """Every open clock past its deadline, with the units it is counted against (as in
    :func:`_attributed`, here from the ledgers' own maps instead of another query)."""
    rows = scope.conn.execute(
        sa.select(_D.c.item_id, _I.c.kind, _I.c.title, _D.c.clock, _D.c.subject, raw(_D.c.due), _D.c.level)
        .join(_I, _I.c.id == _D.c.item_id)
        .where(*scope.where, sa.not_(scope.ended), _D.c.state.in_(OPEN), _D.c.deadline_at <= scope.now)
        .order_by(_D.c.due, _D.c.item_id, _D.c.id)
    ).all()
    out = []
    labels: dict[tuple[str, str], str] = {}
    leads: dict[int, str] = {}
    today = scope.today
    for item_id, kind, title, clock, subject, due, level in rows:
        label = labels.get((kind, clock))
        if label is None:
            label = labels[(kind, clock)] = scope.clock_label(kind, clock)
        what, _, key = subject.partition(":")
        if what == "unit":
            unit = key
        elif what == "promise":
            unit = promise_units.get(int(key), "")
        else:
            unit = leads.get(item_id) or leads.setdefault(
                item_id,
                "、".join(sorted(units.get(item_id, _NO_UNITS)[0])),  # sorted: as the unit table
            )
        due = _iso(due)
        out.append(
            {
                "item_id": item_id,
                "title": title,
                "unit": unit,
                "clock": clock,
                "label": label,
                "subject": subject,
                "subject_label": _subject_label(subject),
                "due": due,
                "days_overdue": (today - dt.date.fromisoformat(str(due))).days,
                "level": level,
            }
        )
    return out


def _subject_label(subject: str) -> str:
    """Which of an item's clocks of one kind: 问题 3, 承诺事项 12, or a co-unit's name."""
    if not subject:
        return ""
    kind, _, key = subject.partition(":")
    return {"problem": f"问题 {key}", "promise": f"承诺事项 {key}", "unit": key}.get(kind, "")


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
