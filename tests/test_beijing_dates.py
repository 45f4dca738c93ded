"""Every date duban derives from an instant is the Asia/Shanghai date, and every instant it shows a
person is in Beijing time: the instants here fall between 00:00 and 07:59 in Beijing, when the UTC
date is still the day before."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import UNITS, snapshot, suggestion, to_handling, unit

from workflow import Engine, ValidationError
from workflow.beijing import SHANGHAI, beijing_date, beijing_text
from workflow.cli import main
from workflow.render import cn_date, cn_datetime
from workflow.testing import FakeClock


def bj(text: str) -> dt.datetime:
    """A Beijing wall-clock time, as an aware instant."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize("clock_text", ["00:00", "00:30", "07:59"])
def test_beijing_date_of_an_early_morning_instant_is_that_day_not_the_utc_one(clock_text: str) -> None:
    """beijing_date gives the Beijing calendar day of an instant whose UTC date is the day before."""
    instant = bj(f"2026-03-10T{clock_text}")
    assert instant.astimezone(dt.UTC).date() == dt.date(2026, 3, 9)
    assert beijing_date(instant) == dt.date(2026, 3, 10)
    assert beijing_date(instant.astimezone(dt.UTC)) == dt.date(2026, 3, 10)


def test_instants_are_shown_in_beijing_time_and_say_so() -> None:
    """beijing_text shows the Beijing wall-clock time, marked 北京时间, whatever zone the instant is in."""
    instant = bj("2026-01-20T00:00").astimezone(dt.UTC)
    assert beijing_text(instant) == "2026-01-20 00:00:00 (北京时间)"
    assert beijing_text(instant, "minutes", label=False) == "2026-01-20 00:00"


def test_a_contact_recorded_at_half_past_midnight_is_dated_that_day(engine: Engine) -> None:
    """A contact fired at 00:30 Beijing time without contacted_on is dated the Beijing day, not the UTC one."""
    item = to_handling(engine)
    engine.fire(
        item.id, "record_contact", actor=unit(UNITS[0]), at=bj("2026-03-21T00:30"), stage="before", method="phone"
    )
    assert [c["contacted_on"] for c in engine.get(item.id).contacts] == [dt.date(2026, 3, 21)]


def test_a_promise_dated_before_a_reply_at_half_past_midnight_is_refused(engine: Engine) -> None:
    """A reply fired at 2026-04-20 00:30 Beijing time refuses a promise dated 2026-04-19 (naming the field),
    writes nothing, and accepts a promise dated the reply's own Beijing day."""
    item = to_handling(engine)
    engine.fire(item.id, "submit_co_opinion", actor=unit("市民政局"), opinion="同意")
    reply = {"category": "B", "text": "列入计划", "signer": "局长"}
    before = snapshot(engine)
    with pytest.raises(ValidationError) as caught:
        engine.fire(
            item.id,
            "reply",
            actor=unit(UNITS[0]),
            at=bj("2026-04-20T00:30"),
            promises=[{"what": "加密班次", "by": "2026-04-19"}],
            **reply,
        )
    assert caught.value.field == "promises[0].by"
    assert "2026-04-19 is before the reply date 2026-04-20" in str(caught.value)
    assert snapshot(engine) == before
    engine.fire(
        item.id,
        "reply",
        actor=unit(UNITS[0]),
        at=bj("2026-04-20T00:30"),
        promises=[{"what": "加密班次", "by": "2026-04-20"}],
        **reply,
    )
    assert [p["by"] for p in engine.get(item.id).promises] == [dt.date(2026, 4, 20)]


def test_an_item_submitted_on_new_years_night_belongs_to_the_beijing_year(db_url: str) -> None:
    """An item submitted at 01:00 on 1 January in Beijing (still 31 December in UTC) is of the new year."""
    eng = Engine(db_url, clock=FakeClock(bj("2027-01-01T01:00")))
    assert suggestion(eng).year == 2027
    eng.close()


def test_a_clock_started_before_dawn_counts_from_the_beijing_day(engine: Engine) -> None:
    """An assignment at 2026-03-20 01:00 Beijing time (03-19 in UTC) starts the 3-month reply period on
    03-20, so it is due 2026-06-22 (DOMAIN.md's worked example), not 06-19."""
    engine.clock.set(bj("2026-03-20T00:05"))  # type: ignore[attr-defined]
    item = suggestion(engine)
    engine.fire(item.id, "register", at=bj("2026-03-20T00:10"))
    engine.fire(item.id, "assign", at=bj("2026-03-20T01:00"), lead_unit=UNITS[0])
    reply = next(d for d in engine.get(item.id).deadlines if d["clock"] == "reply")
    assert reply["start_date"] == "2026-03-20" or reply["start_date"] == dt.date(2026, 3, 20)
    assert str(reply["due"]) == "2026-06-22"


