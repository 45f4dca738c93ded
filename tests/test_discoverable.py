"""A clerk finds every field without guessing, and types the Chinese values they read (issue 15, items 1-2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import review_opinion, snapshot, suggestion, to_replied, unit
from test_cli import Run

from workflow import Actor, DefinitionError, Engine, ValidationError
from workflow.cli import main
from workflow.definition import parse_definition
from workflow.fields import MissingFields
from workflow.importer import import_file

GOV = unit("市人民政府")


@pytest.fixture
def run(db_url: str, capsys: pytest.CaptureFixture[str]) -> Run:
    r = Run(db_url, capsys)
    r.ok("party", "add", "unit", "市民政局", "--principal-leader", "郑红")
    return r


def test_definitions_show_lists_states_and_who_fires_each_trigger(run: Run) -> None:
    """`duban definitions show KIND` lists every state with its Chinese label and every trigger with its
    label, where it leads and who may fire it (with the --actor to use), and points to a trigger's fields."""
    out = run.ok("definitions", "show", "suggestion")
    for text in ("已交办 (assigned)", "已办结 (closed)", "withdrawn", "final", "交办", "registered → assigned"):
        assert text in out
    assert "accept" in out and "assigned_unit" in out and "承办单位" in out and "(unit:NAME)" in out
    assert "duban definitions show suggestion TRIGGER" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_definitions_show_trigger_names_each_field_label_type_choices_and_shape(run: Run) -> None:
    """`duban definitions show KIND TRIGGER` gives each field's name, Chinese label, type, whether it is
    required, each choice as label (code), and a records field's shape (`promises: [{what, by}]`)."""
    out = run.ok("definitions", "show", "suggestion", "assign")
    assert "lead_unit" in out and "主办单位" in out and "co_units" in out and "协办单位" in out
    assert "fired by office" in out
    contact = run.ok("definitions", "show", "suggestion", "record_contact")
    assert "走访 (visit)" in contact and "办前 (before)" in contact and "yes" in contact
    reply = run.ok("definitions", "show", "suggestion", "reply")
    assert "promises: [{what, by}]" in reply and "records" in reply and "留作参考 (D)" in reply
    problems = run.ok("definitions", "show", "review_opinion", "assign")
    assert "problems: [{title}]" in problems
    close = run.ok("definitions", "show", "suggestion", "close")
    assert "evaluated → closed" in close and "no fields" in close
    submit = run.ok("definitions", "show", "suggestion", "submit")
    assert "大会期间 (session)" in submit and "--proposer" in submit


def test_definitions_show_json_is_complete(run: Run) -> None:
    """`--json` gives the same facts for programs: states, roles, and for each field its label, type,
    required flag, choices (code and label), shape and sub-fields."""
    doc = run.json("definitions", "show", "suggestion", "evaluate")
    assert (
        doc["kind"] == "suggestion" and {"name": "closed", "label": "已办结 (closed)", "final": False} in doc["states"]
    )
    (evaluate,) = doc["triggers"]
    assert [r["role"] for r in evaluate["roles"]] == ["lead_deputy", "office", "system"]
    result = next(f for f in evaluate["fields"] if f["name"] == "result")
    assert result["required"] is True and result["type"] == "choice" and result["label"] == "测评结果"
    assert result["choices"] == [
        {"code": "satisfied", "label": "满意"},
        {"code": "basically_satisfied", "label": "基本满意"},
        {"code": "unsatisfied", "label": "不满意"},
    ]
    reply = run.json("definitions", "show", "suggestion", "reply")["triggers"][0]
    promises = next(f for f in reply["fields"] if f["name"] == "promises")
    assert promises["shape"] == "[{what, by}]"
    assert [(f["name"], f["type"], f["required"]) for f in promises["fields"]] == [
        ("what", "string", True),
        ("by", "date", True),
    ]
    whole = run.json("definitions", "show", "review_opinion")
    assert "submit" in whole and len(whole["triggers"]) > 10


def test_an_unknown_kind_or_trigger_is_one_line_naming_it(run: Run) -> None:
    """A mistyped trigger is refused (exit 2) on one line naming TRIGGER, with a suggestion and the list."""
    code, _out, err = run("definitions", "show", "suggestion", "asign")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "TRIGGER" in err and "'assign'" in err and "register" in err
    code, _out, err = run("definitions", "show", "petition")
    assert code == 2 and "no lifecycle 'petition'" in err


def test_fire_help_and_field_errors_point_to_definitions_show(run: Run) -> None:
    """`duban fire --help` and an error about a trigger's fields say where the fields are listed."""
    assert "duban definitions show KIND TRIGGER" in " ".join(run.ok("fire", "1", "reply", "--help").split())
    assert "duban definitions show KIND submit" in " ".join(run.ok("submit", "--help").split())
    code, _out, err = run("submit", "suggestion", "--title", "t", "--proposer", "王芳")
    assert code == 2 and "origin" in err and "duban definitions show suggestion submit" in err


