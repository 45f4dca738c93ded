"""Notices at the edges: a template that fails, a recipient without an address, a sweep after downtime.

A notice is evidence that a unit was told. A template that cannot render for one item's data fails
that one notice, with an incident naming the template, the item and the error, while the fire or the
sweep's other work commits. A recipient without an address gets a held notice that goes as soon as the
address is added. A sweep that finds several steps of one clock due at once records each of them but
tells each recipient only the latest.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import UNITS, FakeClock, suggestion, to_handling, unit

from workflow import Engine
from workflow.beijing import SHANGHAI
from workflow.channels import Settings
from workflow.clocks import Step
from workflow.errors import DefinitionError, NotFound
from workflow.store import TABLES
from workflow.sweep import _superseded

BUNDLED = Path(__file__).resolve().parent.parent / "notifications"
LEAD = "市交通运输局"
_STEP = TABLES["duban_deadline_step"]


def notice_folder(tmp_path: Path, notice: str, part: str, source: str) -> Path:
    """A deployment's notifications folder overriding one template of *notice*."""
    folder = tmp_path / "notifications"
    shutil.copytree(BUNDLED / notice, folder / notice, dirs_exist_ok=True)
    (folder / notice / part).write_text(source, encoding="utf-8")
    return folder


def with_addresses(eng: Engine) -> None:
    for n, name in enumerate(UNITS):
        roles = ("handler", "department_head", "principal_leader", "case_leader")
        eng.add_party("unit", name, handler=f"承办人{n}", contacts={r: f"{r}{n}@unit.example" for r in roles})


@pytest.fixture
def open_engine(db_url: str, clock: FakeClock) -> Iterator[Any]:
    opened: list[Engine] = []

    def make(**options: Any) -> Engine:
        eng = Engine(db_url, clock=clock, settings=Settings(office_address="office@rd.example"), **options)
        opened.append(eng)
        return eng

    yield make
    for eng in opened:
        eng.close()


def day_after_due(eng: Engine, item_id: int, hour: int = 1) -> dt.datetime:
    """*hour* o'clock Beijing time on the day after the item's reply deadline (01:00: before 08:00)."""
    due = next(d for d in eng.deadlines(item=item_id) if d["clock"] == "reply")["due"]
    return dt.datetime.combine(due + dt.timedelta(days=1), dt.time(hour), SHANGHAI)


# ---- a template that fails at render time -------------------------------------------------------


def test_a_template_failing_for_one_item_fails_that_notice_and_the_sweep_escalates_the_rest(
    open_engine: Any, tmp_path: Path
) -> None:
    """Of 30 overdue items, the one whose data the 催办通知 template cannot render (it shows a second
    proposer, and that item has one) gets a render_failed incident naming the template file and line,
    the item and the error; the sweep commits the other 29 notices and all 30 escalations."""
    folder = notice_folder(tmp_path, "overdue", "body.txt", "{{ item.title }}：{{ item.proposers[1] }}\n")
    eng = open_engine(notifications=folder)
    with_addresses(eng)
    items = [to_handling(eng, co_units=()) for _ in range(30)]
    odd = items[6]
    with eng.db.begin() as conn:  # proposers are set at submission; rewrite the data of 29 of them
        for item in items:
            proposers = ["王芳"] if item.id == odd.id else ["王芳", "李强"]
            row = conn.execute(sa.select(TABLES["duban_item"].c.data).where(TABLES["duban_item"].c.id == item.id))
            data = {**row.scalar_one(), "proposers": proposers}
            conn.execute(sa.update(TABLES["duban_item"]).where(TABLES["duban_item"].c.id == item.id).values(data=data))
    result = eng.sweep(day_after_due(eng, odd.id), dispatch=False)
    assert result.counts["escalations"] == 30
    overdue = [n for n in eng.outbox() if n["type"] == "overdue"]
    assert sorted(n["item_id"] for n in overdue) == sorted(i.id for i in items if i.id != odd.id)
    assert all("李强" in n["body_text"] for n in overdue)
    [incident] = [i for i in eng.incidents() if i["kind"] == "render_failed"]
    assert incident["item_id"] == odd.id
    assert "overdue" in incident["message"] and "body.txt:1" in incident["message"]
    assert "1" in incident["message"].rsplit(":", 1)[-1]  # the error: no element 1
    again = eng.sweep(day_after_due(eng, odd.id, hour=3), dispatch=False)
    assert again.counts["escalations"] == 0  # nothing is stuck for the next sweep to redo


