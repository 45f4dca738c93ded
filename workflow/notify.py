"""Notices: the catalogue of notice types, their sandboxed templates, recipients, and the outbox.

A notice is rendered when it is queued, in the transaction of the fire or escalation that caused it,
so the outbox row holds exactly the text that will be sent and the audit can show it. Its idempotency
key names the cause and the recipient: the same cause never queues the same notice twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import sqlalchemy as sa
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy.dialects import postgresql, sqlite

from workflow.calendar import SHANGHAI
from workflow.errors import DefinitionError
from workflow.store import TABLES, Prepared
from workflow.yamlfile import LocatedYAML

if TYPE_CHECKING:
    from workflow.channels import Settings
    from workflow.deadlines import DueStep
    from workflow.definition import Definition
    from workflow.registry import Context

__all__ = [
    "NoticeSpec",
    "NoticeType",
    "Notices",
    "Recipient",
    "Rendered",
    "bundled_notice_types",
    "cn_date",
    "make_environment",
]

ROLE_LABELS = {
    "handler": "承办人员",
    "department_head": "部门负责人",
    "principal_leader": "主要领导",
    "case_leader": "包案领导",
    "supervising_leader": "督办领导",
    "office": "办公室",
    "deputy": "代表",
}
UNIT_ROLES = ("handler", "department_head", "principal_leader", "case_leader")
_MUTATING = {
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "clear",
    "update",
    "setdefault",
    "popitem",
    "add",
    "discard",
    "sort",
    "reverse",
    "__setitem__",
}
PARTS = ("subject.txt", "body.txt", "body.html")
_NOTICE, _INCIDENT, _PARTY = TABLES["duban_notice"], TABLES["duban_incident"], TABLES["duban_party"]
_ASSIGNMENT, _PROBLEM, _DEADLINE = TABLES["duban_assignment"], TABLES["duban_problem"], TABLES["duban_deadline"]
_UNITS_OF = Prepared(
    sa.select(_ASSIGNMENT.c.item_id, _ASSIGNMENT.c.unit, _ASSIGNMENT.c.role)
    .where(_ASSIGNMENT.c.item_id == sa.bindparam("w_item"), _ASSIGNMENT.c.active)
    .order_by(_ASSIGNMENT.c.id)
)
_PROBLEMS_OF = Prepared(
    sa.select(_PROBLEM).where(_PROBLEM.c.item_id == sa.bindparam("w_item")).order_by(_PROBLEM.c.number)
)
_INSERT_INCIDENT = Prepared(sa.insert(_INCIDENT), [c.key for c in _INCIDENT.c if c.key != "id"])
_OPEN_DEADLINE = Prepared(
    sa.select(_DEADLINE).where(
        _DEADLINE.c.item_id == sa.bindparam("w_item"),
        _DEADLINE.c.clock == sa.bindparam("w_clock"),
        _DEADLINE.c.subject == "",
        sa.or_(_DEADLINE.c.state == "running", _DEADLINE.c.state == "paused"),  # IN would expand per call
    )
)
_PARTY_BY_NAME = Prepared(
    sa.select(_PARTY).where(_PARTY.c.role == sa.bindparam("w_role"), _PARTY.c.name == sa.bindparam("w_name"))
)


def cn_date(value: dt.date | dt.datetime | None) -> str:
    """2026年3月20日 — the date as official documents write it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:  # an instant: its Beijing date
        value = value.astimezone(SHANGHAI)
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    value = value.astimezone(SHANGHAI) if value.tzinfo is not None else value
    return f"{cn_date(value)} {value.hour:02d}:{value.minute:02d}"


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, reading ``item.title`` from a plain dict by key first.

    Jinja tries the attribute first and falls back to the key through an AttributeError, which is
    most of a notice's rendering time: notices read dozens of dict keys. A plain dict's value is data
    the engine put there, so reading it first reaches nothing the sandbox guards; anything else (and a
    missing key) takes the sandbox's own checked path.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


