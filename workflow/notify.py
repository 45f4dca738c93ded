"""Notices: the catalogue of notice types, their sandboxed templates, recipients, and the outbox.

A notice is rendered when it is queued, in the transaction of the fire or escalation that caused it,
so the outbox row holds exactly the text that will be sent and the audit can show it. Its idempotency
key names the cause and the recipient: the same cause never queues the same notice twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import sqlalchemy as sa
from jinja2 import meta, nodes
from sqlalchemy.dialects import postgresql, sqlite

from workflow.beijing import beijing_date
from workflow.errors import DefinitionError
from workflow.notice_key import notice_key as make_key
from workflow.notice_samples import sample_variables
from workflow.render import LIMITS, Limits, cn_date, make_environment, render_limited, text_html
from workflow.store import TABLES, Prepared
from workflow.wording import cn_period, plain
from workflow.yamlfile import LocatedYAML

if TYPE_CHECKING:
    from workflow.channels import Settings
    from workflow.deadlines import DueStep
    from workflow.definition import Definition
    from workflow.registry import Context

log = logging.getLogger("duban.notify")

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
# A held notice's incident names the notice by its key: the notice is written first, in the same
# transaction, and the incident finds its id (or NULL, for an incident about no notice).
_INSERT_INCIDENT = Prepared(
    sa.insert(_INCIDENT).values(
        notice_id=sa.select(_NOTICE.c.id).where(_NOTICE.c.key == sa.bindparam("w_key")).scalar_subquery()
    ),
    [c.key for c in _INCIDENT.c if c.key not in ("id", "notice_id")],
)
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
    address: str  # "" when none is known: the notice is held
    missing: str = ""  # why there is no address, for the incident

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
    limits: Limits = LIMITS

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
        template = self.env.get_template(name)
        try:
            render_limited(template, {k: v for k, v in sample_variables().items() if k in kind.variables}, self.limits)
        except Exception as exc:  # refused here, where a person sees the file, not at a notice's turn
            failed = RenderFailed(filename or name, _template_line(exc, template), exc)
            raise DefinitionError(
                f"{kind.key} ({kind.name}) fails when rendered with sample data: {failed.error}",
                failed.filename,
                failed.line,
                1,
            ) from None
        return template

    def render(self, key: str, variables: Mapping[str, Any]) -> Rendered:
        """Render notice type *key* under the render limits; only the type's declared variables are
        passed to its templates. Raises :class:`RenderFailed` naming the template that failed."""
        kind = self.types[key]
        given = {k: variables.get(k) for k in kind.variables}
        parts = {part: self._render_part(key, part, given) for part in self._parts(key)}
        # One line whatever the item's text holds: a line break in a mail header is refused (or, in a
        # folder-delivered notice, would start a header of its own).
        subject = " ".join(parts["subject.txt"].strip().splitlines())
        # Every notice has an HTML alternative: the type's own body.html, or its text in the HTML layout.
        return Rendered(subject, parts["body.txt"], parts.get("body.html") or text_html(subject, parts["body.txt"]))

    def _render_part(self, key: str, part: str, given: Mapping[str, Any]) -> str:
        template = self._templates[(key, part)]
        try:
            return render_limited(template, given, self.limits)
        except Exception as exc:  # a template's error of any kind fails this notice, nothing else
            raise RenderFailed(template.filename or f"{key}/{part}", _template_line(exc, template), exc) from exc

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
        sink = Outbox()
        sink.add(self.rows(cause, key, item_id, recipients, variables, now))
        return sink.write(conn)

    def rows(
        self,
        cause: str,
        key: str,
        item_id: int | None,
        recipients: list[Recipient],
        variables: Mapping[str, Any],
        now: dt.datetime,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The outbox rows of notice *key* to *recipients*, rendered, keyed by cause and recipient, and
        the incidents to record with them: a recipient without an address gets a held notice and a
        ``missing_contact`` incident, a notice that cannot be rendered a ``render_failed`` incident."""
        rows: list[dict[str, Any]] = []
        incidents: list[dict[str, Any]] = []
        for r in recipients:
            notice_key = make_key(cause, key, r.role, r.unit, r.name)
            try:
                rendered = self.render(key, {**variables, "recipient": r.as_variable()})
            except RenderFailed as exc:
                message = f"{key} ({self.types[key].name}) to {r.name}: {exc}"
                incidents.append(incident_row(item_id, "render_failed", message, now))
                continue
            rows.append(
                {
                    "key": notice_key,
                    "item_id": item_id,
                    "type": key,
                    "channel": channel_of(r.address) if r.address else "",
                    "recipient": r.name,
                    "role": r.role,
                    "unit": r.unit,
                    "address": r.address,
                    "subject": rendered.subject,
                    "body_text": rendered.text,
                    "body_html": rendered.html,
                    "cause": cause,
                    "status": "queued" if r.address else "held",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "queued_at": now,
                }
            )
            if not r.address:
                message = f"{key}: {r.missing}; the notice is held until the address is added"
                incidents.append(incident_row(item_id, "missing_contact", message, now, notice_key))
        return rows, incidents