def test_a_fire_commits_when_its_notice_cannot_render(open_engine: Any, tmp_path: Path) -> None:
    """Assigning an item whose 交办通知 cannot be rendered for it still assigns it: the unit's notice
    is an incident (naming the template and the item), nothing else is rolled back."""
    source = "交办：{% if item.title == '坏' %}{{ item.proposers[3] }}{% endif %}{{ item.title }}\n"
    eng = open_engine(notifications=notice_folder(tmp_path, "assignment", "subject.txt", source))
    with_addresses(eng)
    item = suggestion(eng, title="坏")
    eng.fire(item.id, "register")
    assert eng.fire(item.id, "assign", lead_unit=LEAD).state == "assigned"
    assert [n for n in eng.outbox(item=item.id) if n["type"] == "assignment"] == []
    [incident] = eng.incidents()
    assert (incident["kind"], incident["item_id"]) == ("render_failed", item.id)
    assert "assignment/subject.txt:1" in incident["message"]


def test_a_template_past_a_limit_for_some_data_fails_only_that_notice(open_engine: Any, tmp_path: Path) -> None:
    """A template that builds a huge text for one item's title passes the load check (the sample data
    does not trigger it) and fails that item's notice with the limit it broke; other items' notices go."""
    bomb = "{% if item.title == '炸弹' %}{{ 'x' * 10000000 }}{% endif %}{{ item.title }}\n"
    eng = open_engine(notifications=notice_folder(tmp_path, "assignment", "subject.txt", bomb))
    with_addresses(eng)
    good, bad = suggestion(eng), suggestion(eng, title="炸弹")
    for item in (good, bad):
        eng.fire(item.id, "register")
        eng.fire(item.id, "assign", lead_unit=LEAD)
    assert [n["item_id"] for n in eng.outbox() if n["type"] == "assignment"] == [good.id]
    [incident] = eng.incidents()
    assert incident["item_id"] == bad.id and "repeating" in incident["message"]


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("{{ 9 ** (9 ** 8) }}", "bits"),
        ("{{ 'x' * 100000000 }}", "repeating"),
        ("{% for i in range(100000) %}{% endfor %}", "range"),
        ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}", "deeper"),
        ('{% include "overdue/body.txt" %}', "recursion"),
        ("{{ 'x' | center(1000000000) }}", "center"),
        ("{{ '%999999999d' % 1 }}", "width"),
        (
            "{% set ns = namespace(x='a') %}{% for i in range(60) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}",
            "namespace",
        ),
        ("{% for i in range(9999) %}{{ 'x' * 9999 }}{% endfor %}", "output"),
        ("{{ deadline.due.nosuchthing }}", "nosuchthing"),
    ],
)
def test_a_template_past_the_limits_is_refused_when_the_engine_loads_it(
    db_url: str, tmp_path: Path, source: str, says: str
) -> None:
    """Templates are rendered against sample data when loaded: one that would take all memory or
    time, recurse, or fail for any data is refused with its file and line, before any notice."""
    folder = notice_folder(tmp_path, "overdue", "body.txt", "催办\n" + source + "\n")
    with pytest.raises(DefinitionError) as caught:
        Engine(db_url, notifications=folder)
    assert caught.value.file.endswith("overdue/body.txt") and caught.value.line in (0, 2)
    assert says in str(caught.value)


# ---- held notices -----------------------------------------------------------------------------


