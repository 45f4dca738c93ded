"""duban's built-in guards, conditions and actions, used by the bundled lifecycles.

Each is registered under the name a definition uses. They run inside the fire's transaction,
so anything they write is undone if the fire fails.
"""

from __future__ import annotations

import difflib
from typing import Any

import sqlalchemy as sa

from workflow.audit_rows import record
from workflow.calendar import SHANGHAI
from workflow.errors import ValidationError
from workflow.names import differs, lookalike
from workflow.registry import Context, Registry
from workflow.store import AssignmentRow, ContactRow, DeadlineRow, PartyRow, Prepared, ProblemRow, PromiseRow, VoteRow

REGISTRY = Registry()
guard, condition, action = REGISTRY.guard, REGISTRY.condition, REGISTRY.action

_assignment = AssignmentRow.__table__  # type: ignore[attr-defined]
_contact = ContactRow.__table__  # type: ignore[attr-defined]
_deadline = DeadlineRow.__table__  # type: ignore[attr-defined]
_party = PartyRow.__table__  # type: ignore[attr-defined]
_problem = ProblemRow.__table__  # type: ignore[attr-defined]
_promise = PromiseRow.__table__  # type: ignore[attr-defined]
_vote = VoteRow.__table__  # type: ignore[attr-defined]
LEADS = ("lead", "split")
_INSERT_CONTACT = Prepared(sa.insert(_contact).returning(_contact.c.id), [c.key for c in _contact.c if c.key != "id"])
_UPDATE_ASSIGNMENT = sa.update(_assignment).where(_assignment.c.id == sa.bindparam("w_id"))
_SET_ASSIGNMENT: dict[tuple[str, ...], Prepared] = {}  # one prepared UPDATE per set of columns
_UNIT_NAMES = sa.select(_party.c.name).where(_party.c.role == "unit")
_UNIT_KNOWN = Prepared(sa.select(_party.c.id).where(_party.c.role == "unit", _party.c.name == sa.bindparam("w_name")))


# ---- guards ---------------------------------------------------------------------------------


@guard("lead_deputy_among_proposers")
def _lead_deputy(ctx: Context) -> None:
    proposers, lead = ctx.data.get("proposers", []), ctx.data.get("lead_deputy")
    if len(proposers) > 1 and not lead:
        raise ValidationError(
            "lead_deputy",
            f"a jointly signed item ({len(proposers)} proposers) needs a "
            "lead deputy (领衔代表) named among its proposers",
        )
    if lead and lead not in proposers:
        raise ValidationError("lead_deputy", f"{lead!r} is not among the proposers ({', '.join(proposers)})")
    if ctx.actor.role == "deputy" and lead and lead != ctx.actor.party:
        raise ValidationError(
            "lead_deputy",
            f"a deputy submits as the lead deputy (领衔代表) of their own item: {ctx.actor.party!r}, not {lead!r}; "
            "the office registers an item led by another deputy",
        )


@guard("within_reassignment_window")
def _within_window(ctx: Context) -> None:
    """申请调整 only inside the unit's own window: its reassignment_window deadline, computed on the
    official calendar from its 交办 when it was handed the item (the office may still reassign)."""
    d = _deadline.c
    row = ctx.conn.execute(
        sa.select(d.due, d.start_date, d.period)
        .where(
            d.item_id == ctx.item["id"],
            d.clock == "reassignment_window",
            d.subject.in_((f"unit:{ctx.actor.party}", "")),
        )
        .order_by(d.id.desc())
        .limit(1)
    ).first()
    if row is not None and ctx.at.astimezone(SHANGHAI).date() > row.due:
        raise ValidationError(
            "at",
            f"the reassignment window (申请调整期限, {row.period} from 交办 {row.start_date}) closed on "
            f"{row.due}; the office can still reassign (reassign) on its own authority",
        )


