"""Notices queued with their cause: right type, right people, rendered once, located template errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import snapshot, suggestion, to_handling, unit

from workflow import Actor, DefinitionError, Engine
from workflow.channels import Settings
from workflow.definition import bundled_dir, parse_definition
from workflow.notify import Notices

LEAD, CO = unit("市交通运输局"), unit("市民政局")


def contacts(eng: Engine) -> None:
    for name, n in (("市交通运输局", 1), ("市民政局", 2)):
        eng.add_party(
            "unit",
            name,
            handler=f"办理人{n}",
            contacts={
                "handler": f"h{n}@unit.example",
                "department_head": f"d{n}@unit.example",
                "principal_leader": f"p{n}@unit.example",
            },
        )
    eng.add_party("deputy", "王芳", contacts={"address": "wangfang@rd.example"})


def test_assignment_queues_one_notice_per_unit_handler_in_the_same_transaction(engine: Engine) -> None:
    """交办 queues the 交办通知 to the handler of the lead and every co-unit, rendered with the reply
    deadline; the rows exist as soon as the fire returns, before anything is sent."""
    contacts(engine)
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit="市交通运输局", co_units=["市民政局"])
    rows = engine.outbox(item=item.id)
    assert sorted((r["type"], r["recipient"], r["address"], r["status"]) for r in rows) == [
        ("assignment", "办理人1", "h1@unit.example", "queued"),
        ("assignment", "办理人2", "h2@unit.example", "queued"),
    ]
    assert all(r["subject"] == "【交办通知】关于增加通勤班车密度的建议" for r in rows)
    assert all("2026年6月22日" in r["body_text"] for r in rows)  # the reply deadline: 03-20 + 3 months, rolled
    assert all(r["body_html"] and "<html" in r["body_html"] for r in rows)
    assert {r["cause"] for r in rows} == {f"audit:{item.id}:3"}


def test_missing_address_is_an_incident_not_a_silent_skip(engine: Engine) -> None:
    """A unit without an address for the needed role gets a held notice (never sent, kept to be sent
    once the address is known) and one visible incident about it; the fire itself succeeds."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    assert engine.fire(item.id, "assign", lead_unit="市交通运输局").state == "assigned"
    [held] = engine.outbox(item=item.id)
    assert (held["status"], held["address"], held["unit"]) == ("held", "", "市交通运输局")
    [incident] = engine.incidents()
    assert (
        incident["kind"] == "missing_contact"
        and incident["notice_id"] == held["id"]
        and "市交通运输局" in incident["message"]
        and "承办人员" in incident["message"]
    )


def test_rating_notices_depend_on_the_result(engine: Engine) -> None:
    """The deputy gets the 征询意见表 with the reply; only an unsatisfied rating sends the 重新办理通知."""
    contacts(engine)
    item = to_handling(engine)
    engine.fire(item.id, "submit_co_opinion", actor=CO, opinion="同意")
    engine.fire(item.id, "reply", actor=LEAD, category="A", text="已加密班次", signer="赵局长")
    feedback = [r for r in engine.outbox(item=item.id) if r["type"] == "feedback_form"]
    assert [(r["recipient"], r["address"]) for r in feedback] == [("王芳", "wangfang@rd.example")]
    assert "已加密班次" in feedback[0]["body_text"]
    engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="unsatisfied")
    rehandle = [r for r in engine.outbox(item=item.id) if r["type"] == "rehandle"]
    assert sorted(r["role"] for r in rehandle) == ["department_head", "handler"]


def test_escalation_notices_are_queued_once_per_step(engine: Engine) -> None:
    """An overdue reply clock queues the 催办通知 to the handler at level 1 and the 督办函 to the department
    head and principal leader at level 2, each once however often the sweep runs."""
    contacts(engine)
    item = to_handling(engine)
    engine.fire(item.id, "submit_co_opinion", actor=CO, opinion="同意")
    late = dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC)
    for day in range(45, -1, -1):  # a daemon that runs every day, each step met on its own day
        engine.due(late - dt.timedelta(days=day))
        engine.due(late - dt.timedelta(days=day))
    rows = [r for r in engine.outbox(item=item.id) if r["cause"].startswith("deadline:")]
    kinds = sorted((r["type"], r["role"]) for r in rows)
    assert kinds == [
        ("overdue", "handler"),
        ("reminder", "handler"),
        ("reminder", "handler"),
        ("supervision_letter", "department_head"),
        ("supervision_letter", "principal_leader"),
    ]
    assert len({r["key"] for r in rows}) == len(rows)


def test_notice_failure_never_blocks_the_fire(engine: Engine) -> None:
    """A recipient with a malformed address still gets a queued row; the fire succeeds and the failure
    shows only at delivery."""
    engine.add_party("unit", "市交通运输局", contacts={"handler": "not an address"})
    item = suggestion(engine)
    engine.fire(item.id, "register")
    assert engine.fire(item.id, "assign", lead_unit="市交通运输局").state == "assigned"
    [row] = engine.outbox(item=item.id)
    assert row["status"] == "queued" and row["address"] == "not an address"


def _copy_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "notifications"
    (folder / "assignment").mkdir(parents=True)
    return folder