def test_a_held_notice_goes_once_the_unit_has_an_address(engine: Engine) -> None:
    """A 交办通知 for a unit without an address is held with an incident; adding the address queues
    it (same notice, same key) at that address and resolves the incident, in one step."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit=LEAD)
    [held] = engine.outbox(item=item.id)
    assert held["status"] == "held" and engine.dispatch()["claimed"] == 0
    engine.add_party("unit", LEAD, contacts={"handler": "sunli@jt.example"})
    [queued] = engine.outbox(item=item.id)
    assert (queued["id"], queued["key"], queued["status"], queued["address"]) == (
        held["id"],
        held["key"],
        "queued",
        "sunli@jt.example",
    )
    assert engine.incidents() == []
    [closed] = engine.incidents(open_only=False)
    assert closed["notice_id"] == held["id"] and LEAD in closed["note"]


def test_an_address_for_another_role_or_unit_releases_nothing(engine: Engine) -> None:
    """Only the address the held notice needs releases it: a department head's address, or another
    unit's handler, leaves the handler's notice held."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit=LEAD)
    engine.add_party("unit", LEAD, contacts={"department_head": "head@jt.example"})
    engine.add_party("unit", "市民政局", contacts={"handler": "h@mz.example"})
    assert [n["status"] for n in engine.outbox(item=item.id)] == ["held"]
    assert len(engine.incidents()) == 1


def test_a_held_deputy_notice_goes_once_the_deputy_has_an_address(engine: Engine) -> None:
    """The 征询意见表 to a deputy without an address is held and goes when the deputy's address is added."""
    engine.add_party("unit", LEAD, contacts={"handler": "h@jt.example"})
    engine.add_party("unit", "市民政局", contacts={"handler": "h@mz.example"})
    item = to_handling(engine)
    engine.fire(item.id, "submit_co_opinion", actor=unit("市民政局"), opinion="同意")
    engine.fire(item.id, "reply", actor=unit(LEAD), category="A", text="已办", signer="局长")
    [form] = [n for n in engine.outbox(item=item.id) if n["type"] == "feedback_form"]
    assert (form["status"], form["recipient"]) == ("held", "王芳")
    engine.add_party("deputy", "王芳", contacts={"address": "wangfang@rd.example"})
    [form] = [n for n in engine.outbox(item=item.id) if n["type"] == "feedback_form"]
    assert (form["status"], form["address"]) == ("queued", "wangfang@rd.example")


def test_retry_takes_the_address_the_party_has_now(engine: Engine) -> None:
    """Retrying a failed notice asks the party record again: the corrected address is used, not the
    bad one stored on the notice; with no address left there, the notice is held, not lost."""
    engine.add_party("unit", LEAD, contacts={"handler": "not-an-address"})
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit=LEAD)
    engine.dispatch()
    [failed] = engine.outbox(item=item.id)
    assert failed["status"] == "failed"
    engine.add_party("unit", LEAD, contacts={"handler": "sunli@jt.example"})
    assert engine.retry(failed["id"]) == {"id": failed["id"], "status": "queued", "address": "sunli@jt.example"}
    assert engine.outbox(item=item.id)[0]["address"] == "sunli@jt.example"
    assert engine.incidents() == []
    with pytest.raises(NotFound):
        engine.retry(failed["id"])  # queued, not failed: nothing to retry


def test_resend_queues_a_held_notice_once_the_office_address_is_set(db_url: str, clock: FakeClock) -> None:
    """A notice to the office held for want of office_address is queued by resend once the setting is
    there; resend of a notice still without an address keeps it held and says so."""
    eng = Engine(db_url, clock=clock)
    eng.add_party("unit", LEAD, contacts={"handler": "h@jt.example"})
    item = to_handling(eng, co_units=())
    eng.sweep(day_after_due(eng, item.id) + dt.timedelta(days=40), dispatch=False)
    [held] = [n for n in eng.outbox(status="held") if n["role"] == "office"]
    assert eng.resend(held["id"])["status"] == "held"
    eng.settings = Settings(office_address="office@rd.example")
    assert eng.resend(held["id"]) == {"id": held["id"], "status": "queued", "address": "office@rd.example"}
    eng.close()


def test_an_incident_is_resolved_with_a_note(engine: Engine) -> None:
    """An open incident can be closed with a note saying how; closing it again is NotFound."""
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit=LEAD)
    [incident] = engine.incidents()
    done = engine.resolve_incident(incident["id"], "已电话通知承办人")
    assert done["note"] == "已电话通知承办人" and done["resolved_at"] is not None
    assert engine.incidents() == []
    with pytest.raises(NotFound):
        engine.resolve_incident(incident["id"], "again")


# ---- after downtime -----------------------------------------------------------------------------