def make_environment(folders: Iterable[Path]) -> ImmutableSandboxedEnvironment:
    """The sandbox every notice is rendered in: no attribute tricks, no mutation, undefined names fail,
    HTML escaped in ``.html`` templates only, whitespace controlled in the templates themselves."""
    env = _Sandbox(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["cn_date"] = cn_date
    env.filters["cn_datetime"] = cn_datetime
    return env


@dataclass(frozen=True, slots=True)
class NoticeSpec:
    """A notice a transition sends: its type, the chain roles it goes to, for which of the item's units
    (lead, co or all), and the clock whose deadline it names."""

    type: str
    to: tuple[str, ...]
    units: str = "lead"
    deadline: str | None = None
    when_state: str | None = None  # only when the fire lands in this state


@dataclass(frozen=True, slots=True)
class NoticeType:
    key: str
    name: str
    html: bool
    variables: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str | None


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    role: str
    unit: str | None
    address: str

    def as_variable(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "role_label": ROLE_LABELS.get(self.role, self.role),
            "unit": self.unit,
        }


@dataclass
class Notices:
    """The notice catalogue and its templates (a deployment's folders first, then the bundled one),
    every template checked against its type's declared variables when loaded."""

    folders: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        from workflow.definition import bundled_dir

        bundled = bundled_dir("notifications")
        self.search = [*map(Path, self.folders), bundled]
        self.types = _catalogue(bundled / "notices.yaml")
        self.env = make_environment(self.search)
        self._templates = {(t, part): self._load(self.types[t], part) for t in self.types for part in self._parts(t)}

    @staticmethod
    def load(folders: Iterable[Path] = ()) -> Notices:
        """The catalogue and templates for *folders*, loaded and checked once per process."""
        return _loaded(tuple(Path(f).resolve() for f in folders))

    def _parts(self, key: str) -> tuple[str, ...]:
        return PARTS if self.types[key].html else PARTS[:2]

    def _load(self, kind: NoticeType, part: str) -> jinja2.Template:
        name = f"{kind.key}/{part}"
        try:
            source, filename, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
        except jinja2.TemplateNotFound:
            raise DefinitionError(
                f"notice type {kind.key!r} ({kind.name}) has no template {part}", str(self.search[-1] / name), 0, 0
            ) from None
        try:
            tree = self.env.parse(source, name, filename)
        except jinja2.TemplateSyntaxError as exc:
            raise DefinitionError(f"template syntax error: {exc.message}", filename or name, exc.lineno, 1) from None
        for node in tree.find_all((nodes.Getattr, nodes.Call)):
            target = node.node if isinstance(node, nodes.Call) else node
            attr = getattr(target, "attr", "") if isinstance(target, nodes.Getattr) else ""
            if attr.startswith("_") or (isinstance(node, nodes.Call) and attr in _MUTATING):
                raise DefinitionError(
                    f"the sandbox refuses {attr!r}: templates may not reach private attributes or "
                    "change their variables",
                    filename or name,
                    node.lineno,
                    1,
                )
        extra = sorted(meta.find_undeclared_variables(tree) - set(kind.variables))
        if extra:
            line = next(
                (i for i, text in enumerate(source.splitlines(), 1) if re.search(rf"\b{re.escape(extra[0])}\b", text)),
                1,
            )
            raise DefinitionError(
                f"{kind.key} ({kind.name}) uses {', '.join(extra)}, which it is not given; "
                f"its variables are {', '.join(kind.variables)}",
                filename or name,
                line,
                1,
            )
        return self.env.get_template(name)

    def render(self, key: str, variables: Mapping[str, Any]) -> Rendered:
        """Render notice type *key*; only the type's declared variables are passed to its templates."""
        kind = self.types[key]
        given = {k: variables.get(k) for k in kind.variables}
        # One line whatever the item's text holds: a line break in a mail header is refused (or, in a
        # folder-delivered notice, would start a header of its own).
        subject = " ".join(self._templates[(key, "subject.txt")].render(given).strip().splitlines())
        text = self._templates[(key, "body.txt")].render(given)
        html = self._templates[(key, "body.html")].render(given) if kind.html else None
        return Rendered(subject, text, html)

    def queue(
        self,
        conn: sa.Connection,
        *,
        cause: str,
        key: str,
        item_id: int | None,
        recipients: list[Recipient],
        variables: Mapping[str, Any],
        now: dt.datetime,
    ) -> int:
        """Render and queue *key* for each recipient in this transaction; returns how many were new."""
        return insert_notices(conn, self.rows(cause, key, item_id, recipients, variables, now))

    def rows(
        self,
        cause: str,
        key: str,
        item_id: int | None,
        recipients: list[Recipient],
        variables: Mapping[str, Any],
        now: dt.datetime,
    ) -> list[dict[str, Any]]:
        """The outbox rows of notice *key* to *recipients*, rendered, keyed by cause and recipient."""
        rows = []
        for r in recipients:
            rendered = self.render(key, {**variables, "recipient": r.as_variable()})
            rows.append(
                {
                    "key": f"{cause}:{key}:{r.role}:{r.unit or ''}:{r.name}",
                    "item_id": item_id,
                    "type": key,
                    "channel": channel_of(r.address),
                    "recipient": r.name,
                    "role": r.role,
                    "address": r.address,
                    "subject": rendered.subject,
                    "body_text": rendered.text,
                    "body_html": rendered.html,
                    "cause": cause,
                    "status": "queued",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "queued_at": now,
                }
            )
        return rows


@functools.lru_cache(maxsize=16)
def _loaded(folders: tuple[Path, ...]) -> Notices:
    return Notices(list(folders))


def channel_of(address: str) -> str:
    if address.startswith(("http://", "https://")):
        return "webhook"
    return "file" if address.startswith("file:") else "mail"


def insert_notices(conn: sa.Connection, rows: list[dict[str, Any]]) -> int:
    """INSERT … ON CONFLICT (key) DO NOTHING, many rows in one executemany; returns how many were new."""
    return _INSERT_NOTICE[conn.dialect.name].execute_many(conn, rows)


def _insert_notice(dialect: Any) -> Prepared:
    statement = dialect.insert(_NOTICE).on_conflict_do_nothing(index_elements=["key"])
    return Prepared(
        statement, [c.key for c in _NOTICE.c if c.key not in ("id", "lease_until", "last_error", "sent_at")]
    )


_INSERT_NOTICE = {"postgresql": _insert_notice(postgresql), "sqlite": _insert_notice(sqlite)}


class Lookup:
    """Rows that notices about many items need, each read once: parties by (role, name), and each
    item's active units and problems (read for a whole batch of items with :meth:`preload`)."""

    def __init__(self) -> None:
        self.parties: dict[tuple[str, str], dict[str, Any] | None] = {}
        self.units: dict[int, list[tuple[str, str]]] = {}
        self.problems: dict[int, list[dict[str, Any]]] = {}

    def preload(self, conn: sa.Connection, item_ids: Iterable[int]) -> None:
        ids = [i for i in item_ids if i not in self.units]
        if not ids:
            return
        for i in ids:
            self.units[i], self.problems[i] = [], []
        units: Iterable[Mapping[Any, Any]]
        problems: Iterable[Mapping[Any, Any]]
        if len(ids) == 1:  # a fire's own item: prepared statements, no IN list to expand
            units = _UNITS_OF.rows(conn, {"w_item": ids[0]})
            problems = _PROBLEMS_OF.rows(conn, {"w_item": ids[0]})
        else:
            a, p = _ASSIGNMENT, _PROBLEM
            selected = sa.select(a.c.item_id, a.c.unit, a.c.role).where(a.c.item_id.in_(ids), a.c.active)
            units = conn.execute(selected.order_by(a.c.id)).mappings()
            in_order = p.c.item_id.in_(ids)
            problems = conn.execute(sa.select(p).where(in_order).order_by(p.c.item_id, p.c.number)).mappings()
        for row in units:
            self.units[row["item_id"]].append((row["unit"], row["role"]))
        for prob in problems:
            self.problems[prob["item_id"]].append(dict(prob))

    def forget(self, item_id: int) -> None:
        """Read the item's units and problems afresh next time (a fire changed them)."""
        self.units.pop(item_id, None)
        self.problems.pop(item_id, None)

    def units_of(self, conn: sa.Connection, item_id: int) -> list[tuple[str, str]]:
        self.preload(conn, [item_id])
        return self.units[item_id]

    def problems_of(self, conn: sa.Connection, item_id: int) -> list[dict[str, Any]]:
        self.preload(conn, [item_id])
        return self.problems[item_id]

    def party(self, conn: sa.Connection, role: str, name: str) -> dict[str, Any] | None:
        if (role, name) not in self.parties:
            self.parties[(role, name)] = _PARTY_BY_NAME.first(conn, {"w_role": role, "w_name": name})
        return self.parties[(role, name)]


def resolve(
    conn: sa.Connection,
    roles: Iterable[str],
    units: list[str],
    item: Mapping[str, Any],
    office_address: str | None,
    lookup: Lookup | None = None,
) -> tuple[list[Recipient], list[str]]:
    """Who *roles* are for this item: each unit's chain of responsibility, its deputies, the office.
    Returns the recipients and, for each one without an address, a problem to record as an incident."""
    found: list[Recipient] = []
    problems: list[str] = []
    data = item.get("data") or {}
    proposers = data.get("proposers") or []
    wanted = [("unit", u) for u in units] + [("deputy", d) for d in proposers]
    # A key item's 督办领导 and 包案领导 are the leaders designate_key named on it, not a unit's own.
    named = {r: data[r] for r in ("supervising_leader", "case_leader") if data.get(r) and item.get("key_supervised")}
    named.setdefault("supervising_leader", data.get("supervising_leader") or "")
    wanted += [("leader", n) for n in dict.fromkeys(named.values()) if n]
    parties: dict[tuple[str, str], dict[str, Any]] = {}
    lookup = lookup or Lookup()
    for role, name in wanted:
        row = lookup.party(conn, role, name)
        if row is not None:
            parties[(role, name)] = row
    for role in roles:
        if role in UNIT_ROLES and role not in named:
            for unit in units:
                party = parties.get(("unit", unit)) or {}
                contacts = party.get("contacts") or {}
                person = party.get(role) or unit
                if contacts.get(role):
                    found.append(Recipient(person, role, unit, str(contacts[role])))
                else:
                    problems.append(f"{unit} has no address for its {ROLE_LABELS[role]} ({role})")
        elif role == "deputy":
            lead = data.get("lead_deputy") or (proposers[0] if proposers else None)
            address = ((parties.get(("deputy", lead)) or {}).get("contacts") or {}).get("address") if lead else None
            if address:
                found.append(Recipient(str(lead), "deputy", None, str(address)))
            elif lead:
                problems.append(f"deputy {lead} has no address")
        else:  # supervising_leader falls back to the office that runs the supervision
            leader = named.get(role) or None
            address = ((parties.get(("leader", leader)) or {}).get("contacts") or {}).get("address") if leader else None
            if address:
                found.append(Recipient(str(leader), role, None, str(address)))
            elif office_address:
                found.append(Recipient(str(leader or "办公室"), "office" if not leader else role, None, office_address))
            else:
                problems.append(f"no address for the {ROLE_LABELS[role]} ({role}); set office_address")
    return found, problems


def record_incidents(conn: sa.Connection, item_id: int | None, problems: list[str], now: dt.datetime) -> None:
    _INSERT_INCIDENT.execute_many(conn, _incident_rows(item_id, problems, now))


def _incident_rows(item_id: int | None, problems: list[str], now: dt.datetime) -> list[dict[str, Any]]:
    return [
        {"item_id": item_id, "notice_id": None, "kind": "missing_contact", "message": p, "at": now, "resolved_at": None}
        for p in problems
    ]


@dataclass
class Outbox:
    """Notices and incidents gathered for a whole batch of items, written with one statement each."""

    notices: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)

    def write(self, conn: sa.Connection) -> int:
        """Insert what was gathered; returns how many notices were new."""
        if self.incidents:
            _INSERT_INCIDENT.execute_many(conn, self.incidents)
        return insert_notices(conn, self.notices)


