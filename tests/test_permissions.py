"""Permissions: every trigger of every lifecycle tried by every kind of actor, and what each actor sees.

The matrix below is the contract, written out by hand. One test checks it against the YAML ``roles``
(so editing a definition without updating the table fails), another fires every cell against the
engine in every state the trigger may fire from (so the engine's own rules about *which* unit or
deputy cannot drift either). The trigger list is read from the loaded definitions: a new trigger
fails the table check until it has a row, and is then tried like the others.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from typing import Any

import pytest
from conftest import snapshot, unit

from workflow import Actor, BatchError, Engine, Item, NotFound, PermissionDenied, WorkflowError
from workflow.cli import main
from workflow.definition import ROLES, Definition, TransitionSpec
from workflow.fields import FieldSpec

LEAD, CO, OTHER = "市交通运输局", "市民政局", "市住房和城乡建设局"
DEPUTY, CO_SIGNER, OTHER_DEPUTY = "王芳", "张伟", "李强"

#: The columns of the matrix: who tries each trigger. A suggestion is proposed jointly by DEPUTY (who
#: leads it) and CO_SIGNER; every item is assigned to LEAD with CO as co-unit, never to OTHER.
ACTORS = {
    "office": Actor("office"),
    "leader": Actor("leader"),
    "committee": Actor("committee"),
    "system": Actor("system"),
    "lead unit": unit(LEAD),
    "co-unit": unit(CO),
    "other unit": unit(OTHER),
    "deputy": Actor("deputy", DEPUTY),
    "co-signer": Actor("deputy", CO_SIGNER),
    "other deputy": Actor("deputy", OTHER_DEPUTY),
}

#: The expected matrix: trigger → the columns allowed to fire it; every other column is denied. A
#: trigger defined more than once with different rules is split by its first source state.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "suggestion": {
        "submit": {"office", "deputy", "co-signer"},
        "register": {"office"},
        "reject": {"office"},
        "assign": {"office"},
        "request_reassignment": {"lead unit", "co-unit"},
        "reassign from reassignment_requested": {"office"},
        "reassign from rehandling": {"office"},
        "refuse_reassignment": {"office"},
        "accept from assigned": {"lead unit", "co-unit"},
        "accept from handling": {"co-unit"},
        "record_contact": {"lead unit", "co-unit"},
        "submit_co_opinion": {"co-unit"},
        "request_extension": {"lead unit"},
        "approve_extension": {"office"},
        "refuse_extension": {"office"},
        "reply": {"lead unit"},
        "evaluate": {"office", "system", "deputy"},
        "close": {"office"},
        "verify_commitment": {"office"},
        "reopen": {"office", "leader"},
        "withdraw": {"office", "deputy"},
        "designate_key": {"leader"},
        "void": {"office"},
        "correct_contact": {"office"},
        "correct_promise": {"office"},
        "correct_evaluation": {"office"},
    },
    "review_opinion": {
        "submit": {"office", "committee"},
        "approve": {"leader"},
        "assign": {"office"},
        "submit_rectification_plan": {"lead unit"},
        "update_problem": {"lead unit"},
        "close_problem": {"office", "committee"},
        "submit_report": {"lead unit"},
        "deliberate": {"committee"},
        "vote": {"committee"},
        "order_second_review": {"leader", "committee"},
        "refer_accountability": {"leader"},
        "close": {"office"},
        "reopen": {"office", "leader"},
        "designate_key": {"leader"},
        "void": {"office"},
        "correct_vote": {"office"},
    },
}

#: Which columns hold each role a definition may name, on the items this test builds: the engine's
#: rule that a unit acts only on an item assigned to it (lead or co) and a deputy only on their own.
HOLDERS = {
    "office": {"office"},
    "leader": {"leader"},
    "committee": {"committee"},
    "system": {"system"},
    "assigned_unit": {"lead unit", "co-unit"},
    "lead_unit": {"lead unit"},
    "co_unit": {"co-unit"},
    "proposer": {"deputy", "co-signer"},
    "lead_deputy": {"deputy"},
}
DEPUTY_COLUMNS = {"deputy", "co-signer", "other deputy"}

Data = dict[str, Any]
#: Data for a trigger where the sample built from its fields would not pass its guards.
DATA: dict[tuple[str, str], Data | Callable[[Engine, int], Data]] = {
    ("suggestion", "submit"): {"proposers": [DEPUTY, CO_SIGNER], "lead_deputy": DEPUTY},
    ("suggestion", "assign"): {"lead_unit": LEAD, "co_units": [CO]},
    ("suggestion", "reassign"): {"lead_unit": LEAD, "co_units": [CO]},
    ("suggestion", "reply"): {"category": "B", "promises": [{"what": "公布清单", "by": "2026-12-31"}]},
    ("suggestion", "verify_commitment"): lambda eng, item_id: {"promise": eng.get(item_id).promises[0]["id"]},
    ("review_opinion", "assign"): {"lead_unit": LEAD, "co_units": [CO], "problems": [{"title": "问题1"}]},
    ("review_opinion", "vote"): {"satisfied": 30, "basically_satisfied": 5, "unsatisfied": 2},
    ("suggestion", "correct_contact"): lambda eng, item_id: {
        "contact": eng.get(item_id).contacts[0]["id"],
        "note": "更正",
    },
    ("suggestion", "correct_promise"): lambda eng, item_id: {
        "promise": eng.get(item_id).promises[0]["id"],
        "what": "更正",
    },
    ("suggestion", "correct_evaluation"): {"result": "basically_satisfied"},
    ("review_opinion", "correct_vote"): lambda eng, item_id: {
        "vote": eng.get(item_id).votes[0]["id"],
        "satisfied": eng.get(item_id).votes[0]["satisfied"] + 1,
    },
}
#: Data that takes a branch guarded by a registered condition (``when:`` branches are read from the YAML).
BRANCH_DATA: dict[tuple[str, str, str], Data] = {
    ("review_opinion", "vote", "vote_failed"): {"satisfied": 5, "basically_satisfied": 5, "unsatisfied": 30},
}
#: Fires a trigger needs first, by whoever may fire them: the lead unit replies after the co-units' opinions.
PREPARE: dict[tuple[str, str], tuple[str, ...]] = {("suggestion", "reply"): ("submit_co_opinion",)}
#: A fire a trigger needs at some earlier point of the walk: fired at the first state on it that allows it
#: (a contact to correct is recorded while the item is assigned, before it can be closed).
EARLY: dict[tuple[str, str], str] = {("suggestion", "correct_contact"): "record_contact"}
#: A state the walk to a source state must pass through: a closed opinion with a vote to correct.
VIA: dict[tuple[str, str, str], str] = {("review_opinion", "correct_vote", "closed"): "vote_passed"}


def sample(fields: tuple[FieldSpec, ...]) -> Data:
    """A valid value for every required field, from its type alone."""
    return {f.name: _value(f) for f in fields if f.required}


def _value(f: FieldSpec) -> Any:
    count = max(1, f.min_items)
    simple = {
        "string": "测试",
        "text": "测试说明",
        "integer": max(1, int(f.min or 0)),
        "number": max(1.0, float(f.min or 0)),
        "boolean": True,
        "date": "2026-12-31",
        "period": "1 month",
        "choice": f.choices[0] if f.choices else None,
        "list": [f"测试{n}" for n in range(count)],
    }
    return [sample(f.fields) for _ in range(count)] if f.type == "records" else simple[f.type]


def columns(roles: tuple[str, ...], defn: Definition) -> set[str]:
    """The columns allowed by a definition's ``roles`` list."""
    allowed = set().union(*(HOLDERS[r] for r in roles))
    deputies = any(f.name == "proposers" for f in defn.submit.fields)  # items with no proposers have no deputy
    return allowed if deputies else allowed - DEPUTY_COLUMNS


