"""`duban demo` never touches someone else's data: it writes its own file by default, may run again over
that file, and refuses a database holding items or parties (or another application's file) unless --force."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import snapshot, to_handling

from workflow import Engine
from workflow.cli import main


def test_the_demo_refuses_a_database_with_items_or_parties(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`duban demo --db URL` on a database holding items and parties exits 2 with one line saying what it
    holds and how to go on, and leaves every row as it was; with --force it replaces them with the demo's."""
    monkeypatch.chdir(tmp_path)
    to_handling(engine)
    before = snapshot(engine)
    code = main(["demo", "--db", engine.url])
    out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in out + err, err
    assert err.startswith("error: --db: ") and "holds 1 item and 7 parties, which the demo would delete" in err
    assert "--force" in err
    assert snapshot(engine) == before
    assert main(["demo", "--db", engine.url, "--force", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["audit_intact"] is True
    assert "关于增加通勤班车密度的建议" in {i.title for i in engine.items()}
    assert "市交通运输局" in {p["name"] for p in engine.parties("unit")}


def test_the_demo_writes_its_own_file_and_may_run_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --db the demo writes duban-demo.db in the current folder (whatever DUBAN_DB says) and may run
    again over it, as `make demo` does; another application's SQLite file, or a duban database with items,
    at that name is refused, unless --force."""
    monkeypatch.chdir(tmp_path)
    county = tmp_path / "county.db"
    monkeypatch.setenv("DUBAN_DB", f"sqlite:///{county}")
    for _ in range(2):
        assert main(["demo", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["audit_intact"] is True
    assert (tmp_path / "duban-demo.db").is_file() and not county.exists()
    (tmp_path / "duban-demo.db").unlink()
    with sqlite3.connect(tmp_path / "duban-demo.db") as conn:
        conn.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY)")
    assert main(["demo"]) == 2
    assert "duban-demo.db holds 1 table of another application" in capsys.readouterr().err
    with Engine(f"sqlite:///{county}") as eng:
        eng.add_party("unit", "县民政局")
    assert main(["demo", "--db", f"sqlite:///{county}"]) == 2
    assert "county.db holds 1 party, which the demo would delete" in capsys.readouterr().err
    with Engine(f"sqlite:///{county}") as eng:
        assert [p["name"] for p in eng.parties("unit")] == ["县民政局"]
    assert main(["demo", "--force", "--json"]) == 0
