"""The Engine API: submit, fire, get, items; each failure is a named error and changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import T0, snapshot, suggestion, to_handling, to_replied, unit

from workflow import (
    Actor,
    BatchError,
    ConflictError,
    Engine,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from workflow.definition import bundled_dir
from workflow.testing import FakeClock


def test_submit_records_the_item_and_its_first_audit_row(engine: Engine) -> None:
    """A submitted item starts in the initial state with its data, year and one audit row."""
    item = suggestion(engine, proposers=["王芳", "李强"], lead_deputy="王芳")
    assert (item.state, item.state_label, item.version, item.year) == ("submitted", "已提交 (submitted)", 1, 2026)
    assert item.data["proposers"] == ["王芳", "李强"]
    detail = engine.get(item.id)
    assert [(h.trigger, h.source, h.dest) for h in detail.history] == [("submit", None, "submitted")]
    assert detail.allowed_triggers == ["register", "reject", "withdraw", "void"]


def test_timestamps_come_from_the_injected_clock_and_return_aware(engine: Engine, clock: FakeClock) -> None:
    """Every timestamp is set from the engine's clock, stored UTC and read back timezone-aware."""
    item = suggestion(engine)
    clock.advance(days=2)
    fired = engine.fire(item.id, "register")
    detail = engine.get(item.id)
    assert detail.created_at == T0 and fired.updated_at == T0 + dt.timedelta(days=2)
    assert detail.history[-1].at == T0 + dt.timedelta(days=2) and detail.history[-1].at.tzinfo is not None


def test_year_is_the_shanghai_year_of_submission(engine: Engine) -> None:
    """An item submitted on 31 Dec at 20:00 UTC belongs to the next year in Asia/Shanghai."""
    item = suggestion(engine, at=dt.datetime(2026, 12, 31, 20, tzinfo=dt.UTC))
    assert item.year == 2027


def test_fire_moves_state_and_bumps_version(engine: Engine) -> None:
    """Each successful fire changes the state as defined and increments the version by one."""
    item = suggestion(engine)
    registered = engine.fire(item.id, "register", number="建议第001号")
    assert (registered.state, registered.version, registered.data["number"]) == ("registered", 2, "建议第001号")
    assert engine.get(item.id).version == 2


def test_invalid_transition_names_state_and_allowed_triggers(engine: Engine) -> None:
    """Firing a trigger the state does not allow raises InvalidTransition listing what is allowed."""
    item = suggestion(engine)
    before = snapshot(engine)
    with pytest.raises(InvalidTransition) as caught:
        engine.fire(item.id, "reply")
    assert caught.value.state == "submitted" and caught.value.allowed == ["register", "reject", "withdraw", "void"]
    assert "'submitted'" in str(caught.value) and "register, reject, withdraw" in str(caught.value)
    assert snapshot(engine) == before


def test_role_not_allowed_is_permission_denied(engine: Engine) -> None:
    """A role the transition does not list gets PermissionDenied and nothing changes."""
    item = suggestion(engine)
    before = snapshot(engine)
    with pytest.raises(PermissionDenied, match="allowed for office"):
        engine.fire(item.id, "register", actor=Actor("leader"))
    assert snapshot(engine) == before


def test_unit_may_act_only_on_items_assigned_to_it(engine: Engine) -> None:
    """Another unit cannot even find the item (NotFound, as for an id that does not exist); a co-unit
    where the lead unit is required is denied."""
    item = to_handling(engine)
    before = snapshot(engine)
    with pytest.raises(NotFound, match=f"^no item {item.id}$"):
        engine.fire(item.id, "record_contact", actor=unit("市卫生健康委员会"), stage="before", method="visit")
    with pytest.raises(PermissionDenied, match="co_unit"):
        engine.fire(item.id, "reply", actor=unit("市民政局"), category="A", text="t", signer="s")
    assert snapshot(engine) == before


