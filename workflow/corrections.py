"""Undoing mistakes the office's way: voiding an item (作废) and correcting a recorded row.

Nothing is erased. ``void`` moves an item entered by mistake to the final state ``voided``: its audit
chain stays as it was, with the void and its reason as one more row, and the follow-up report leaves
it out of every figure and ledger (:data:`VOIDED`, read by :class:`workflow.report_ledgers.Scope`).
A correction (``correct_contact``, ``correct_promise``, ``correct_evaluation``, ``correct_vote``) is
its own event: the original event's audit row is never touched; the correction's row records the
values it replaced (``was``) beside the new ones and its reason, and the row the figures are computed
from is updated through :meth:`~workflow.registry.Context.update`, so ``duban audit verify``
re-derives it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from workflow.errors import ValidationError
from workflow.model import VOIDED, plain
from workflow.registry import Context
from workflow.rules import REGISTRY
from workflow.store import ContactRow, PromiseRow, VoteRow

__all__ = ["VOIDED"]

_contact = ContactRow.__table__  # type: ignore[attr-defined]
_promise = PromiseRow.__table__  # type: ignore[attr-defined]
_vote = VoteRow.__table__  # type: ignore[attr-defined]
_SATISFIED = ("satisfied", "basically_satisfied")
_VOTE_LABELS = {"satisfactory": "满意", "unsatisfactory": "不满意"}


@REGISTRY.action("void_item")
def _void(ctx: Context) -> None:
    """Keep the reason on the item, where ``duban list --voided`` and ``duban show`` read it."""
    ctx.updates["data"] = {**ctx.item["data"], "void_reason": ctx.data["reason"], "voided_from": ctx.state}


@REGISTRY.action("correct_contact")
def _correct_contact(ctx: Context) -> None:
    _correct(ctx, _contact, "contact", ("stage", "method", "contacted_on", "note"), "联系记录")


@REGISTRY.action("correct_promise")
def _correct_promise(ctx: Context) -> None:
    _correct(ctx, _promise, "promise", ("what", "by"), "承诺事项")


@REGISTRY.action("correct_vote")
def _correct_vote(ctx: Context) -> None:
    """A miscounted 满意度测评: the counts are corrected; the result they decided (and the state the item
    moved to on it) must stay what it was."""
    row = _row(ctx, _vote, "vote", "测评")
    counts = {k: ctx.data.get(k, row[k]) for k in ("satisfied", "basically_satisfied", "unsatisfied")}
    total = sum(counts.values())
    given = [k for k in counts if k in ctx.data] or ["satisfied"]
    if total == 0:
        raise ValidationError(given[0], "the corrected counts add up to no votes; give the counts of the votes cast")
    result = "unsatisfactory" if counts["unsatisfied"] > ctx.params["unsatisfactory_share"] * total else "satisfactory"
    if result != row["result"]:
        raise ValidationError(
            given[0],
            f"the corrected counts make the vote {_VOTE_LABELS[result]} where it was recorded "
            f"{_VOTE_LABELS.get(row['result'], row['result'])}, and the item moved on that result; a correction "
            "keeps the result: if the result itself was wrong, void the item (void) and enter it again",
        )
    _write(ctx, _vote, row, {**counts, "result": result})


@REGISTRY.action("correct_evaluation")
def _correct_evaluation(ctx: Context) -> None:
    """A deputy's rating (测评) recorded wrong: the item's result or attitude is corrected. 不满意 sends an
    item back for re-handling, so a correction may not move the result across it."""
    data = ctx.item["data"]
    if "result" not in data:
        raise ValidationError("result", f"item {ctx.item['id']} has no rating (测评) to correct")
    old = {k: data.get(k) for k in ("result", "attitude") if k in ctx.data}
    new = {k: ctx.data[k] for k in old if ctx.data[k] != data.get(k)}
    if not new:
        raise ValidationError(
            next(iter(old), "result"),
            "nothing to correct: give result or attitude with a value other than the recorded one",
        )
    if "result" in new and (new["result"] in _SATISFIED) != (data["result"] in _SATISFIED):
        raise ValidationError(
            "result",
            f"{data['result']} → {new['result']} would change whether the item is re-handled (不满意 sends it back); "
            "a correction keeps that: reopen the item (reopen) to re-handle it",
        )
    ctx.updates["data"] = {**data, **new}
    ctx.data["was"] = plain({k: old[k] for k in new})


def _correct(ctx: Context, table: sa.Table, name: str, columns: tuple[str, ...], what: str) -> None:
    row = _row(ctx, table, name, what)
    given = {c: ctx.data[c] for c in columns if c in ctx.data}
    if not given:
        raise ValidationError(name, f"nothing to correct: give the corrected value of {', '.join(columns)}")
    _write(ctx, table, row, given)


def _write(ctx: Context, table: sa.Table, row: dict[str, Any], values: dict[str, Any]) -> None:
    changed = {c: v for c, v in values.items() if v != row[c]}
    if not changed:
        field = next(iter(values))
        raise ValidationError(field, f"nothing to correct: {field} is already {plain(row[field])!r}")
    ctx.update(table, table.c.id == row["id"], **changed)
    ctx.data["was"] = plain({c: row[c] for c in changed})


def _row(ctx: Context, table: sa.Table, name: str, what: str) -> dict[str, Any]:
    """The item's row the correction names by its id (as ``duban show`` lists them), or a ValidationError."""
    wanted = ctx.data[name]
    rows = {
        r["id"]: dict(r) for r in ctx.conn.execute(sa.select(table).where(table.c.item_id == ctx.item["id"])).mappings()
    }
    if wanted not in rows:
        have = f"its {what} ids are {', '.join(map(str, sorted(rows)))}" if rows else f"it has no {what} recorded"
        raise ValidationError(
            name, f"item {ctx.item['id']} has no {what} {wanted}; {have} (see duban show {ctx.item['id']})"
        )
    return rows[wanted]
