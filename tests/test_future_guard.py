"""A sweep, submit or fire dated far ahead of the real clock is refused (issue 13, item 4)."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import snapshot, suggestion

from workflow import Engine
from workflow.cli import main
from workflow.errors import ValidationError
from workflow.testing import FakeClock

SH = dt.timezone(dt.timedelta(hours=8))


def _wall() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_sweep_ten_years_ahead_is_refused_on_the_cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`duban sweep --now` ten years ahead exits 2 with one line naming --now, and writes nothing."""
    with Engine(db_url) as eng:
        item = eng.submit("suggestion", title="班车", origin="session", proposers=["王芳"])
        eng.fire(item.id, "register")
        before = snapshot(eng)
    when = (_wall() + dt.timedelta(days=3650)).astimezone(SH).strftime("%Y-%m-%dT%H:%M")
    code = main(["--db", db_url, "sweep", "--now", when])
    _out, err = capsys.readouterr()
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "--now" in lines[0] and "--allow-future" in lines[0] and "北京时间" in lines[0]
    with Engine(db_url) as eng:
        assert snapshot(eng) == before


def test_allow_future_lets_the_cli_sweep_ahead(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--allow-future is the explicit way to sweep at a future instant (demo, tests)."""
    when = (_wall() + dt.timedelta(days=400)).astimezone(SH).strftime("%Y-%m-%dT03:00")
    assert main(["--db", db_url, "sweep", "--now", when, "--allow-future", "--no-dispatch"]) == 0
    capsys.readouterr()


def test_fire_and_submit_at_far_ahead_are_refused(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """duban submit/fire --at beyond the margin exit 2 naming --at; with --allow-future they go through."""
    ahead = (_wall() + dt.timedelta(days=30)).astimezone(SH).strftime("%Y-%m-%dT02:30")
    args = ["--db", db_url, "submit", "suggestion", "--title", "t", "--proposer", "王芳", "--set", "origin=session"]
    assert main([*args, "--at", ahead]) == 2
    assert "--at" in capsys.readouterr().err
    assert main([*args, "--at", ahead, "--allow-future", "--json"]) == 0
    capsys.readouterr()
    later = (_wall() + dt.timedelta(days=31)).astimezone(SH).strftime("%Y-%m-%dT02:40")
    assert main(["--db", db_url, "fire", "1", "register", "--at", later]) == 2
    assert "--at" in capsys.readouterr().err
    assert main(["--db", db_url, "fire", "1", "register", "--at", later, "--allow-future"]) == 0


def test_real_clock_engine_refuses_at_beyond_margin_and_keeps_the_database(db_url: str) -> None:
    """Engine(clock=None): at= more than future_margin ahead raises ValidationError('at'); nothing written."""
    with Engine(db_url) as eng:
        item = suggestion(eng)
        before = snapshot(eng)
        with pytest.raises(ValidationError) as exc:
            eng.fire(item.id, "register", at=_wall() + dt.timedelta(days=2))
        assert exc.value.field == "at"
        with pytest.raises(ValidationError) as exc:
            eng.sweep(_wall() + dt.timedelta(days=2))
        assert exc.value.field == "now"
        with pytest.raises(ValidationError):
            eng.submit("suggestion", title="t", origin="session", proposers=["王芳"], at=_wall() + dt.timedelta(days=5))
        assert snapshot(eng) == before
        # within the margin is fine (a clock a few hours behind the office's)
        eng.fire(item.id, "register", at=_wall() + dt.timedelta(hours=20))


def test_margin_and_allow_future_are_configurable(db_url: str) -> None:
    """future_margin widens the window; allow_future=True lifts the guard."""
    with Engine(db_url, future_margin=dt.timedelta(days=10)) as eng:
        item = suggestion(
            eng,
        )
        eng.fire(item.id, "register", at=_wall() + dt.timedelta(days=9))
    with Engine(db_url, allow_future=True) as eng:
        eng.sweep(_wall() + dt.timedelta(days=3650), dispatch=False)


def test_injected_clock_is_its_own_truth(db_url: str) -> None:
    """With an injected clock (tests, simulations) explicit instants years ahead are accepted."""
    clock = FakeClock(dt.datetime(2026, 3, 1, 1, 30, tzinfo=SH))
    with Engine(db_url, clock=clock) as eng:
        item = suggestion(eng)
        eng.fire(item.id, "register", at=dt.datetime(2062, 9, 1, 3, 0, tzinfo=SH))


@pytest.mark.parametrize("command", ["import", "migrate"])
def test_import_and_migrate_refuse_a_future_at(
    db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: object, command: str
) -> None:
    """`duban import --at` and `duban migrate --at` ten years ahead exit 2 naming --at, writing nothing."""
    from pathlib import Path

    folder = Path(str(tmp_path))
    sheet, mapping = folder / "sheet.csv", folder / "map.yaml"
    sheet.write_text("标题,提出代表,大会期间/闭会期间\n关于增加班车的建议,王芳,大会期间\n", encoding="utf-8")
    mapping.write_text("kind: suggestion\nfrom: 1\nto: 1\nstates: {submitted: submitted}\n", encoding="utf-8")
    with Engine(db_url) as eng:
        before = snapshot(eng)
    when = (_wall() + dt.timedelta(days=3650)).astimezone(SH).strftime("%Y-%m-%d")
    args = ["import", str(sheet)] if command == "import" else ["migrate", "suggestion", "--map", str(mapping)]
    code = main(["--db", db_url, *args, "--at", when])
    err = capsys.readouterr().err
    assert code == 2 and "--at" in err and "--allow-future" in err and "Traceback" not in err
    with Engine(db_url) as eng:
        assert snapshot(eng) == before