def bundled_notice_types() -> set[str]:
    """The notice types duban ships, for checking definitions read without an engine."""
    from workflow.definition import bundled_dir

    return set(_catalogue(bundled_dir("notifications") / "notices.yaml"))


def _catalogue(path: Path) -> dict[str, NoticeType]:
    doc = LocatedYAML(path.read_text(encoding="utf-8"), str(path))
    root = doc.root if isinstance(doc.root, dict) else {}
    types = root.get("types")
    if not isinstance(types, dict):
        raise DefinitionError("notices.yaml needs 'types': a mapping of notice keys", str(path), 1, 1)
    out: dict[str, NoticeType] = {}
    for key, spec in types.items():
        where = doc.where(("types", key))
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("name"), str)
            or not isinstance(spec.get("variables"), list)
        ):
            raise DefinitionError(f"notice type {key!r} needs a name and a list of variables", str(path), *where)
        out[key] = NoticeType(key, spec["name"], bool(spec.get("html", False)), tuple(map(str, spec["variables"])))
    return out


_CATEGORY = {"A": "已解决或基本解决", "B": "正在解决或列入规划", "C": "因条件限制待以后解决", "D": "留作参考"}
_RESULT = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
_UNIT_ROLE = {"lead": "主办", "co": "协办", "split": "分办"}


