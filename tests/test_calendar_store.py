"""A loaded calendar is stored in the database: every process counts with it (issue 13, item 3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import UNITS, snapshot, suggestion

from workflow import DefinitionError, Engine
from workflow.calendar import SHANGHAI
from workflow.cli import main
from workflow.testing import FakeClock

D = dt.date.fromisoformat
Y2027 = "year: 2027\nsource: 测试用 (假设的2027年放假安排)\nholidays:\n  春节:\n    rest: [2027-03-01, 2027-03-02]\n"


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(D(day), dt.time(hour), SHANGHAI)


def assigned(eng: Engine, day: str) -> int:
    if not eng.parties("unit"):
        for name in UNITS:
            eng.add_party("unit", name, principal_leader="主要领导", department_head="部门负责人", handler="承办人员")
    item = suggestion(eng, at=at(day, 7))  # 07:00 Beijing is the previous day in UTC
    eng.fire(item.id, "register", at=at(day, 7))
    eng.fire(item.id, "assign", at=at(day), lead_unit="市交通运输局", co_units=["市民政局"])
    return item.id


def reply_due(eng: Engine, item_id: int) -> object:
    return next(d["due"] for d in eng.get(item_id).deadlines if d["clock"] == "reply")


def folder(tmp_path: Path, text: str = Y2027) -> Path:
    where = tmp_path / "cal"
    where.mkdir(exist_ok=True)
    (where / "2027.yaml").write_text(text, encoding="utf-8")
    return where


def test_second_engine_counts_with_a_year_another_loaded(db_url: str, tmp_path: Path) -> None:
    """Two engines on one database: after one loads 2027, the other (opened earlier) counts with it
    at its next fire, and its recomputation never flips the moved deadline back."""
    clock = FakeClock(at("2026-11-30"))
    a, b = Engine(db_url, clock=clock), Engine(db_url, clock=clock)
    late = assigned(a, "2026-11-30")
    assert reply_due(a, late) == D("2027-03-01")
    changes = a.reload_calendar([folder(tmp_path)])
    assert [(c["old_due"], c["new_due"]) for c in changes] == [("2027-03-01", "2027-03-03")]
    other = assigned(b, "2026-11-30")  # b opened before the load
    assert reply_due(b, other) == D("2027-03-03")
    assert b.reload_calendar() == []  # nothing flips back
    assert reply_due(b, late) == D("2027-03-03")
    c = Engine(db_url, clock=clock)
    assert c.calendar.sources[2027].startswith("测试用")
    for eng in (a, b, c):
        eng.close()


def test_stored_year_wins_over_a_calendar_folder_of_the_same_year(db_url: str, tmp_path: Path) -> None:
    """A deployment's stored year wins over a calendar= folder (and the bundled file) for that year."""
    clock = FakeClock(at("2026-11-30"))
    with Engine(db_url, clock=clock) as eng:
        eng.reload_calendar([folder(tmp_path)])
    other = tmp_path / "other"
    other.mkdir()
    (other / "2027.yaml").write_text(Y2027.replace("测试用", "另一份").replace("2027-03-02]", "2027-03-05]"), "utf-8")
    with Engine(db_url, clock=clock, calendar=other) as eng:
        assert eng.calendar.sources[2027].startswith("测试用")
        years = {y["year"]: y for y in eng.calendar_years()}
        assert years[2027]["origin"] == "stored" and years[2026]["origin"] == "bundled"


def test_bad_file_stores_nothing(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """duban calendar load with a bad file: FILE:LINE:COL, exit 2, nothing stored or recomputed."""
    clock = FakeClock(at("2026-11-30"))
    with Engine(db_url, clock=clock) as eng:
        assigned(eng, "2026-11-30")
        before = snapshot(eng)
        bad = folder(tmp_path, "year: 2027\nsource: 测试用通知\nholidays:\n  元旦:\n    rest: [2026-12-31]\n")
        with pytest.raises(DefinitionError):
            eng.reload_calendar([bad])
        assert snapshot(eng) == before
    assert main(["--db", db_url, "calendar", "load", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "2027.yaml:5:" in err
    with Engine(db_url, clock=clock) as eng:
        assert snapshot(eng) == before


def test_cli_load_then_list_and_a_later_cli_call(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """duban calendar load stores the year; calendar list shows it stored; a later CLI fire counts with it."""
    with Engine(db_url, clock=FakeClock(at("2026-11-30"))) as eng:
        late = assigned(eng, "2026-11-30")
    assert main(["--db", db_url, "calendar", "load", str(folder(tmp_path))]) == 0
    assert "1 open deadline(s) moved" in capsys.readouterr().out
    assert main(["--db", db_url, "calendar", "list"]) == 0
    assert "2027  stored v1  测试用" in capsys.readouterr().out
    assert main(["--db", db_url, "calendar", "load", str(folder(tmp_path))]) == 0  # same text: no new version
    capsys.readouterr()
    assert main(["--db", db_url, "fire", str(late), "accept", "--actor", "unit:市民政局"]) == 0
    with Engine(db_url) as eng:
        assert reply_due(eng, late) == D("2027-03-03")
        assert [y["version"] for y in eng.calendar_years() if y["year"] == 2027] == [1]