def test_deputy_may_act_only_on_own_items(engine: Engine) -> None:
    """Only the item's lead deputy (or the office) rates a reply; to another deputy the item does not exist."""
    item = to_replied(engine)
    with pytest.raises(NotFound, match=f"^no item {item.id}$"):
        engine.fire(item.id, "evaluate", actor=Actor("deputy", "陌生人"), result="satisfied")
    assert engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="satisfied").state == "evaluated"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"text": "t", "signer": "s"}, "category", "is required"),
        (
            {"category": "E", "text": "t", "signer": "s"},
            "category",
            "must be one of 已解决或基本解决 (A), 正在解决或列入规划 (B)",
        ),
        ({"category": "B", "text": "t", "signer": "s"}, "promises", "needs at least one promise"),
        ({"category": "C", "text": "t", "signer": "s", "promises": [{"what": "x"}]}, "promises[0].by", "is required"),
        (
            {"category": "B", "text": "t", "signer": "s", "promises": [{"what": "x", "by": "2026-02-30"}]},
            "promises[0].by",
            "YYYY-MM-DD",
        ),
        ({"category": "A", "text": "t"}, "signer", "is required"),
        ({"category": "A", "text": "t", "signer": "s", "colour": "red"}, "colour", "not a field here"),
    ],
)
def test_bad_reply_is_a_validation_error_naming_the_field(
    engine: Engine, fields: dict[str, object], field: str, message: str
) -> None:
    """A reply without category, a B reply without a promise, bad dates: ValidationError naming the field."""
    item = to_handling(engine)
    engine.fire(item.id, "submit_co_opinion", actor=unit("市民政局"), opinion="同意")
    before = snapshot(engine)
    with pytest.raises(ValidationError) as caught:
        engine.fire(item.id, "reply", actor=unit("市交通运输局"), **fields)
    assert caught.value.field == field and message in str(caught.value)
    assert snapshot(engine) == before


def test_evaluation_with_unknown_result_is_refused(engine: Engine) -> None:
    """An evaluation result outside satisfied / basically_satisfied / unsatisfied is a ValidationError."""
    item = to_replied(engine)
    before = snapshot(engine)
    with pytest.raises(ValidationError) as caught:
        engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="delighted")
    assert caught.value.field == "result"
    assert snapshot(engine) == before


def test_unknown_item_and_kind_are_not_found(engine: Engine) -> None:
    """Missing items and lifecycles raise NotFound."""
    with pytest.raises(NotFound, match="no item 999"):
        engine.fire(999, "register")
    with pytest.raises(NotFound, match="no item 999"):
        engine.get(999)
    with pytest.raises(NotFound, match="no lifecycle 'petition'"):
        engine.submit("petition", title="t")


def test_naive_or_backdated_times_are_refused(engine: Engine) -> None:
    """Instants must be timezone-aware, and a fire may not be dated before the item's last change."""
    with pytest.raises(ValidationError, match="timezone-aware"):
        engine.submit("suggestion", title="t", origin="session", proposers=["王芳"], at=dt.datetime(2026, 3, 1))
    item = suggestion(engine)
    before = snapshot(engine)
    with pytest.raises(ValidationError, match="before the item's last change"):
        engine.fire(item.id, "register", at=T0 - dt.timedelta(seconds=1))
    assert snapshot(engine) == before


def test_stale_expected_version_is_a_conflict(engine: Engine) -> None:
    """A caller that read version n gets ConflictError once the item has moved on, and nothing changes."""
    item = suggestion(engine)
    engine.fire(item.id, "register", expected_version=1)
    before = snapshot(engine)
    with pytest.raises(ConflictError, match="version 2, not 1"):
        engine.fire(item.id, "withdraw", expected_version=1)
    assert snapshot(engine) == before