def item_variables(
    conn: sa.Connection,
    item: Mapping[str, Any],
    state_label: str,
    data: Mapping[str, Any],
    deadline: Mapping[str, Any] | None,
    level: int = 0,
    lookup: Lookup | None = None,
) -> dict[str, Any]:
    """Everything a notice about *item* may show; each notice type receives only what it declares."""
    d = {**item["data"], **data}
    lookup = lookup or Lookup()
    units = lookup.units_of(conn, item["id"])
    problems = lookup.problems_of(conn, item["id"])
    reply = None
    if d.get("category"):
        reply = {
            "category": d["category"],
            "category_label": _CATEGORY.get(d["category"], ""),
            "text": d.get("text", ""),
            "signer": d.get("signer", ""),
            "promises": [{"what": p["what"], "by": _date(p["by"])} for p in data.get("promises", [])],
        }
    vote = None
    if "unsatisfied" in data:
        total = data["satisfied"] + data["basically_satisfied"] + data["unsatisfied"]
        vote = {k: data[k] for k in ("satisfied", "basically_satisfied", "unsatisfied")} | {
            "total": total,
            "round": item["round"],
            "result_label": "不满意" if state_label.startswith("测评不满意") else "满意",
        }
    return {
        "item": {
            "id": item["id"],
            "kind": item["kind"],
            "title": item["title"],
            "number": d.get("number"),
            "body": d.get("body", ""),
            "proposers": d.get("proposers", []),
            "lead_deputy": d.get("lead_deputy"),
            "session": d.get("session"),
            "year": item["year"],
            "state_label": state_label,
            "key_supervised": item["key_supervised"],
            "supervising_leader": d.get("supervising_leader"),
            "case_leader": d.get("case_leader"),
        },
        "units": [{"name": name, "role_label": _UNIT_ROLE.get(role, role)} for name, role in units],
        "deadline": None
        if deadline is None
        else {
            "label": deadline["label"],
            "due": deadline["due"],
            "explanation": deadline["explanation"],
            "level": level,
            "provisional": deadline["provisional"],
        },
        "reply": reply,
        "evaluation": {"result_label": _RESULT.get(d.get("result", ""), ""), "comment": data.get("comment")},
        "extension": {"period": data.get("period", ""), "due": deadline["due"] if deadline else None},
        "problems": [{k: p[k] for k in ("number", "title", "measure", "owner", "due")} for p in problems],
        "vote": vote,
        "reason": data.get("reason") or "",
        "items": [],
    }