def test_notice_dates_of_an_instant_are_beijing_dates() -> None:
    """Templates' cn_date and cn_datetime show an instant on its Beijing day and hour."""
    instant = bj("2026-06-23T01:30").astimezone(dt.UTC)
    assert cn_date(instant) == "2026年6月23日"
    assert cn_datetime(instant) == "2026年6月23日 01:30"
    assert cn_date(dt.date(2026, 6, 23)) == "2026年6月23日"


def test_a_sweep_before_dawn_dates_its_notices_that_day(engine: Engine) -> None:
    """A reminder queued by a sweep at 00:30 Beijing time carries that Beijing day as its date."""
    engine.add_party("unit", UNITS[0], contacts={"handler": "handler@unit0.gov.cn"})
    item = suggestion(engine)
    engine.fire(item.id, "register")
    engine.fire(item.id, "assign", lead_unit=UNITS[0])
    engine.sweep(now=bj("2026-06-08T00:30"), dispatch=False)  # 15 days before 06-22: the first reminder
    bodies = [n["body_text"] for n in engine.outbox(item=item.id) if n["type"] == "reminder"]
    assert bodies and all("2026年6月8日" in b for b in bodies)
    assert not any("2026年6月7日" in b for b in bodies)


def test_report_cut_offs_are_beijing_days(engine: Engine) -> None:
    """An item submitted at 01:00 Beijing time on 04-01 is in a report from 04-01 and not in one to 03-31."""
    engine.clock.set(bj("2026-04-01T01:00"))  # type: ignore[attr-defined]
    suggestion(engine)
    assert engine.report(date_from="2026-04-01").data["summary"]["items"] == 1
    assert engine.report(date_to="2026-03-31").data["summary"]["items"] == 0


class Cli:
    def __init__(self, db: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.db, self.capsys = db, capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["--db", self.db, *args])
        out, err = self.capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    run = Cli(db_url, capsys)
    assert run("party", "add", "unit", "市民政局", "--principal-leader", "郑红")[0] == 0
    assert run("submit", "suggestion", "--title", "公布社区养老服务清单", "--proposer", "陈静",
               "--set", "origin=between_sessions", "--at", "2026-03-01")[0] == 0  # fmt: skip
    assert run("fire", "1", "register", "--at", "2026-03-02")[0] == 0
    assert run("fire", "1", "assign", "--set", "lead_unit=市民政局", "--at", "2026-03-03")[0] == 0
    return run


def test_cli_contact_at_a_date_is_stored_on_that_date(cli: Cli) -> None:
    """`duban fire 1 record_contact --at 2026-03-10` (midnight, Beijing) stores contacted_on 2026-03-10."""
    code, _, err = cli("fire", "1", "record_contact", "--actor", "unit:市民政局", "--set", "stage=before",
                       "--set", "method=phone", "--at", "2026-03-10")  # fmt: skip
    assert code == 0, err
    code, out, _ = cli("show", "1", "--json")
    assert [c["contacted_on"] for c in json.loads(out)["contacts"]] == ["2026-03-10"]


def test_cli_errors_show_instants_in_beijing_time(cli: Cli) -> None:
    """A fire dated before the item's last change names both instants in Beijing time, never in UTC."""
    code, _, err = cli("fire", "1", "accept", "--actor", "unit:市民政局", "--at", "2026-01-20")
    assert code == 2
    assert "2026-01-20 00:00:00 (北京时间)" in err and "2026-03-03 00:00:00 (北京时间)" in err
    assert "T16:00:00+00:00" not in err and "2026-01-19" not in err


def test_cli_show_prints_beijing_times(cli: Cli, tmp_path: Path) -> None:
    """`duban show` lists an assignment made at midnight Beijing time at 00:00 on its Beijing day."""
    code, out, _ = cli("show", "1")
    assert code == 0
    assert "2026-03-03 00:00" in out
    assert "2026-03-02 16:00" not in out and "+00:00" not in out