def rows(defn: Definition) -> dict[str, TransitionSpec | None]:
    """The matrix rows of a definition: ``submit`` (None), then each trigger (split when defined twice)."""
    specs: dict[str, list[TransitionSpec]] = {}
    for t in defn.transitions:
        specs.setdefault(t.trigger, []).append(t)
    out: dict[str, TransitionSpec | None] = {"submit": None}
    for trigger, found in specs.items():
        for t in found:
            out[trigger if len(found) == 1 else f"{trigger} from {t.sources[0]}"] = t
    return out


class Lab:
    """Builds items in any state of a lifecycle: a breadth-first search over its transitions from the
    initial state, each step fired with sample data by someone allowed to fire it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.fires = 0
        self._paths: dict[tuple[str, str], list[tuple[TransitionSpec, str, Data]]] = {}

    def data(self, kind: str, trigger: str, fields: tuple[FieldSpec, ...], item_id: int | None) -> Data:
        extra = DATA.get((kind, trigger), {})
        if callable(extra):
            assert item_id is not None
            extra = extra(self.engine, item_id)
        return sample(fields) | extra

    def actor(self, roles: tuple[str, ...], defn: Definition) -> Actor:
        """The first column (in ACTORS order) a spec allows: someone who may fire it."""
        allowed = columns(roles, defn)
        return next(ACTORS[c] for c in ACTORS if c in allowed)

    def path(self, kind: str, state: str, start: str | None = None) -> list[tuple[TransitionSpec, str, Data]]:
        """The shortest walk from submission (or *start*) to *state*: (transition, state it leads to, branch data)."""
        if start is not None or (kind, state) not in self._paths:
            defn = self.engine.definition(kind)
            first = start or defn.initial
            seen: dict[str, list[tuple[TransitionSpec, str, Data]]] = {first: []}
            queue = deque([first])
            while queue:
                here = queue.popleft()
                for t in defn.transitions:
                    if here not in t.sources:
                        continue
                    outs: list[tuple[str | None, Data]] = [(t.dest, {})] + [
                        (b.dest, {k: v[0] for k, v in b.when.items()}) for b in t.branches
                    ]
                    for dest, when in outs:
                        if dest is not None and dest not in seen:
                            extra = when | BRANCH_DATA.get((kind, t.trigger, dest), {})
                            seen[dest] = [*seen[here], (t, dest, extra)]
                            queue.append(dest)
            assert state in seen, f"{kind}: no path to {state}"
            if start is not None:
                return seen[state]
            self._paths.update({(kind, s): p for s, p in seen.items()})
        return self._paths[(kind, state)]

    def submit_fields(self, kind: str) -> tuple[FieldSpec, ...]:
        return self.engine.definition(kind).submit.fields

    def submit(self, kind: str) -> Item:
        self.fires += 1
        return self.engine.submit(kind, **self.data(kind, "submit", self.submit_fields(kind), None))

    def fire(self, item: Item, t: TransitionSpec, actor: Actor | None = None, extra: Data | None = None) -> Item:
        """Fire *t* on *item* with its sample data (after the fires it needs first); *actor* default: one allowed."""
        defn = self.engine.definition(item.kind)
        item = self.prepare(item, t.trigger)
        data = self.data(item.kind, t.trigger, t.fields, item.id) | (extra or {})
        self.fires += 1
        return self.engine.fire(item.id, t.trigger, actor=actor or self.actor(t.roles, defn), data=data)

    def probe(self, kind: str, state: str, t: TransitionSpec) -> Item:
        """A new item of *kind* in *state*, with whatever *t* needs done first already done."""
        item = self.submit(kind)
        via = VIA.get((kind, t.trigger, state))
        walk = self.path(kind, via) + self.path(kind, state, via) if via else self.path(kind, state)
        early = EARLY.get((kind, t.trigger))
        for step, dest, extra in walk:
            item = self.fire(item, step, extra=extra)
            assert item.state == dest, f"{kind}: {step.trigger} led to {item.state}, not {dest}; add a recipe"
            spec = self.engine.definition(kind).transition(item.state, early) if early else None
            if spec is not None:
                item, early = self.fire(item, spec), None
        return self.prepare(item, t.trigger)

    def prepare(self, item: Item, trigger: str) -> Item:
        """Fire what *trigger* needs done first (PREPARE) on *item*."""
        for name in PREPARE.get((item.kind, trigger), ()):
            before = self.engine.definition(item.kind).transition(item.state, name)
            assert before is not None, f"{name} cannot prepare {trigger} in {item.state}"
            item = self.fire(item, before)
        return item


def test_the_expected_matrix_is_what_the_definitions_say(engine: Engine) -> None:
    """The permission table written in this test is exactly the one the bundled YAML definitions give:
    the same lifecycles, the same triggers, and for each the same roles; every role a definition
    may name is held by some column."""
    assert set(HOLDERS) == set(ROLES)
    assert set(EXPECTED) == set(engine.kinds)
    for kind in engine.kinds:
        defn = engine.definition(kind)
        derived = {key: columns(defn.submit.roles if t is None else t.roles, defn) for key, t in rows(defn).items()}
        assert derived.keys() == EXPECTED[kind].keys(), f"{kind}: add or remove rows of EXPECTED"
        drift = {key: (EXPECTED[kind][key], derived[key]) for key in derived if derived[key] != EXPECTED[kind][key]}
        assert not drift, f"{kind}: expected vs YAML roles differ: {drift}"


def test_every_trigger_by_every_role(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """Every trigger of both lifecycles, tried by each of office, leader, committee, system, the lead
    unit, a co-unit, a unit not assigned to the item, the proposing deputy, a co-signing deputy and
    another deputy, in every state it may fire from: exactly the cells of the expected matrix
    succeed (and are audited under that actor); every other cell raises PermissionDenied (NotFound,
    worded as for an id that does not exist, where the actor may not see the item) and leaves the
    database as it was."""
    lab = Lab(engine)
    wrong: dict[tuple[str, str, str], list[str]] = {}
    tries = 0
    for kind in engine.kinds:
        for key, t in rows(engine.definition(kind)).items():
            for source in t.sources if t else ("(new)",):
                tries += try_row(lab, kind, key, t, source, wrong)
    triggers = sum(len(EXPECTED[k]) for k in engine.kinds)
    cells = triggers * len(ACTORS)
    allowed = sum(len(v) for k in engine.kinds for v in EXPECTED[k].values())
    with capsys.disabled():
        print(
            f"\npermissions: {triggers} triggers × {len(ACTORS)} roles = {cells} cells, {allowed} allowed, "
            f"{cells - allowed} denied, {len(wrong)} wrong ({tries} tries, each cell in every state its trigger "
            f"fires from; {lab.fires} fires to set them up)"
        )
    assert not wrong, "\n".join(f"{k} {key} as {c}: {'; '.join(why)}" for (k, key, c), why in wrong.items())


def try_row(
    lab: Lab, kind: str, key: str, t: TransitionSpec | None, source: str, wrong: dict[tuple[str, str, str], list[str]]
) -> int:
    """Try one row of the matrix in one source state as every column; record each wrong cell. Returns the tries."""
    engine, allowed = lab.engine, EXPECTED[kind][key]

    def fresh() -> Item | None:
        return None if t is None else lab.probe(kind, source, t)

    def attempt(item: Item | None, column: str) -> Item:
        if t is None or item is None:
            data = lab.data(kind, "submit", lab.submit_fields(kind), None)
            actor = ACTORS[column]
            if actor.role == "deputy" and actor.party in data.get("proposers", ()):
                data["lead_deputy"] = actor.party  # a deputy submits as the lead of their own item
            return engine.submit(kind, actor=actor, **data)
        data = lab.data(kind, t.trigger, t.fields, item.id)
        return engine.fire(item.id, t.trigger, actor=ACTORS[column], data=data)

    def fail(column: str, why: str) -> None:
        wrong.setdefault((kind, key, column), []).append(f"in {source}: {why}")

    def hidden_from(item: Item | None, column: str) -> bool:
        if item is None:
            return False
        try:
            engine.get(item.id, actor=ACTORS[column])
        except NotFound:
            return True
        return False

    probe = fresh()
    before = snapshot(engine)
    for column in (c for c in ACTORS if c not in allowed):
        try:
            attempt(probe, column)
        except PermissionDenied:
            if hidden_from(probe, column):
                fail(column, "PermissionDenied on an item it may not see, which is NotFound")
            continue
        except NotFound as exc:
            if not hidden_from(probe, column) or probe is None or str(exc) != f"no item {probe.id}":
                fail(column, f"NotFound ({exc}) on an item it may see")
            continue
        except WorkflowError as exc:
            fail(column, f"{type(exc).__name__}: {exc}")
        else:
            fail(column, "succeeded")
            probe = fresh()
            before = snapshot(engine)
    # A failed fire can only add or change rows, never undo another's: the database being the same
    # after all the denied cells of the row means each of them left it as it was.
    if snapshot(engine) != before:
        fail("the denied cells", "the database changed")
    for n, column in enumerate(c for c in ACTORS if c in allowed):
        try:
            fired = attempt(probe if n == 0 else fresh(), column)
        except WorkflowError as exc:
            fail(column, f"{type(exc).__name__}: {exc}")
            continue
        actor = engine.get(fired.id).history[-1].actor
        if actor != str(ACTORS[column]):
            fail(column, f"audited as {actor}")
    return len(ACTORS)


# ---- queries on behalf of an actor ----------------------------------------------------------------


def world(engine: Engine) -> dict[str, int]:
    """Five items: *mine* (proposed by DEPUTY with CO_SIGNER, handled by LEAD with CO), *theirs*
    (OTHER_DEPUTY's, handled by OTHER), *fresh* (OTHER_DEPUTY's, not yet assigned), *review* (a review
    opinion handed to LEAD) and *moved* (DEPUTY's alone, assigned to LEAD and then reassigned to OTHER)."""
    office = ACTORS["office"]

    def proposed(*names: str, lead: str | None = None) -> int:
        data: Data = {"title": "关于社区养老的建议", "origin": "session", "proposers": list(names)}
        return engine.submit("suggestion", data=data | ({"lead_deputy": lead} if lead else {})).id

    def assigned(item_id: int, lead: str, co: list[str]) -> None:
        engine.fire(item_id, "register", actor=office)
        engine.fire(item_id, "assign", lead_unit=lead, co_units=co)

    ids = {"mine": proposed(DEPUTY, CO_SIGNER, lead=DEPUTY), "theirs": proposed(OTHER_DEPUTY)}
    ids["fresh"], ids["moved"] = proposed(OTHER_DEPUTY), proposed(DEPUTY)
    assigned(ids["mine"], LEAD, [CO])
    engine.fire(ids["mine"], "accept", actor=unit(LEAD))
    assigned(ids["theirs"], OTHER, [])
    engine.fire(ids["theirs"], "accept", actor=unit(OTHER))
    assigned(ids["moved"], LEAD, [])
    engine.fire(ids["moved"], "request_reassignment", actor=unit(LEAD), reason="不属于本单位职责")
    engine.fire(ids["moved"], "reassign", lead_unit=OTHER)
    review = engine.submit("review_opinion", title="关于执法检查报告的审议意见", basis="inspection")
    engine.fire(review.id, "approve", actor=ACTORS["leader"])
    engine.fire(review.id, "assign", lead_unit=LEAD, problems=[{"title": "问题1"}])
    ids["review"] = review.id
    return ids


#: What each actor sees of the world above (None: no actor given, the unscoped API).
SEES: list[tuple[Actor | None, set[str]]] = [
    (None, {"mine", "theirs", "fresh", "moved", "review"}),
    *((ACTORS[r], {"mine", "theirs", "fresh", "moved", "review"}) for r in ("office", "leader", "committee", "system")),
    (unit(LEAD), {"mine", "moved", "review"}),  # moved: reassigned away, its past assignment stays visible
    (unit(CO), {"mine"}),
    (unit(OTHER), {"theirs", "moved"}),
    (unit("市公安局交通警察支队"), set()),
    (Actor("deputy", DEPUTY), {"mine", "moved"}),
    (Actor("deputy", CO_SIGNER), {"mine"}),
    (Actor("deputy", OTHER_DEPUTY), {"theirs", "fresh"}),
    (Actor("deputy", "王"), set()),  # a name is matched whole: not a prefix of 王芳
    (Actor("deputy", "%"), set()),  # nor a pattern
    (Actor("deputy", '王芳"]'), set()),  # nor a piece of JSON
]


def test_items_on_behalf_of_an_actor_are_only_those_they_may_see(engine: Engine) -> None:
    """``items(actor=…)``: the office, leaders, the committee and the system see every item; a unit
    only the items it has or had an assignment on; a deputy only the items they proposed, jointly or
    alone; the other filters narrow that further."""
    ids = world(engine)
    names = {v: k for k, v in ids.items()}
    for actor, expected in SEES:
        assert {names[i.id] for i in engine.items(actor=actor)} == expected, actor
    assert [i.id for i in engine.items(kind="review_opinion", actor=unit(LEAD))] == [ids["review"]]
    assert [i.id for i in engine.items(state="handling", actor=unit(OTHER))] == [ids["theirs"]]
    assert [i.id for i in engine.items(unit=OTHER, actor=unit(LEAD))] == [ids["moved"]]  # OTHER's now, LEAD's once


def test_get_on_behalf_of_an_actor_hides_what_they_may_not_see(engine: Engine) -> None:
    """``get(id, actor=…)`` of an item the actor may not see raises NotFound with the same message as an
    item that does not exist, so a unit or deputy cannot even learn that it exists; what they may
    see reads back exactly as without an actor."""
    ids = world(engine)
    missing = max(ids.values()) + 1
    with pytest.raises(NotFound) as absent:
        engine.get(missing, actor=unit(LEAD))
    for actor, sees in SEES:
        for name, item_id in ids.items():
            if name in sees:
                assert engine.get(item_id, actor=actor) == engine.get(item_id)
                continue
            with pytest.raises(NotFound) as hidden:
                engine.get(item_id, actor=actor)
            assert str(hidden.value) == str(absent.value).replace(str(missing), str(item_id))


def test_a_unit_cannot_reply_to_or_act_on_an_item_not_assigned_to_it(engine: Engine) -> None:
    """A unit that was never assigned an item is refused every trigger on it with NotFound, as if it did
    not exist; one reassigned away from it (which still sees its history) with PermissionDenied; nothing
    is written, even for a trigger the state allows: it cannot reply for another unit, sign for it, or
    record a contact on it."""
    ids = world(engine)
    before = snapshot(engine)
    attempts: list[tuple[str, str, Actor, Data, type[WorkflowError]]] = [
        ("theirs", "reply", unit(LEAD), {"category": "A", "text": "答复", "signer": "局长"}, NotFound),
        ("theirs", "record_contact", unit(CO), {"stage": "during", "method": "phone"}, NotFound),
        ("moved", "accept", unit(LEAD), {}, PermissionDenied),  # reassigned to OTHER: may no longer sign for it
        ("moved", "record_contact", unit(LEAD), {"stage": "before", "method": "visit"}, PermissionDenied),
        ("mine", "submit_co_opinion", unit(OTHER), {"opinion": "同意"}, NotFound),
        ("review", "submit_rectification_plan", unit(CO), {"measures": []}, NotFound),
    ]
    for name, trigger, actor, data, error in attempts:
        match = f"^no item {ids[name]}$" if error is NotFound else "is not assigned this item"
        with pytest.raises(error, match=match):
            engine.fire(ids[name], trigger, actor=actor, data=data)
    assert snapshot(engine) == before


def test_a_batch_or_a_command_line_fire_on_an_unseen_item_is_not_found_as_a_missing_id_is(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Firing on an item the actor may not see, in a batch (``fire_many``) or with ``duban fire``, fails
    exactly as for an id that does not exist: the same NotFound message and exit status, whatever the
    trigger, the expected version or the data, so neither the item's state, its version nor its
    triggers show; nothing is written."""
    ids = world(engine)
    theirs, missing = ids["theirs"], ids["review"] + 1000
    before = snapshot(engine)
    contact = {"stage": "before", "method": "visit"}
    for target in (theirs, missing):
        batches = [("record_contact", [ids["mine"], target])]  # LEAD may record a contact on its own item
        batches += [(trigger, [target]) for trigger in ("record_contact", "register", "no_such_trigger")]
        for trigger, batch in batches:
            with pytest.raises(BatchError) as caught:
                engine.fire_many(trigger, batch, actor=unit(LEAD), **contact)
            assert isinstance(caught.value.error, NotFound) and caught.value.exit_code == 2
            assert str(caught.value) == f"no item {target} (nothing of the batch of {len(batch)} was written)"

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", db_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    for target in (theirs, missing):
        for extra in ([], ["--expect-version", "1"], ["--set", "stage=before", "--set", "method=visit"]):
            for trigger in ("record_contact", "register"):
                got = run("fire", str(target), trigger, "--actor", f"unit:{LEAD}", *extra)
                assert got == (2, "", f"error: no item {target}\n"), (target, trigger, extra)
    assert run("fire", str(theirs), "evaluate", "--actor", f"deputy:{DEPUTY}")[2] == f"error: no item {theirs}\n"
    assert snapshot(engine) == before


def test_deadlines_on_behalf_of_an_actor_are_those_of_the_items_they_see(engine: Engine) -> None:
    """``deadlines(actor=…)`` lists the open clocks of the items the actor may see and no others,
    combined with the other filters."""
    ids = world(engine)
    names = {v: k for k, v in ids.items()}
    everything = engine.deadlines()
    for actor, sees in SEES:
        expected = [d for d in everything if names[d["item_id"]] in sees]
        assert engine.deadlines(actor=actor) == expected, actor
    assert {names[d["item_id"]] for d in engine.deadlines(actor=unit(LEAD))} == {"mine", "moved", "review"}
    assert engine.deadlines(clock="report", actor=unit(CO)) == []
    assert [d["item_id"] for d in engine.deadlines(clock="report", actor=unit(LEAD))] == [ids["review"]]


def test_the_command_line_lists_and_shows_as_an_actor(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``duban list --as ROLE:NAME``, ``duban show ID --as …`` and ``duban deadlines --as …`` answer
    as that actor would see it: a hidden item is ``error: no item N`` with exit status 2."""
    ids = world(engine)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", db_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("list", "--as", f"unit:{CO}", "--json")
    assert code == 0 and [i["id"] for i in json.loads(out)] == [ids["mine"]]
    code, out, _ = run("list", "--as", f"deputy:{OTHER_DEPUTY}", "--json")
    assert code == 0 and [i["id"] for i in json.loads(out)] == [ids["theirs"], ids["fresh"]]
    assert run("show", str(ids["mine"]), "--as", f"deputy:{CO_SIGNER}", "--json")[0] == 0
    assert run("show", str(ids["mine"]), "--as", f"unit:{OTHER}") == (2, "", f"error: no item {ids['mine']}\n")
    code, out, _ = run("deadlines", "--as", f"unit:{OTHER}", "--json")
    assert code == 0 and {d["item_id"] for d in json.loads(out)} == {ids["theirs"], ids["moved"]}
    assert run("list", "--as", "unit")[0] == 2  # a unit acts by name
