"""Nobody can forge a rating or a lead: ``deemed`` comes only from the deemed-satisfied clock, the
shell cannot act as ``system``, a deputy submits only as the lead of their own item, and 编号 and
会次 are the office's to set. Each refusal names the field or option, and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import snapshot, to_replied

from workflow import Actor, Engine, PermissionDenied, ValidationError
from workflow.cli import main
from workflow.definition import parse_definition
from workflow.errors import DefinitionError
from workflow.registry import Registry

DEPUTY = Actor("deputy", "王芳")


def test_a_deputy_cannot_declare_their_rating_deemed(engine: Engine) -> None:
    """evaluate with deemed=true by the lead deputy is refused on the field deemed; nothing is written."""
    item = to_replied(engine)
    before = snapshot(engine)
    with pytest.raises(ValidationError) as caught:
        engine.fire(item.id, "evaluate", actor=DEPUTY, result="satisfied", deemed=True)
    assert caught.value.field == "deemed"
    assert "only by the clock's own timeout" in caught.value.message
    assert snapshot(engine) == before


@pytest.mark.parametrize("actor", [Actor("office"), Actor("system")])
def test_no_caller_can_set_deemed_not_even_as_system(engine: Engine, actor: Actor) -> None:
    """Neither the office nor a Python caller acting as system can mark a rating deemed satisfied."""
    item = to_replied(engine)
    before = snapshot(engine)
    with pytest.raises(ValidationError) as caught:
        engine.fire(item.id, "evaluate", actor=actor, result="satisfied", deemed=True)
    assert caught.value.field == "deemed"
    assert snapshot(engine) == before


def test_the_deemed_satisfied_clock_still_sets_deemed(db_url: str) -> None:
    """Where the jurisdiction turns deemed_satisfied on, the sweep's timeout rates the reply deemed satisfied."""
    from conftest import T0, UNITS

    from workflow.testing import FakeClock

    eng = Engine(db_url, clock=FakeClock(T0), parameters={"suggestion": {"deemed_satisfied": True}})
    for name in UNITS:
        eng.add_party("unit", name)
    item = to_replied(eng)
    eng.sweep(now=T0 + dt.timedelta(days=45))
    got = eng.get(item.id)
    assert got.state == "evaluated"
    assert got.data["deemed"] is True and got.data["result"] == "satisfied"
    assert got.history[-1].actor == "system"
    eng.close()


def test_a_deputy_cannot_name_another_deputy_as_lead(engine: Engine) -> None:
    """A deputy submitting a joint item leads it: naming another proposer as lead is refused."""
    before = snapshot(engine)
    with pytest.raises(ValidationError) as caught:
        engine.submit(
            "suggestion",
            actor=DEPUTY,
            title="关于建设过街天桥的建议",
            origin="session",
            proposers=["王芳", "李强"],
            lead_deputy="李强",
        )
    assert caught.value.field == "lead_deputy"
    assert snapshot(engine) == before
    item = engine.submit(
        "suggestion", actor=DEPUTY, title="关于建设过街天桥的建议", origin="session",
        proposers=["王芳", "李强"], lead_deputy="王芳",
    )  # fmt: skip
    assert item.data["lead_deputy"] == "王芳"


def test_a_deputy_is_always_among_the_proposers_of_what_they_submit(engine: Engine) -> None:
    """A deputy cannot submit an item in other deputies' names only."""
    before = snapshot(engine)
    with pytest.raises(PermissionDenied):
        engine.submit(
            "suggestion", actor=DEPUTY, title="关于减速慢行信号灯的建议", origin="session", proposers=["李强"]
        )
    assert snapshot(engine) == before


@pytest.mark.parametrize(("field", "value"), [("number", "A-001"), ("session", "市十五届人大三次会议")])
def test_number_and_session_are_the_offices_to_set(engine: Engine, field: str, value: str) -> None:
    """A deputy's submission may not carry 编号 or 会次; the office's may."""
    data = {"title": "关于社区养老服务清单的建议", "origin": "session", "proposers": ["王芳"], field: value}
    before = snapshot(engine)
    with pytest.raises(ValidationError) as caught:
        engine.submit("suggestion", actor=DEPUTY, **data)
    assert caught.value.field == field and "office" in caught.value.message
    assert snapshot(engine) == before
    assert engine.submit("suggestion", **data).data[field] == value


def test_set_by_names_only_known_setters() -> None:
    """A definition's set_by naming no role is an error at its line and column."""
    source = """
kind: k
label: k
initial: a
states: {a: {label: A}, b: {label: B, final: true}}
submit:
  roles: [office]
  fields:
    title: {type: string, required: true}
    code: {type: string, set_by: [ofice]}
transitions:
  - {trigger: go, source: a, dest: b, roles: [office]}
"""
    with pytest.raises(DefinitionError) as caught:
        parse_definition(source, "k.yaml", Registry.default())
    assert "k.yaml:10:" in str(caught.value) and "'ofice'" in str(caught.value)


@pytest.mark.parametrize("option", ["--actor", "--as"])
def test_the_shell_cannot_act_as_system(db_url: str, capsys: pytest.CaptureFixture[str], option: str) -> None:
    """`--actor system` (and `--as system`) exits 2 with one line naming the option; nothing is written."""
    assert main(["--db", db_url, "init"]) == 0
    capsys.readouterr()
    eng = Engine(db_url)
    before = snapshot(eng)
    args = (
        [
            "submit",
            "suggestion",
            "--title",
            "标题",
            "--proposer",
            "王芳",
            "--set",
            "origin=session",
            "--actor",
            "system",
        ]
        if option == "--actor"
        else ["list", "--as", "system"]
    )
    code = main(["--db", db_url, *args])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.strip().count("\n") == 0 and option in err and "system" in err and "Traceback" not in err
    assert snapshot(eng) == before
    eng.close()