def test_template_using_an_undeclared_variable_is_located(db_url: str, tmp_path: Path) -> None:
    """A deployment's template that uses a variable its type is not given fails at load, with file and line."""
    folder = _copy_templates(tmp_path)
    (folder / "assignment" / "subject.txt").write_text(
        "【交办通知】\n{{ item.title }}{{ password }}\n", encoding="utf-8"
    )
    with pytest.raises(DefinitionError, match="uses password, which it is not given") as caught:
        Engine(db_url, notifications=folder)
    assert (caught.value.file, caught.value.line) == (str(folder / "assignment" / "subject.txt"), 2)


def test_template_syntax_error_is_located(tmp_path: Path) -> None:
    """A syntax error in a template is a DefinitionError at its line, before anything is sent."""
    folder = _copy_templates(tmp_path)
    (folder / "assignment" / "body.txt").write_text("第一行\n{% if item %}\n未闭合\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="template syntax error") as caught:
        Notices([folder])
    assert caught.value.file.endswith("body.txt") and caught.value.line >= 2


@pytest.mark.parametrize("source", ["{{ item.__class__.__mro__ }}", "{{ units.append(1) }}", "{{ item._x }}"])
def test_sandbox_refuses_attribute_tricks_at_load(tmp_path: Path, source: str) -> None:
    """A template reaching for private attributes or changing its variables is refused when loaded, with
    its line, before anything is rendered."""
    folder = _copy_templates(tmp_path)
    (folder / "assignment" / "subject.txt").write_text(f"【交办通知】\n{source}\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="the sandbox refuses") as caught:
        Notices([folder])
    assert caught.value.line == 2


def test_sandbox_refuses_tricks_at_render_too() -> None:
    """Whatever slips past the load check, the immutable sandbox refuses at render time."""
    import jinja2

    env = Notices.load().env
    with pytest.raises(jinja2.exceptions.SecurityError):
        env.from_string("{{ x.__class__.__mro__ }}").render(x={})
    with pytest.raises(jinja2.exceptions.SecurityError):
        env.from_string("{{ x.append(1) }}").render(x=[])


def test_unknown_notice_type_in_a_definition_is_located() -> None:
    """A transition or clock naming a notice type that does not exist is a located DefinitionError."""
    text = (bundled_dir("definitions") / "suggestion.yaml").read_text(encoding="utf-8")
    bad = text.replace(
        "{type: assignment, to: [handler], units: all, deadline: reply}",
        "{type: asignment, to: [handler], units: all, deadline: reply}",
        1,
    )
    with pytest.raises(DefinitionError, match="unknown notice type 'asignment'; did you mean 'assignment'") as caught:
        parse_definition(bad, "s.yaml")
    assert caught.value.line == next(i for i, t in enumerate(bad.splitlines(), 1) if "asignment" in t)
    bad = text.replace("template: overdue}", "template: overdoo}", 1)
    with pytest.raises(DefinitionError, match="unknown notice type 'overdoo'"):
        parse_definition(bad, "s.yaml")


def test_settings_come_from_a_file_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Delivery settings are read from a TOML file and DUBAN_* variables (which win), never definitions."""
    path = tmp_path / "duban.toml"
    path.write_text('[duban]\nsmtp_url = "smtp://127.0.0.1:2525"\nmax_attempts = 3\n', encoding="utf-8")
    monkeypatch.setenv("DUBAN_MAX_ATTEMPTS", "5")
    settings = Settings.load(path)
    assert (settings.smtp_url, settings.max_attempts) == ("smtp://127.0.0.1:2525", 5)


def test_queued_text_is_what_the_audit_can_show(engine: Engine) -> None:
    """The outbox keeps the rendered text; changing a party afterwards does not change a queued notice."""
    contacts(engine)
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit="市交通运输局")
    before = engine.outbox(item=item.id)[0]["body_text"]
    engine.add_party("unit", "市交通运输局", handler="新经办人")
    assert engine.outbox(item=item.id)[0]["body_text"] == before
    with engine.db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM duban_notice")).scalar() == 1
    assert snapshot(engine)["duban_notice"]


def test_overdue_report_lists_every_overdue_item_once_a_day(db_url: str) -> None:
    """The 逾期通报 to the office lists each open deadline past its end with its unit and days overdue,
    and is queued once per day however often it is asked."""
    eng = Engine(db_url, settings=Settings(office_address="office@rd.example", office_name="代表工作委员会"))
    eng.add_party("unit", "市交通运输局")
    for day in (2, 3):
        item = eng.submit(
            "suggestion",
            title=f"建议{day}",
            origin="session",
            proposers=["王芳"],
            at=dt.datetime(2026, 3, day, 9, tzinfo=dt.UTC),
        )
        eng.fire(item.id, "register", at=dt.datetime(2026, 3, day, 9, tzinfo=dt.UTC))
        eng.fire(item.id, "assign", lead_unit="市交通运输局", at=dt.datetime(2026, 3, day, 10, tzinfo=dt.UTC))
    now = dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC)
    assert eng.report_overdue(now) == 4  # each item: the reply clock and the objection window
    assert eng.report_overdue(now + dt.timedelta(hours=3)) == 4
    [report] = [r for r in eng.outbox() if r["type"] == "overdue_report"]
    assert (
        report["address"] == "office@rd.example" and "建议2" in report["body_text"] and "建议3" in report["body_text"]
    )
    assert "市交通运输局" in report["body_text"]
    eng.close()