def _template_line(exc: BaseException, template: jinja2.Template) -> int:
    """The template line *exc* was raised at: Jinja rewrites tracebacks to name the template's lines."""
    line = getattr(exc, "lineno", None) or 0
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class RenderFailed(Exception):
    """A notice template failed when rendered: ``str()`` names the file, the line and the error."""

    def __init__(self, filename: str, line: int, error: BaseException) -> None:
        self.filename, self.line, self.error = filename, line, error
        what = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        super().__init__(f"{filename}:{line}: {what}")


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
) -> list[Recipient]:
    """Who *roles* are for this item: each unit's chain of responsibility, its deputies, the office.
    A recipient without an address has ``address == ""`` and says in ``missing`` why."""
    found: list[Recipient] = []
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
                address = str((party.get("contacts") or {}).get(role) or "")
                missing = "" if address else f"{unit} has no address for its {ROLE_LABELS[role]} ({role})"
                found.append(Recipient(party.get(role) or unit, role, unit, address, missing))
        elif role == "deputy":
            lead = data.get("lead_deputy") or (proposers[0] if proposers else None)
            if lead:
                address = str(((parties.get(("deputy", lead)) or {}).get("contacts") or {}).get("address") or "")
                found.append(
                    Recipient(str(lead), "deputy", None, address, "" if address else f"deputy {lead} has no address")
                )
        else:  # supervising_leader falls back to the office that runs the supervision
            leader = named.get(role) or None
            contact = ((parties.get(("leader", leader)) or {}).get("contacts") or {}).get("address") if leader else None
            if contact:
                found.append(Recipient(str(leader), role, None, str(contact)))
            else:
                missing = f"no address for the {ROLE_LABELS[role]} ({role}); set office_address"
                who, as_role = (str(leader), role) if leader else ("办公室", "office")
                found.append(Recipient(who, as_role, None, office_address or "", "" if office_address else missing))
    return found


def record_incidents(conn: sa.Connection, item_id: int | None, problems: list[str], now: dt.datetime) -> None:
    _INSERT_INCIDENT.execute_many(conn, [incident_row(item_id, "missing_contact", p, now) for p in problems])


def incident_row(
    item_id: int | None, kind: str, message: str, now: dt.datetime, notice_key: str | None = None
) -> dict[str, Any]:
    """An incident to insert; *notice_key* names the notice (written before it) that it is about."""
    return {
        "item_id": item_id,
        "w_key": notice_key,
        "kind": kind,
        "message": message,
        "at": now,
        "resolved_at": None,
        "note": None,
    }


@dataclass
class Outbox:
    """Notices and incidents gathered for a whole batch of items, written with one statement each."""

    notices: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)

    def add(self, produced: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> int:
        """Gather what :meth:`Notices.rows` produced; returns how many notices that was."""
        self.notices += produced[0]
        self.incidents += produced[1]
        return len(produced[0])

    def write(self, conn: sa.Connection) -> int:
        """Insert what was gathered, notices first (held notices' incidents name them); returns how
        many notices were new."""
        new = insert_notices(conn, self.notices)
        _INSERT_INCIDENT.execute_many(conn, self.incidents)
        return new


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
            "state_label": plain(state_label),
            "key_supervised": item["key_supervised"],
            "supervising_leader": d.get("supervising_leader"),
            "case_leader": d.get("case_leader"),
        },
        "units": [{"name": name, "role_label": _UNIT_ROLE.get(role, role)} for name, role in units],
        "deadline": None
        if deadline is None
        else {
            "label": plain(deadline["label"]),
            "due": deadline["due"],
            "explanation": deadline["explanation"],
            "level": level,
            "provisional": deadline["provisional"],
        },
        "reply": reply,
        "evaluation": {"result_label": _RESULT.get(d.get("result", ""), ""), "comment": data.get("comment")},
        "extension": {"period": cn_period(data.get("period", "")), "due": deadline["due"] if deadline else None},
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
    recipients = resolve(conn, roles, units, item, settings.office_address, lookup)
    if not recipients:  # the variables cost a few queries: only gathered for someone to tell
        return 0
    try:
        base = {**variables(), "office": settings.office_name, "sent_on": beijing_date(now)}
    except Exception as exc:  # the item's data cannot be shown: this notice fails, the fire or sweep goes on
        log.exception("notice %s for item %s: its variables failed", kind, item["id"])
        message = f"{kind}: the item's data could not be prepared for the notice: {type(exc).__name__}: {exc}"
        produced: tuple[list[dict[str, Any]], list[dict[str, Any]]] = (
            [],
            [incident_row(item["id"], "render_failed", message[:500], now)],
        )
    else:
        produced = notices.rows(cause, kind, item["id"], recipients, base, now)
    if sink is None:
        sink = Outbox()
        sink.add(produced)
        return sink.write(conn)
    return sink.add(produced)


def report_overdue(conn: sa.Connection, notices: Notices, settings: Settings, now: dt.datetime) -> int:
    """Queue one 逾期通报 listing every overdue open deadline, to the office, once per day."""
    from workflow.deadlines import deadline_query

    today = beijing_date(now)
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
    missing = "" if settings.office_address else "no office_address to send the 逾期通报 to"
    office = Recipient(settings.office_name, "office", None, settings.office_address or "", missing)
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