def test_failing_action_rolls_back_everything(engine: Engine) -> None:
    """When an action fails after the state moved in memory, the database keeps the old state."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    before = snapshot(engine)
    with pytest.raises(ValidationError, match="unknown unit"):
        engine.fire(item.id, "assign", lead_unit="市交通运输局", co_units=["不存在的局"])
    assert snapshot(engine) == before
    assert engine.get(item.id).state == "registered"


def test_items_are_listed_by_kind_state_unit_and_year(engine: Engine) -> None:
    """items() filters by kind, state, unit (active assignments) and year."""
    handled = to_handling(engine)
    fresh = suggestion(engine)
    assert [i.id for i in engine.items(kind="suggestion")] == [handled.id, fresh.id]
    assert [i.id for i in engine.items(state="handling")] == [handled.id]
    assert [i.id for i in engine.items(unit="市民政局")] == [handled.id]
    assert engine.items(unit="市卫生健康委员会") == [] and engine.items(year=2025) == []
    assert [i.id for i in engine.items(year=2026, limit=1)] == [handled.id]


def test_parameter_overrides_are_checked(db_url: str) -> None:
    """Jurisdictions override parameters per kind; unknown names and bad values are refused."""
    eng = Engine(db_url, parameters={"review_opinion": {"unsatisfactory_share": 0.4}})
    assert eng._version(eng._current["review_opinion"])[2]["unsatisfactory_share"] == 0.4
    eng.close()
    with pytest.raises(ValidationError, match="no parameter 'speed'"):
        Engine(db_url, parameters={"suggestion": {"speed": 1}})
    with pytest.raises(ValidationError, match="cannot read the period"):
        Engine(db_url, parameters={"suggestion": {"reply_period": "soon"}})


def test_changed_definition_is_a_new_version_and_items_in_flight_keep_theirs(db_url: str, tmp_path: Path) -> None:
    """Editing a definition file makes a new version; items started before keep the old rules."""
    folder = tmp_path / "defs"
    folder.mkdir()
    original = (bundled_dir("definitions") / "suggestion.yaml").read_text(encoding="utf-8")
    (folder / "suggestion.yaml").write_text(original, encoding="utf-8")
    old_engine = Engine(db_url, definitions=folder)
    old_item = suggestion(old_engine)
    old_engine.close()

    # The new version lets the liaison office reject only for "no substance".
    changed = original.replace("choices: [personal_matter, forwarded_letter, no_substance]", "choices: [no_substance]")
    (folder / "suggestion.yaml").write_text(changed, encoding="utf-8")
    eng = Engine(db_url, definitions=folder)
    new_item = suggestion(eng)
    assert new_item.definition_version != old_item.definition_version
    assert eng.fire(old_item.id, "reject", reason="personal_matter").state == "rejected"
    with pytest.raises(ValidationError, match="must be one of no_substance"):
        eng.fire(new_item.id, "reject", reason="personal_matter")
    eng.close()

    # Loading the same content again does not create a third version.
    again = Engine(db_url, definitions=folder)
    assert suggestion(again).definition_version == new_item.definition_version
    again.close()


def test_fire_many_assigns_a_meeting_s_items_as_single_fires_would(engine: Engine) -> None:
    """fire_many gives each item its own data on top of the shared data, and leaves every item with the
    state, assignments, deadlines, audit rows and notices a single fire would have given it."""
    single, *batch = [suggestion(engine, title=f"建议{k}") for k in range(4)]
    for item in (single, *batch):
        engine.fire(item.id, "register")
    engine.fire(single.id, "assign", lead_unit="市交通运输局", co_units=["市民政局"])
    fired = engine.fire_many(
        "assign",
        {batch[2].id: {"lead_unit": "市民政局", "co_units": []}, batch[0].id: {}, batch[1].id: {}},
        lead_unit="市交通运输局",
        co_units=["市民政局"],
    )
    assert [i.id for i in fired] == sorted(i.id for i in batch)  # id order
    assert {i.state for i in fired} == {"assigned"} and {i.version for i in fired} == {3}
    model, first = engine.get(single.id), engine.get(batch[0].id)
    assert [(u["unit"], u["role"]) for u in first.assignments] == [(u["unit"], u["role"]) for u in model.assignments]
    assert [(d["clock"], d["due"]) for d in first.deadlines] == [(d["clock"], d["due"]) for d in model.deadlines]
    assert [h.trigger for h in first.history] == [h.trigger for h in model.history]
    assert [u["unit"] for u in engine.get(batch[2].id).assignments] == ["市民政局"]
    notices = engine.outbox(item=batch[0].id)
    assert sorted(n["recipient"] for n in notices) == sorted(n["recipient"] for n in engine.outbox(item=single.id))
    assert engine.verify_audit() == []


def test_fire_many_writes_nothing_when_one_item_cannot_fire(engine: Engine) -> None:
    """One bad item in a batch raises BatchError naming it and its own error, and no item of the batch
    changes: not the ones before it in id order, not the ones after."""
    items = [suggestion(engine) for _ in range(3)]
    for item in items:
        engine.fire(item.id, "register")
    before = snapshot(engine)
    bad = {items[0].id: {}, items[1].id: {"lead_unit": "市交通局"}, items[2].id: {}}
    with pytest.raises(BatchError) as caught:
        engine.fire_many("assign", bad, lead_unit="市交通运输局")
    assert caught.value.item_id == items[1].id and isinstance(caught.value.error, ValidationError)
    assert f"item {items[1].id}" in str(caught.value) and "unknown unit '市交通局'" in str(caught.value)
    assert "nothing of the batch of 3 was written" in str(caught.value)
    assert snapshot(engine) == before
    with pytest.raises(BatchError) as missing:
        engine.fire_many("assign", [items[0].id, 999_999], lead_unit="市交通运输局")
    assert isinstance(missing.value.error, NotFound) and snapshot(engine) == before
    with pytest.raises(BatchError) as wrong_state:
        engine.fire_many("close", [i.id for i in items])
    assert isinstance(wrong_state.value.error, InvalidTransition) and snapshot(engine) == before


def test_fire_many_checks_who_fires_each_item(engine: Engine) -> None:
    """A batch fired by someone who may not fire the trigger is refused as a single fire would be."""
    items = [suggestion(engine) for _ in range(2)]
    with pytest.raises(BatchError) as caught:
        engine.fire_many("register", [i.id for i in items], actor=Actor("leader"))
    assert isinstance(caught.value.error, PermissionDenied) and caught.value.exit_code == 2
    assert {engine.get(i.id).state for i in items} == {"submitted"}


def test_an_actor_may_be_given_as_its_role_party_string(engine: Engine) -> None:
    """Every method taking an actor takes its ``ROLE[:PARTY]`` string too (``"office"``, ``"unit:市民政局"``),
    exactly as the shell's --actor; anything else (a number, a dict, an unknown role) is a ValidationError
    naming ``actor``, and nothing is written."""
    item = to_handling(engine)
    assert engine.fire(item.id, "record_contact", actor="unit:市交通运输局", stage="before", method="visit")
    assert engine.get(item.id, actor="unit:市交通运输局").id == item.id
    assert [i.id for i in engine.items(actor="unit:市交通运输局")] == [item.id]
    assert engine.deadlines(actor="unit:市民政局") == engine.deadlines(actor=unit("市民政局"))
    with pytest.raises(NotFound):
        engine.get(item.id, actor="unit:市卫生健康委员会")
    own = engine.submit("suggestion", actor="deputy:王芳", title="社区食堂", origin="session", proposers=["王芳"])
    assert own.data["proposers"] == ["王芳"]
    before = snapshot(engine)
    for bad in (7, {"role": "office"}, "mayor", "unit"):
        with pytest.raises(ValidationError) as caught:
            engine.fire(item.id, "record_contact", actor=bad, stage="before", method="visit")  # type: ignore[arg-type]
        assert caught.value.field == "actor"
    assert snapshot(engine) == before
