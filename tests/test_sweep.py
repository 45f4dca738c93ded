"""Engine.sweep: due reminders, escalation levels and timeouts, each acted on exactly once."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import T0, UNITS, suggestion, to_handling, to_replied, unit

from workflow import ConflictError, Engine
from workflow.channels import Settings
from workflow.notify import Lookup
from workflow.store import TABLES
from workflow.sweep import _act, _claim
from workflow.testing import FakeClock, clone_items

OVERDUE = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)  # the reply period (交办 2026-03-20 + 3 months) is long over
_D, _AUDIT, _NOTICE = TABLES["duban_deadline"], TABLES["duban_audit"], TABLES["duban_notice"]


def contacts(name: str) -> dict[str, str]:
    return {role: f"{role}@{name}.gov.cn" for role in ("handler", "department_head", "principal_leader")}


def open_engine(url: str, clock: FakeClock, folder: Path, **kw: object) -> Engine:
    settings = Settings(outbox_dir=str(folder), office_address="office@rd.gov.cn")
    eng = Engine(url, clock=clock, settings=settings, **kw)  # type: ignore[arg-type]
    for name in UNITS:
        eng.add_party(
            "unit", name, principal_leader="张局长", department_head="李处长", handler="王科员", contacts=contacts(name)
        )
    eng.add_party("deputy", "王芳", contacts={"address": "wangfang@example.cn"})
    return eng


@pytest.fixture
def eng(db_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(db_url, clock, tmp_path / "outbox")
    yield engine
    engine.close()


def escalations(eng: Engine, item_id: int) -> list[dict[str, object]]:
    with eng.db.connect() as conn:
        rows = conn.execute(
            sa.select(_AUDIT.c.data)
            .where(_AUDIT.c.item_id == item_id, _AUDIT.c.trigger == "escalate")
            .order_by(_AUDIT.c.seq)
        )
        return [r.data for r in rows]


def notice_causes(eng: Engine, item_id: int) -> list[str]:
    with eng.db.connect() as conn:
        rows = conn.execute(sa.select(_NOTICE.c.key).where(_NOTICE.c.item_id == item_id).order_by(_NOTICE.c.id))
        return [r.key for r in rows]


def test_sweep_escalates_an_overdue_item_through_each_level_it_has_earned_once_in_order(eng: Engine) -> None:
    """A daemon back after months off escalates an overdue item to every level it has earned, in
    order: each level is an audit row on the item; only the latest level's notice is sent (to the
    office, level 3), the earlier steps are recorded as skipped."""
    item = to_handling(eng, co_units=())
    result = eng.sweep(OVERDUE, dispatch=False)
    levels = [(e["clock"], e["level"]) for e in escalations(eng, item.id)]
    assert levels == [("reply", 1), ("reply", 2), ("reply", 3)]
    assert result.counts["escalations"] == 3
    assert result.counts["reminders"] == 2  # 15 days and 3 days before the due date
    assert result.counts["skipped"] == 4
    detail = eng.get(item.id)
    assert [e.trigger for e in detail.history][-3:] == ["escalate"] * 3
    assert detail.state == "handling"  # an escalation records, it does not move the item
    sent = [n for n in eng.outbox(item=item.id) if n["cause"].startswith("deadline:")]
    assert {(n["type"], n["cause"]) for n in sent} == {("supervision_letter", sent[0]["cause"])}
    assert eng.verify_audit(item.id) == []


def test_a_second_sweep_at_the_same_time_or_later_produces_nothing_again(eng: Engine) -> None:
    """Sweeping again (same instant, or later with nothing newly due) sends no notice twice and
    writes no second escalation."""
    item = to_handling(eng, co_units=())
    eng.sweep(OVERDUE, dispatch=False)
    before = (escalations(eng, item.id), notice_causes(eng, item.id))
    again = eng.sweep(OVERDUE, dispatch=False)
    later = eng.sweep(OVERDUE + dt.timedelta(days=30), dispatch=False)
    assert again.counts["claimed"] == later.counts["claimed"] == 0
    assert (escalations(eng, item.id), notice_causes(eng, item.id)) == before


def test_levels_fall_due_one_by_one_as_time_passes(eng: Engine) -> None:
    """Swept every day, an overdue item climbs one level at a time on the days its ladder names."""
    item = to_handling(eng, co_units=())
    reply = next(d for d in eng.deadlines(item=item.id) if d["clock"] == "reply")
    day = dt.datetime.combine(reply["due"], dt.time(12), dt.UTC)
    seen = []
    for _ in range(40):
        day += dt.timedelta(days=1)
        eng.sweep(day, dispatch=False)
        seen.append(len(escalations(eng, item.id)))
    assert seen[0] == 1 and seen[-1] == 3
    assert sorted(seen) == seen and set(seen) == {1, 2, 3}


def test_reminders_queue_a_notice_but_no_audit_row(eng: Engine) -> None:
    """A reminder before the due date tells the handler; it is not an event on the item."""
    item = to_handling(eng, co_units=())
    reply = next(d for d in eng.deadlines(item=item.id) if d["clock"] == "reply")
    before_due = dt.datetime.combine(reply["due"] - dt.timedelta(days=10), dt.time(12), dt.UTC)
    version = eng.get(item.id).version
    result = eng.sweep(before_due, dispatch=False)
    assert result.counts == result.counts | {"reminders": 1, "escalations": 0}
    assert eng.get(item.id).version == version
    assert [n["type"] for n in eng.outbox(item=item.id)].count("reminder") == 1


def test_a_stopped_clock_is_never_escalated(eng: Engine) -> None:
    """A reply given in time stops the clock: a later sweep escalates nothing on it."""
    item = to_replied(eng)
    eng.sweep(OVERDUE, dispatch=False)
    assert [e for e in escalations(eng, item.id) if e["clock"] == "reply"] == []


def test_sweep_dispatches_the_outbox_unless_told_not_to(eng: Engine, tmp_path: Path) -> None:
    """By default a sweep also delivers what it queued (here to the outbox folder); with
    ``dispatch=False`` the notices wait in the outbox for the dispatch job."""
    first, second = to_handling(eng, co_units=()), to_handling(eng, co_units=())
    waiting = eng.sweep(OVERDUE, dispatch=False)
    assert {n["status"] for n in eng.outbox(item=first.id)} - {"held"} == {"queued"}
    result = eng.sweep(OVERDUE + dt.timedelta(minutes=1))
    assert result.counts["sent"] >= waiting.counts["notices"] - len(eng.outbox(status="held")) > 0
    assert {n["status"] for n in eng.outbox(item=first.id) + eng.outbox(item=second.id)} - {"held"} == {"sent"}
    assert any((tmp_path / "outbox").iterdir())


def test_sweep_returns_and_logs_counts_and_duration(eng: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """Each pass logs one structured record with its counts, duration and worker."""
    to_handling(eng, co_units=())
    with caplog.at_level(logging.INFO, logger="duban.sweep"):
        result = eng.sweep(OVERDUE, dispatch=False, worker="daemon-a")
    record = next(r for r in caplog.records if r.name == "duban.sweep")
    assert record.sweep == result.to_dict()  # type: ignore[attr-defined]
    assert result.worker == "daemon-a" and result.duration > 0 and result.batches == 1
    assert result.to_dict()["counts"]["escalations"] == 3


def test_small_batches_produce_the_same_as_one_big_batch(db_url: str, clock: FakeClock, tmp_path: Path) -> None:
    """The batch size bounds each transaction, not what a sweep produces."""
    eng = open_engine(db_url, clock, tmp_path / "o")
    template = to_handling(eng)
    clone_items(eng, template.id, 30)
    result = eng.sweep(OVERDUE, dispatch=False, batch=7)
    assert result.batches >= 9
    assert result.counts["escalations"] == 31 * 5  # reply 3 levels + co-opinion 2 levels per item
    assert {len(escalations(eng, i.id)) for i in eng.items(limit=100)} == {5}
    eng.close()


def test_a_lease_held_by_a_dead_sweeper_is_taken_over_once_it_expires(eng: Engine) -> None:
    """A sweeper that claimed deadlines and died holds them only for its lease; then another
    sweeper produces their steps, once."""
    item = to_handling(eng, co_units=())
    claimed = _claim(eng.db, OVERDUE, "dead-sweeper", OVERDUE + dt.timedelta(minutes=5), 100)
    assert claimed
    assert eng.sweep(OVERDUE + dt.timedelta(minutes=1), dispatch=False).counts["escalations"] == 0
    taken = eng.sweep(OVERDUE + dt.timedelta(minutes=6), dispatch=False)
    assert taken.counts["escalations"] == 3
    with eng.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(_D.c.claimed_by.is_not(None))).scalar() == 0
    assert len(escalations(eng, item.id)) == 3


def test_a_sweeper_whose_lease_ran_out_cannot_produce_a_step_again(eng: Engine) -> None:
    """If a slow sweeper finally acts after its lease was taken over and the steps produced, its
    compare-and-set fails: nothing is doubled."""
    item = to_handling(eng, co_units=())
    slow = _claim(eng.db, OVERDUE, "slow", OVERDUE + dt.timedelta(minutes=5), 100)
    eng.sweep(OVERDUE + dt.timedelta(minutes=6), dispatch=False, worker="fast")
    counts, steps = _act(eng, slow, OVERDUE, "slow", Lookup())
    assert steps == []
    assert counts["escalations"] == counts["reminders"] == counts["notices"] == 0
    assert len(escalations(eng, item.id)) == 3


def test_an_escalation_moves_the_item_version_so_a_stale_expected_version_conflicts(eng: Engine) -> None:
    """An escalation is an event on the item: a caller holding the version from before it gets a
    ConflictError and reloads, instead of writing over history it has not seen."""
    item = to_handling(eng, co_units=())
    eng.sweep(OVERDUE, dispatch=False)
    with pytest.raises(ConflictError):
        eng.fire(
            item.id,
            "record_contact",
            actor=unit("市交通运输局"),
            stage="during",
            method="phone",
            expected_version=item.version,
        )


def test_deemed_satisfied_is_off_by_default(eng: Engine) -> None:
    """Silence is not satisfaction unless the jurisdiction says so: without the parameter, an
    unanswered feedback form only escalates to the office."""
    item = to_replied(eng)
    eng.sweep(OVERDUE, dispatch=False)
    assert eng.get(item.id).state == "replied"


def test_deemed_satisfied_where_enabled_evaluates_as_the_system_after_its_period(
    db_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    """With ``deemed_satisfied`` on, a deputy's silence for ``deemed_satisfied_after`` makes the
    sweep record the evaluation as satisfied, by the system, marked deemed; once only."""
    eng = open_engine(db_url, clock, tmp_path / "o", parameters={"suggestion": {"deemed_satisfied": True}})
    item = to_replied(eng)
    replied_on = eng.get(item.id).updated_at
    early = eng.sweep(replied_on + dt.timedelta(days=20), dispatch=False)
    assert early.counts["timeouts"] == 0 and eng.get(item.id).state == "replied"
    late = eng.sweep(replied_on + dt.timedelta(days=32), dispatch=False)
    assert late.counts["timeouts"] == 1
    detail = eng.get(item.id)
    assert detail.state == "evaluated"
    last = detail.history[-1]
    assert (last.trigger, last.actor, last.data["result"], last.data["deemed"]) == (
        "evaluate",
        "system",
        "satisfied",
        True,
    )
    assert eng.sweep(replied_on + dt.timedelta(days=60), dispatch=False).counts["timeouts"] == 0
    assert eng.verify_audit(item.id) == []
    eng.close()


def test_promise_dates_are_swept_like_any_clock(eng: Engine) -> None:
    """A B-category reply's promise falls due on its own date (a Saturday carries it to Monday
    2026-08-03); the sweep escalates it once that day has ended, not before."""
    item = to_replied(eng, category="B", promises=[{"what": "增开两条线路", "by": dt.date(2026, 8, 1)}])
    eng.sweep(dt.datetime(2026, 8, 3, 12, tzinfo=dt.UTC), dispatch=False)  # 20:00 in Beijing, still the 3rd
    assert [e["clock"] for e in escalations(eng, item.id)] == ["feedback"]
    eng.sweep(dt.datetime(2026, 8, 3, 16, tzinfo=dt.UTC), dispatch=False)  # 24:00 in Beijing
    assert [(e["clock"], e["level"]) for e in escalations(eng, item.id)] == [("feedback", 1), ("promise", 1)]


def test_sweep_starts_from_an_empty_database(eng: Engine) -> None:
    """With nothing open, a sweep claims nothing and reports zeros."""
    result = eng.sweep(T0, dispatch=False)
    assert result.counts["claimed"] == 0 and result.batches == 0


def test_a_bad_batch_size_is_refused(eng: Engine) -> None:
    """A batch below one is a caller's mistake, named."""
    with pytest.raises(ValueError, match="batch"):
        eng.sweep(T0, batch=0)