def units_for(conn: sa.Connection, item_id: int, which: str, lookup: Lookup | None = None) -> list[str]:
    """The item's active units: lead (and split) units, co-units, or all."""
    roles = {"lead": ("lead", "split"), "co": ("co",), "all": ("lead", "split", "co")}[which]
    return [unit for unit, role in (lookup or Lookup()).units_of(conn, item_id) if role in roles]


def open_deadline(conn: sa.Connection, item_id: int, clock: str, label: str) -> dict[str, Any] | None:
    row = _OPEN_DEADLINE.first(conn, {"w_item": item_id, "w_clock": clock})
    return None if row is None else {**row, "label": label}


def _date(value: Any) -> dt.date | None:
    return value if isinstance(value, dt.date) or value is None else dt.date.fromisoformat(str(value))


def queue_fire(ctx: Context, notices: Notices, settings: Settings, notice: NoticeSpec, cause: str) -> None:
    """Queue the notice a transition sends, in the fire's transaction."""
    item, defn = ctx.item, ctx.definition
    clock = defn.clocks.get(notice.deadline or "")

    def variables() -> dict[str, Any]:
        deadline = open_deadline(ctx.conn, item["id"], clock.name, clock.label) if clock else None
        return item_variables(ctx.conn, item, defn.state_label(ctx.state), ctx.data, deadline)

    units = units_for(ctx.conn, item["id"], notice.units)
    _queue(ctx.conn, notices, settings, notice.type, notice.to, units, item, cause, variables, ctx.at)