def test_a_fire_missing_several_fields_names_them_all(run: Run, engine: Engine) -> None:
    """A fire (or submit) missing several required fields names every one in one error, on the CLI and in
    the Python API (one ValidationError, `.fields` listing them), and writes nothing."""
    item = run.json("submit", "suggestion", "--title", "t", "--proposer", "王芳", "--set", "origin=大会期间")["id"]
    for trigger in ("register", "assign"):
        run.ok("fire", str(item), trigger, *(["--set", "lead_unit=市民政局"] if trigger == "assign" else []))
    run.ok("fire", str(item), "accept", "--actor", "unit:市民政局")
    before = snapshot(engine)
    code, _out, err = run("fire", str(item), "reply", "--actor", "unit:市民政局")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert all(name in err for name in ("category", "text", "signer")) and "3 required fields" in err
    assert "duban definitions show suggestion reply" in err
    with pytest.raises(ValidationError) as caught:
        engine.fire(item, "reply", actor=unit("市民政局"), text="答复")
    assert isinstance(caught.value, MissingFields) and caught.value.fields == ["category", "signer"]
    assert caught.value.field == "category" and "signer" in str(caught.value)
    with pytest.raises(MissingFields) as missing:
        engine.submit("suggestion", title="t")
    assert missing.value.fields == ["origin", "proposers"]
    assert snapshot(engine) == before


def test_show_lists_the_triggers_allowed_now_for_the_actor(run: Run) -> None:
    """`duban show ITEM` lists the triggers allowed in the item's state with who fires them; with --as,
    only those that actor may fire (a unit sees accept, not the office's reassign)."""
    item = str(run.json("submit", "suggestion", "--title", "t", "--proposer", "王芳", "--set", "origin=闭会期间")["id"])
    out = run.ok("show", item)
    assert "triggers allowed now" in out and "register" in out and "立案" in out and "withdraw" in out
    run.ok("fire", item, "register")
    run.ok("fire", item, "assign", "--set", "lead_unit=市民政局")
    mine = run.ok("show", item, "--as", "unit:市民政局")
    assert "accept" in mine and "record_contact" in mine and " reassign " not in mine
    assert "for unit:市民政局" in mine
    shown = run.json("show", item, "--as", "unit:市民政局")
    assert {t["trigger"] for t in shown["triggers_now"]} == {"accept", "request_reassignment", "record_contact"}
    assert {t["trigger"] for t in run.json("show", item)["triggers_now"]} >= {"reassign", "accept", "withdraw"}


def test_chinese_values_on_the_cli_are_stored_as_codes(run: Run) -> None:
    """`--set origin=大会期间`, `stage=办前`, `method=走访`, `result=不满意` are accepted and stored as their
    codes; `--proposer "王芳、李强"` is two proposers."""
    got = run.json(
        "submit", "suggestion", "--title", "t", "--proposer", "王芳、李强", "--set", "origin=大会期间",
        "--set", "lead_deputy=王芳",
    )  # fmt: skip
    assert got["data"]["origin"] == "session" and got["data"]["proposers"] == ["王芳", "李强"]
    item = str(got["id"])
    run.ok("fire", item, "register")
    run.ok("fire", item, "assign", "--set", "lead_unit=市民政局", "--set", "co_units=")
    run.ok("fire", item, "accept", "--actor", "unit:市民政局")
    run.ok("fire", item, "record_contact", "--actor", "unit:市民政局", "--set", "stage=办前", "--set", "method=走访")
    run.ok(
        "fire", item, "reply", "--actor", "unit:市民政局", "--set", "category=留作参考", "--set", "text=答复",
        "--set", "signer=郑红",
    )  # fmt: skip
    run.ok("fire", item, "evaluate", "--actor", "deputy:王芳", "--set", "result=不满意", "--set", "attitude=满意")
    detail = run.json("show", item)
    assert [(c["stage"], c["method"]) for c in detail["contacts"]] == [("before", "visit")]
    assert detail["state"] == "rehandling"  # the branch on result: unsatisfied took the label's code
    assert detail["data"]["category"] == "D" and detail["data"]["result"] == "unsatisfied"
    assert detail["data"]["attitude"] == "satisfied"


def test_an_unknown_choice_is_refused_listing_each_label_and_code(run: Run, engine: Engine) -> None:
    """`--set result=很满意` is refused (exit 2) naming the field and listing 满意 / 基本满意 / 不满意 with their
    codes; nothing is written."""
    item = to_replied(engine)
    before = snapshot(engine)
    code, _out, err = run("fire", str(item.id), "evaluate", "--actor", "deputy:王芳", "--set", "result=很满意")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "result: must be one of 满意 (satisfied), 基本满意 (basically_satisfied), 不满意 (unsatisfied)" in err
    assert "很满意" in err
    assert snapshot(engine) == before