def test_an_unassigned_item_has_no_clock_to_sweep(eng: Engine) -> None:
    """An item that has not been assigned has no clock: a sweep leaves it alone."""
    item = suggestion(eng)
    eng.sweep(OVERDUE, dispatch=False)
    assert eng.get(item.id).version == item.version


def test_a_stop_request_ends_the_pass_after_the_batch_in_hand(db_url: str, clock: FakeClock, tmp_path: Path) -> None:
    """A daemon asked to stop finishes and commits the batch it holds, starts no other, and leaves
    the rest for the next pass: nothing half-done, nothing lost."""
    eng = open_engine(db_url, clock, tmp_path / "o")
    clone_items(eng, to_handling(eng, co_units=()).id, 9)
    asked = iter([False, True])
    first = eng.sweep(OVERDUE, dispatch=False, batch=4, stop=lambda: next(asked, True))
    assert first.batches == 1 and first.counts["claimed"] == 4 and first.counts["escalations"] == 12
    rest = eng.sweep(OVERDUE, dispatch=False, batch=4)
    assert rest.counts["claimed"] == 6 and rest.counts["escalations"] == 18
    eng.close()


def test_a_withdrawn_item_is_never_chased(eng: Engine) -> None:
    """Withdrawing an item stops every clock it had running (reply, objection window, co-unit
    opinions): no sweep reminds or escalates anyone about it afterwards."""
    item = suggestion(eng)
    eng.fire(item.id, "register")
    eng.fire(item.id, "assign", lead_unit="市交通运输局", co_units=["市民政局"])
    eng.fire(item.id, "withdraw")
    assert eng.deadlines(item=item.id) == []
    result = eng.sweep(OVERDUE, dispatch=False)
    assert result.counts["claimed"] == 0 and escalations(eng, item.id) == []