def queue_step(
    conn: sa.Connection,
    notices: Notices,
    settings: Settings,
    item: dict[str, Any],
    defn: Definition,
    step: DueStep,
    now: dt.datetime,
    lookup: Lookup | None = None,
    sink: Outbox | None = None,
) -> int:
    """Queue the notice of a reminder or escalation level, in the transaction that produced the step;
    returns how many were queued (or, with *sink*, gathers its rows there for the caller to write)."""
    deadline = {
        "label": defn.clocks[step.clock].label,
        "due": step.due,
        "explanation": step.explanation,
        "provisional": False,
    }

    def variables() -> dict[str, Any]:
        return item_variables(conn, item, defn.state_label(item["state"]), {}, deadline, step.level, lookup)

    unit = step.subject.removeprefix("unit:") if step.subject.startswith("unit:") else None
    units = [unit] if unit else units_for(conn, item["id"], "lead", lookup)
    cause = f"deadline:{step.deadline_id}:step:{step.step}"
    return _queue(conn, notices, settings, step.template, step.notify, units, item, cause, variables, now, lookup, sink)


def _queue(
    conn: sa.Connection,
    notices: Notices,
    settings: Settings,
    kind: str,
    roles: tuple[str, ...],
    units: list[str],
    item: dict[str, Any],
    cause: str,
    variables: Callable[[], dict[str, Any]],
    now: dt.datetime,
    lookup: Lookup | None = None,
    sink: Outbox | None = None,
) -> int:
    recipients, problems = resolve(conn, roles, units, item, settings.office_address, lookup)
    problems = [f"{kind}: {p}" for p in problems]
    if sink is None:
        record_incidents(conn, item["id"], problems, now)
    else:
        sink.incidents += _incident_rows(item["id"], problems, now)
    if not recipients:  # the variables cost a few queries: only gathered for someone to tell
        return 0
    base = {**variables(), "office": settings.office_name, "sent_on": now.astimezone(SHANGHAI).date()}
    rows = notices.rows(cause, kind, item["id"], recipients, base, now)
    if sink is None:
        return insert_notices(conn, rows)
    sink.notices += rows
    return len(rows)


def report_overdue(conn: sa.Connection, notices: Notices, settings: Settings, now: dt.datetime) -> int:
    """Queue one 逾期通报 listing every overdue open deadline, to the office, once per day."""
    from workflow.deadlines import deadline_query

    today = now.astimezone(SHANGHAI).date()
    rows = conn.execute(deadline_query(overdue_at=now)).mappings().all()
    items = [
        {
            "id": r["item_id"],
            "title": r["title"],
            "unit": "、".join(units_for(conn, r["item_id"], "lead")),
            "due": r["due"],
            "days_overdue": (today - r["due"]).days,
            "level": r["level"],
        }
        for r in rows
    ]
    if not items:
        return 0
    variables = {"items": items, "office": settings.office_name, "sent_on": today}
    if settings.office_address is None:
        record_incidents(conn, None, ["overdue_report: no office_address to send the 逾期通报 to"], now)
        return len(items)
    office = Recipient(settings.office_name, "office", None, settings.office_address)
    notices.queue(
        conn,
        cause=f"overdue_report:{today}",
        key="overdue_report",
        item_id=None,
        recipients=[office],
        variables=variables,
        now=now,
    )
    return len(items)