@guard("units_valid")
def _units_valid(ctx: Context) -> None:
    lead, split = ctx.data.get("lead_unit"), ctx.data.get("split_units", [])
    if bool(lead) == bool(split):
        raise ValidationError(
            "lead_unit",
            "name one lead unit (lead_unit, 主办) or split the item among "
            "two or more units (split_units, 分办), not both",
        )
    if split and len(split) < 2:
        raise ValidationError("split_units", "splitting an item (分办) needs at least two units")
    leads = [lead] if lead else split
    for i, unit in enumerate(ctx.data.get("co_units", [])):
        if unit in leads:
            raise ValidationError(f"co_units[{i}]", f"{unit!r} is already a lead unit of this item")
    named = [("lead_unit", lead)] if lead else [(f"split_units[{i}]", u) for i, u in enumerate(split)]
    named += [(f"co_units[{i}]", u) for i, u in enumerate(ctx.data.get("co_units", []))]
    for field, unit in named:
        if _UNIT_KNOWN.first(ctx.conn, {"w_name": unit}) is None:
            known = ctx.conn.execute(_UNIT_NAMES).scalars().all()
            if (alike := lookalike(unit, known)) is not None:  # ⺠ for 民, Cyrillic о for o: another name
                hint = f"it only looks like the registered {alike!r}{differs(unit, alike)}; "
            else:
                close = difflib.get_close_matches(unit, known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValidationError(
                field, f"unknown unit {unit!r}; {hint}register it first (Engine.add_party / duban party add unit NAME)"
            )


@guard("co_opinions_complete")
def _co_opinions(ctx: Context) -> None:
    waiting = [a["unit"] for a in ctx.assignments if a["role"] == "co" and a["state"] != "opinion_given"]
    if waiting:
        raise ValidationError(
            "co_units",
            f"waiting for the opinion of {', '.join(waiting)} (协办); the lead "
            "unit replies after every co-handling unit has given its opinion",
        )


@guard("promises_for_bc")
def _promises(ctx: Context) -> None:
    promises = ctx.data.get("promises", [])
    if ctx.data.get("category") in ("B", "C") and not promises:
        raise ValidationError(
            "promises",
            f"a category {ctx.data['category']} reply needs at least one "
            'promise (承诺事项) with a date: [{"what": ..., "by": "YYYY-MM-DD"}]',
        )
    for i, p in enumerate(promises):
        if p["by"] < ctx.today:
            raise ValidationError(
                f"promises[{i}].by", f"{p['by']} is before the reply date {ctx.today} (the Beijing date of the reply)"
            )


@guard("part_not_replied")
def _part_not_replied(ctx: Context) -> None:
    # A split unit's part is replied once per round: a second reply would overwrite the first one's
    # category while the first one's promises keep their clocks. A re-handling round reopens the parts.
    own = ctx.own_assignment()
    if own is not None and own["role"] == "split" and own["state"] == "replied":
        when = _replies(ctx).get(own["unit"], {}).get("at", "?")
        raise ValidationError(
            "actor",
            f"{ctx.actor.party!r} already replied its part (分办) of item {ctx.item['id']} in round "
            f"{ctx.round} at {when}; a part is replied once per round (it may reply again after re-handling)",
        )


@guard("problem_on_list")
def _problem_on_list(ctx: Context) -> None:
    _problem_row(ctx, ctx.data["problem"])


@guard("promise_of_item")
def _promise_of_item(ctx: Context) -> None:
    row = ctx.conn.execute(
        sa.select(_promise.c.id).where(_promise.c.id == ctx.data["promise"], _promise.c.item_id == ctx.item["id"])
    ).first()
    if row is None:
        raise ValidationError("promise", f"item {ctx.item['id']} has no promise {ctx.data['promise']}")


@guard("plan_covers_problems")
def _plan(ctx: Context) -> None:
    numbers = set(ctx.conn.execute(sa.select(_problem.c.number).where(_problem.c.item_id == ctx.item["id"])).scalars())
    seen: set[int] = set()
    for i, m in enumerate(ctx.data["measures"]):
        if m["problem"] not in numbers:
            raise ValidationError(
                f"measures[{i}].problem",
                f"there is no problem {m['problem']} on the list (problems {', '.join(map(str, sorted(numbers)))})",
            )
        if m["problem"] in seen:
            raise ValidationError(f"measures[{i}].problem", f"problem {m['problem']} has two measures")
        seen.add(m["problem"])
    if missing := sorted(numbers - seen):
        raise ValidationError(
            "measures",
            f"the rectification list (整改清单) needs a measure for every problem; "
            f"missing: {', '.join(map(str, missing))}",
        )


@guard("votes_cast")
def _votes_cast(ctx: Context) -> None:
    if _total(ctx) == 0:
        raise ValidationError("satisfied", "no votes were cast; give the counts of 满意, 基本满意 and 不满意")


# ---- conditions -----------------------------------------------------------------------------


@condition("all_leads_accepted")
def _all_accepted(ctx: Context) -> bool:
    return all(a["state"] != "assigned" or a["unit"] == ctx.actor.party for a in ctx.assignments if a["role"] in LEADS)


@condition("other_replies_outstanding")
def _outstanding(ctx: Context) -> bool:
    return any(a["state"] != "replied" and a["unit"] != ctx.actor.party for a in ctx.assignments if a["role"] in LEADS)


@condition("vote_unsatisfactory")
def _unsatisfactory(ctx: Context) -> bool:
    return bool(ctx.data["unsatisfied"] > ctx.params["unsatisfactory_share"] * _total(ctx))


# ---- actions --------------------------------------------------------------------------------


@action("open_assignments")
def _open(ctx: Context) -> None:
    lead = ctx.data.get("lead_unit")
    rows = [(lead, "lead")] if lead else [(u, "split") for u in ctx.data.get("split_units", [])]
    rows += [(u, "co") for u in ctx.data.get("co_units", [])]
    ctx.insert(
        _assignment,
        [
            {
                "unit": u,
                "role": r,
                "state": "assigned",
                "active": True,
                "opinion": None,
                "reply": {},
                "assigned_at": ctx.at,
                "updated_at": ctx.at,
            }
            for u, r in rows
        ],
    )
    ctx._assignments = None


@action("reassign_units")
def _reassign(ctx: Context) -> None:
    _set_active(ctx, sa.true(), active=False, state="released")
    _open(ctx)


@action("request_reassignment")
def _request(ctx: Context) -> None:
    _set_own(ctx, state="reassignment_requested")


@action("refuse_reassignment")
def _refuse(ctx: Context) -> None:
    _set_active(ctx, _assignment.c.state == "reassignment_requested", state="assigned")


@action("accept_assignment")
def _accept(ctx: Context) -> None:
    own = ctx.own_assignment()
    if own is not None and own["state"] == "assigned":
        _set_own(ctx, state="accepted")


@action("record_contact")
def _contact_row(ctx: Context) -> None:
    row = {
        "item_id": ctx.item["id"],
        "unit": ctx.actor.party,
        "stage": ctx.data["stage"],
        "method": ctx.data["method"],
        "contacted_on": ctx.data.get("contacted_on", ctx.today),
        "note": ctx.data.get("note"),
        "recorded_at": ctx.at,
    }
    record(ctx.effects, _contact.name, _INSERT_CONTACT.execute(ctx.conn, row).fetchone()[0], row)


@action("record_co_opinion")
def _co_opinion(ctx: Context) -> None:
    _set_own(ctx, state="opinion_given", opinion=ctx.data["opinion"])


@action("record_reply")
def _reply(ctx: Context) -> None:
    own = ctx.own_assignment()
    replies = _replies(ctx)  # the fire's assignments leave the replies out: read only on a reply
    before = replies.get(own["unit"], {}) if own is not None else {}
    reply = {k: ctx.data.get(k) for k in ("category", "text", "signer")} | {
        "round": ctx.round,
        "at": ctx.at.isoformat(),
        # 按期答复率 counts the first reply (代表法第51条), which a re-handling round's reply replaces
        "first_at": before.get("first_at") or before.get("at") or ctx.at.isoformat(),
    }
    _set_own(ctx, state="replied", reply=reply)
    if own is not None and own["role"] == "split":
        # A split item has no single category: each part keeps its own (data.part_categories, in the
        # order the parts were assigned), and data.category is not the last part's overwrite.
        replies[own["unit"]] = reply
        parts = {a["unit"]: replies.get(a["unit"], {}).get("category") for a in ctx.assignments if a["role"] == "split"}
        data = {k: v for k, v in ctx.item["data"].items() if k != "category"}
        ctx.updates["data"] = data | {"part_categories": {u: c for u, c in parts.items() if c}}
    ctx.created["promises"] = ctx.insert(
        _promise,
        [
            {"unit": ctx.actor.party, "what": p["what"], "by": p["by"], "status": "open", "round": ctx.round}
            for p in ctx.data.get("promises", [])
        ],
    )


@action("next_round")
def _next_round(ctx: Context) -> None:
    ctx.updates["round"] = ctx.round + 1


@action("reopen_lead_assignments")
def _reopen_leads(ctx: Context) -> None:
    _set_active(ctx, _assignment.c.role.in_(LEADS), state="accepted")


@action("mark_key_supervised")
def _key(ctx: Context) -> None:
    ctx.updates["key_supervised"] = True


@action("verify_promise")
def _verify(ctx: Context) -> None:
    ctx.update(
        _promise,
        _promise.c.id == ctx.data["promise"],
        status=ctx.data["outcome"],
        note=ctx.data.get("note"),
        verified_at=ctx.at,
    )


@action("record_problems")
def _problems(ctx: Context) -> None:
    ctx.insert(
        _problem,
        [
            {"number": n, "title": p["title"], "status": "open", "updated_at": ctx.at}
            for n, p in enumerate(ctx.data["problems"], start=1)
        ],
    )


@action("record_rectification_plan")
def _plan_rows(ctx: Context) -> None:
    for m in ctx.data["measures"]:
        ctx.update(
            _problem,
            _problem.c.number == m["problem"],
            measure=m["measure"],
            owner=m["owner"],
            due=m["due"],
            status="planned",
            updated_at=ctx.at,
        )


@action("update_problem")
def _update_problem(ctx: Context) -> None:
    ctx.update(
        _problem,
        _problem.c.id == _problem_row(ctx, ctx.data["problem"])["id"],
        status=ctx.data.get("status", "closed"),
        note=ctx.data.get("note"),
        updated_at=ctx.at,
    )


@action("record_vote")
def _vote_row(ctx: Context) -> None:
    ctx.insert(
        _vote,
        [
            {
                "round": ctx.round,
                "satisfied": ctx.data["satisfied"],
                "basically_satisfied": ctx.data["basically_satisfied"],
                "unsatisfied": ctx.data["unsatisfied"],
                "result": "unsatisfactory" if _unsatisfactory(ctx) else "satisfactory",
                "at": ctx.at,
            }
        ],
    )


# ---- helpers --------------------------------------------------------------------------------


def _set_own(ctx: Context, **values: Any) -> None:
    own = ctx.own_assignment()
    if own is None:  # the roles check lets only assigned units this far
        raise ValidationError("actor", f"{ctx.actor.party!r} has no assignment on item {ctx.item['id']}")
    columns = (*sorted(values), "updated_at")
    update = _SET_ASSIGNMENT.get(columns) or _SET_ASSIGNMENT.setdefault(columns, Prepared(_UPDATE_ASSIGNMENT, columns))
    update.execute(ctx.conn, {"w_id": own["id"], "updated_at": ctx.at, **values})
    record(ctx.effects, _assignment.name, own["id"], {**values, "updated_at": ctx.at})
    own.update(values, updated_at=ctx.at)  # keep the fire's view of the assignments in step


def _replies(ctx: Context) -> dict[str, dict[str, Any]]:
    """The replies of the item's active lead and split units, by unit."""
    rows = ctx.conn.execute(
        sa.select(_assignment.c.unit, _assignment.c.reply).where(
            _assignment.c.item_id == ctx.item["id"], _assignment.c.active, _assignment.c.role.in_(LEADS)
        )
    )
    return {unit: reply or {} for unit, reply in rows}


def _set_active(ctx: Context, where: sa.ColumnElement[bool], **values: Any) -> None:
    """Update the item's active assignments that match *where*."""
    ctx.update(_assignment, sa.and_(_assignment.c.active, where), updated_at=ctx.at, **values)
    ctx._assignments = None


def _problem_row(ctx: Context, number: int) -> dict[str, Any]:
    row = ctx.conn.execute(
        sa.select(_problem).where(_problem.c.item_id == ctx.item["id"], _problem.c.number == number)
    ).first()
    if row is None:
        raise ValidationError("problem", f"item {ctx.item['id']} has no problem {number} on its list")
    return dict(row._mapping)


def _total(ctx: Context) -> int:
    return int(ctx.data["satisfied"] + ctx.data["basically_satisfied"] + ctx.data["unsatisfied"])


# The office's corrections (void, correct_*) register themselves on import.
from workflow import corrections as _corrections  # noqa: E402, F401