def test_chinese_values_in_the_python_api(engine: Engine) -> None:
    """The Python API takes the labels too (`basis=执法检查报告`, `status=已整改`, `result=基本满意`) and
    stores the codes; a label list is split as an import splits it."""
    opinion = engine.submit("review_opinion", title="关于食品安全法执法检查报告的审议意见", basis="执法检查报告")
    assert opinion.data["basis"] == "inspection"
    item = review_opinion(engine, problems=1)
    plan = [{"problem": 1, "measure": "措施", "owner": "市市场监管局", "due": "2026-10-31"}]
    engine.fire(item.id, "submit_rectification_plan", actor=GOV, measures=plan)
    engine.fire(item.id, "update_problem", actor=GOV, problem=1, status="已整改")
    assert [p["status"] for p in engine.get(item.id).problems] == ["rectified"]
    joint = suggestion(engine, origin="闭会期间", proposers="王芳、李强；陈静", lead_deputy="王芳")
    assert joint.data["origin"] == "between_sessions" and joint.data["proposers"] == ["王芳", "李强", "陈静"]
    replied = to_replied(engine)
    rated = engine.fire(replied.id, "evaluate", actor=Actor("deputy", "王芳"), result="基本满意")
    assert rated.state == "evaluated" and rated.data["result"] == "basically_satisfied"


def test_an_import_with_chinese_labels(engine: Engine, tmp_path: Path) -> None:
    """A summary sheet written as an office writes it (闭会期间, proposers separated by 、 and ；) imports
    with the codes stored."""
    sheet = tmp_path / "建议汇总表.csv"
    sheet.write_text(
        "标题,提出代表,领衔代表,大会期间/闭会期间\n关于增设公交站点的建议,王芳、李强；陈静,王芳,闭会期间\n",
        encoding="utf-8",
    )
    result = import_file(engine, sheet)
    (item,) = (engine.get(i) for i in result.imported)
    assert item.data["origin"] == "between_sessions" and item.data["proposers"] == ["王芳", "李强", "陈静"]


def test_a_definition_may_label_its_choices_explicitly() -> None:
    """A definition labels choices either by a mapping (`choices: {yes_: 同意}`) or by a field label naming
    each in turn (`同意 / 不同意`); two choices with one label are refused, located."""
    text = """
kind: tiny
initial: a
states: {a: {label: 甲}, b: {label: 乙, final: true}}
submit:
  roles: [office]
  fields:
    title: {type: string, required: true}
    view: {type: choice, choices: {agree: 同意, disagree: 不同意}, label: 意见}
    mood: {type: choice, choices: [up, down], label: 好 / 坏}
transitions:
  - {trigger: go, source: a, dest: b, roles: [office]}
"""
    defn = parse_definition(text)
    view, mood = defn.submit.fields[1:]
    assert view.labelled() == [("agree", "同意"), ("disagree", "不同意")] and view.label == "意见"
    assert mood.labelled() == [("up", "好"), ("down", "坏")]
    with pytest.raises(DefinitionError, match="its own label") as caught:
        parse_definition(text.replace("disagree: 不同意", "disagree: 同意"))
    assert caught.value.line == 9


def test_lists_filter_by_chinese_kind_and_state_and_refuse_unknown_ones(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`duban list --kind 代表建议 --state 已答复` (and ``Engine.items``) filter as the codes do, and the table
    shows the Chinese names; a kind or state that does not exist is refused naming the option and listing
    what there is (before, `--state 已完结` silently listed nothing)."""
    replied, other = to_replied(engine), suggestion(engine)
    opinion = review_opinion(engine)
    assert [i.id for i in engine.items(kind="代表建议", state="已答复")] == [replied.id]
    assert [i.id for i in engine.items(kind="review_opinion")] == [opinion.id]
    assert [i.id for i in engine.items(state="已提交")] == [other.id]
    code = main(["--db", db_url, "list", "--kind", "代表建议", "--state", "已答复"])
    out, err = capsys.readouterr()
    assert code == 0 and "已答复" in out and "(replied)" not in out and "代表建议" in out, err
    for option, value in (("--state", "已完结"), ("--kind", "议案")):
        code = main(["--db", db_url, "list", option, value])
        out, err = capsys.readouterr()
        assert code == 2 and err.count("\n") == 1 and f"'{value}'" in err, err
    assert "已答复 (replied)" in err or "代表建议 (suggestion)" in err
    with pytest.raises(ValidationError) as caught:
        engine.items(state="已完结")
    assert caught.value.field == "state" and "已办结 (closed)" in str(caught.value)