def test_a_sweep_after_60_days_of_downtime_sends_one_notice_per_clock(open_engine: Any) -> None:
    """A daemon back 60 days after an item's due date records every escalation level it earned and
    every step (as skipped, with the reason), but each recipient gets one notice: the latest level's.
    No reminder "before the due date" is sent after it, and no two identical notices on one day."""
    eng = open_engine()
    with_addresses(eng)
    item = to_handling(eng, co_units=())
    before = {n["id"] for n in eng.outbox()}
    result = eng.sweep(day_after_due(eng, item.id) + dt.timedelta(days=60), dispatch=False)
    sent = [n for n in eng.outbox() if n["id"] not in before]
    assert {n["type"] for n in sent} == {"supervision_letter"} and len({n["cause"] for n in sent}) == 1
    assert len({(n["role"], n["recipient"]) for n in sent}) == len(sent)
    assert not any(n["type"] == "reminder" for n in sent)
    with eng.db.connect() as conn:
        steps = conn.execute(sa.select(_STEP).order_by(_STEP.c.step)).mappings().all()
    assert [s["kind"] for s in steps] == ["reminder", "reminder", "escalation", "escalation", "escalation"]
    assert [s["skipped"] is None for s in steps] == [False, False, False, False, True]
    assert all("第3级督办" in s["skipped"] for s in steps[:-1])
    assert result.counts["skipped"] == 4 and result.counts["escalations"] == 3


def test_a_reminder_whose_due_date_has_passed_is_skipped() -> None:
    """Of steps due together, only the latest one with a notice is sent, and not even that one when
    it is a reminder and the due date (a Beijing date) has already passed; a timeout step has no
    notice of its own and does not count as the latest."""
    at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    reminder = Step(0, "reminder", 0, at, ("handler",), "reminder")
    escalation = Step(1, "escalation", 1, at, ("handler",), "overdue")
    timeout = Step(2, "timeout", 0, at, (), "")
    due = dt.date(2026, 6, 22)
    on_due_day = dt.datetime(2026, 6, 22, 15, 59, tzinfo=dt.UTC)  # 23:59 in Beijing
    after = dt.datetime(2026, 6, 22, 16, 0, tzinfo=dt.UTC)  # 00:00 on 06-23 in Beijing
    assert _superseded([reminder, reminder], due, on_due_day) == {0: "与提醒同时到期，只发送最新的通知"}
    assert set(_superseded([reminder, reminder], due, after)) == {0, 1}
    assert "已过期限" in _superseded([reminder], due, after)[0]
    assert _superseded([reminder, escalation, timeout], due, after) == {0: "与第1级督办同时到期，只发送最新的通知"}


def test_the_cli_lists_held_notices_with_item_unit_and_recipient_and_resolves_incidents(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``duban notices --failed`` names each held notice's item, unit and recipient and its incident;
    ``duban notices resend`` says it is still held; ``duban notices resolve N --note`` closes the incident."""
    from workflow.cli import main

    def duban(*args: str) -> tuple[int, str, str]:
        code = main(["--db", db_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    assert duban("party", "add", "unit", LEAD)[0] == 0
    item = json.loads(
        duban("submit", "suggestion", "--title", "建议", "--proposer", "王芳", "--set", "origin=session", "--json")[1]
    )
    assert duban("fire", str(item["id"]), "register")[0] == 0
    assert duban("fire", str(item["id"]), "assign", "--set", f"lead_unit={LEAD}")[0] == 0
    code, out, _ = duban("notices", "--failed")
    assert code == 0 and "[held]" in out and f"item {item['id']}" in out and LEAD in out and "no address yet" in out
    listed = json.loads(duban("notices", "--failed", "--json")[1])
    [notice], [incident] = listed["notices"], listed["incidents"]
    assert (notice["unit"], notice["status"]) == (LEAD, "held") and incident["notice_id"] == notice["id"]
    code, out, _ = duban("notices", "resend", str(notice["id"]))
    assert code == 0 and "held" in out
    code, out, _ = duban("notices", "resolve", str(incident["id"]), "--note", "已电话通知")
    assert code == 0 and duban("notices", "--failed", "--json")[1].count('"incidents": []') == 1
    code, _, err = duban("notices", "resolve", str(incident["id"]))
    assert code == 2 and "no open incident" in err
