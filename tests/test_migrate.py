"""duban migrate: items in flight move from one definition version to the next only through an explicit
state map, all or nothing, each move audited on the item, and a dry run that writes nothing."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import snapshot, suggestion, to_handling, to_replied, unit

from workflow import Actor, ConflictError, Engine, NotFound, ValidationError
from workflow.cli import main
from workflow.definition import bundled_dir
from workflow.errors import DefinitionError
from workflow.migrate import MigrationBlocked, apply, plan, read_map
from workflow.store import TABLES, reading
from workflow.testing import FakeClock

V1 = bundled_dir("definitions") / "suggestion.yaml"
MAP = {
    "submitted": "submitted",
    "registered": "registered",
    "assigned": "assigned",
    "handling": "in_progress",
    "replied": "replied",
}


def version_2(folder: Path) -> Path:
    """The bundled suggestion lifecycle with 办理中 renamed (handling → in_progress) and the co-unit opinion
    clock dropped: a new version of the definition."""
    folder.mkdir(exist_ok=True)
    text = re.sub(r"\bhandling\b", "in_progress", V1.read_text(encoding="utf-8"))
    start, end = text.index("  co_opinion:\n"), text.index("  reply:\n")
    (folder / "suggestion.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    return folder


@pytest.fixture
def flight(engine: Engine, db_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Suggestions in several states under the bundled version (v1), then v2 registered by an engine opened
    on the edited definition; returns the v2 engine and the item ids by what they are."""
    ids = {
        "submitted": suggestion(engine).id,
        "registered": engine.fire(suggestion(engine).id, "register").id,
        "rejected": engine.fire(suggestion(engine).id, "reject", reason="no_substance").id,
    }
    item = suggestion(engine).id
    engine.fire(item, "register")
    ids["assigned"] = engine.fire(item, "assign", lead_unit="市交通运输局").id
    ids["handling"] = to_handling(engine, co_units=()).id
    ids["co_pending"] = to_handling(engine).id  # the co-unit's opinion clock is still open
    ids["replied"] = to_replied(engine).id
    item = to_handling(engine, co_units=()).id
    ids["extension"] = engine.fire(
        item, "request_extension", actor=unit("市交通运输局"), reason="勘察", period="1 month"
    ).id
    v2 = Engine(db_url, clock=clock, definitions=version_2(tmp_path / "v2"))
    yield {"engine": v2, "ids": ids, "old": engine}
    v2.close()


def audit_count(eng: Engine, item_id: int) -> int:
    with reading(eng.db) as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(TABLES["duban_audit"].c.item_id == item_id)).scalar())


def test_a_new_version_changes_nothing_until_a_migration_says_so(flight: dict[str, Any]) -> None:
    """Opening an engine on an edited definition registers v2 for new items; items in flight stay on v1."""
    eng, ids = flight["engine"], flight["ids"]
    assert eng.definition("suggestion").states.get("in_progress") is not None
    handling = eng.get(ids["handling"])
    assert (handling.state, handling.definition_version) == ("handling", flight["old"]._current["suggestion"])
    new = suggestion(eng)
    assert new.definition_version == eng._current["suggestion"] != handling.definition_version


def test_the_plan_lists_every_move_and_every_item_that_cannot_move(flight: dict[str, Any]) -> None:
    """A plan names each item that would move (from state → to state) and each that cannot, with the reason;
    finished items stay; nothing is written."""
    eng, ids = flight["engine"], flight["ids"]
    before = snapshot(eng)
    planned = plan(eng, "suggestion", MAP)
    assert snapshot(eng) == before
    assert (planned.from_version, planned.to_version) == (1, 2)
    moves = {m.item_id: (m.from_state, m.to_state) for m in planned.moves}
    assert moves == {
        ids["submitted"]: ("submitted", "submitted"),
        ids["registered"]: ("registered", "registered"),
        ids["assigned"]: ("assigned", "assigned"),
        ids["handling"]: ("handling", "in_progress"),
        ids["replied"]: ("replied", "replied"),
    }
    reasons = {b.item_id: b.reason for b in planned.blocked}
    assert set(reasons) == {ids["co_pending"], ids["extension"]}
    assert (
        "open clock 'co_opinion'" in reasons[ids["co_pending"]]
        and "not defined in suggestion v2" in reasons[ids["co_pending"]]
    )
    assert "'extension_requested' is not in the map" in reasons[ids["extension"]]
    assert planned.finished == [ids["rejected"]]
    wrong = plan(eng, "suggestion", {**MAP, "extension_requested": "extension_asked"})
    reason = {b.item_id: b.reason for b in wrong.blocked}[ids["extension"]]
    assert "is mapped to 'extension_asked', a state suggestion v2 does not have" in reason
    renamed = plan(eng, "suggestion", {"submitted": "submitted"}, same_names=True)
    reason = {b.item_id: b.reason for b in renamed.blocked}[ids["handling"]]
    assert "'handling' keeps its name, but suggestion v2 has no state 'handling'" in reason


def test_apply_moves_every_item_at_once_and_audits_each_move(flight: dict[str, Any]) -> None:
    """Applied, each item takes the new version and its mapped state with one audit row (trigger migrate)
    continuing its hash chain; its open clocks keep their start and due date; it then fires under v2."""
    eng, ids = flight["engine"], flight["ids"]
    planned = plan(eng, "suggestion", MAP)
    with pytest.raises(MigrationBlocked, match="2 items of suggestion v1 cannot move"):
        apply(eng, planned)
    clocks_before = {d["id"]: (d["start_date"], d["due"]) for d in eng.get(ids["handling"]).deadlines}
    rows_before = {i: audit_count(eng, i) for i in ids.values()}
    assert len(eng.items(kind="suggestion")) == len(ids)
    done = apply(eng, planned, only_movable=True, actor=Actor("office"))
    assert len(done.moves) == 5
    v2 = eng._current["suggestion"]
    for move in done.moves:
        item = eng.get(move.item_id)
        assert (item.state, item.definition_version) == (move.to_state, v2)
        last = item.history[-1]
        assert (last.trigger, last.source, last.dest) == ("migrate", move.from_state, move.to_state)
        assert last.data == {
            "from_definition": 1,
            "to_definition": 2,
            "from_state": move.from_state,
            "to_state": move.to_state,
        }
        assert audit_count(eng, move.item_id) == rows_before[move.item_id] + 1 == item.version
    for left in (ids["co_pending"], ids["extension"], ids["rejected"]):
        assert eng.get(left).definition_version != v2 and audit_count(eng, left) == rows_before[left]
    assert {d["id"]: (d["start_date"], d["due"]) for d in eng.get(ids["handling"]).deadlines} == clocks_before
    assert eng.verify_audit() == []
    replied = eng.fire(ids["handling"], "reply", actor=unit("市交通运输局"), category="A", text="已解决", signer="局长")
    assert replied.state == "replied"
    assert eng.fire(ids["assigned"], "accept", actor=unit("市交通运输局")).state == "in_progress"
    assert eng.verify_audit() == []
    after = {i: audit_count(eng, i) for i in ids.values()}
    lost = sum(1 for i in ids.values() if after[i] < rows_before[i]) + len(ids) - len(eng.items(kind="suggestion"))
    print(
        f"\nmigrate: {len(planned.moves) + len(planned.blocked)} items planned, {len(done.moves)} moved, "
        f"{len(planned.blocked)} blocked, {len(planned.finished)} finished left in place, {lost} lost"
    )
    assert lost == 0


def test_an_item_that_moved_since_the_plan_fails_the_whole_migration(flight: dict[str, Any]) -> None:
    """The migration is all or nothing: an item fired, or submitted under the old version, after the plan →
    ConflictError naming it, and the database unchanged."""
    eng, ids = flight["engine"], flight["ids"]
    planned = plan(eng, "suggestion", MAP)
    eng.fire(ids["registered"], "assign", lead_unit="市交通运输局")  # fired under v1 after the plan
    before = snapshot(eng)
    with pytest.raises(ConflictError, match=rf"changed since the migration was planned \(items {ids['registered']}\)"):
        apply(eng, planned, only_movable=True)
    assert snapshot(eng) == before
    planned = plan(eng, "suggestion", MAP)
    late = suggestion(flight["old"])  # an engine still on the old definition submits under v1
    before = snapshot(eng)
    with pytest.raises(ConflictError, match=rf"items {late.id}\)"):
        apply(eng, planned, only_movable=True)
    assert snapshot(eng) == before


def test_a_failed_apply_and_bad_requests_write_nothing(flight: dict[str, Any]) -> None:
    """A date before an item's last change, an unknown version, state or kind: an error naming it, nothing written."""
    eng = flight["engine"]
    before = snapshot(eng)
    planned = plan(eng, "suggestion", MAP)
    with pytest.raises(ValidationError, match=r"before item \d+'s last change"):
        apply(eng, planned, only_movable=True, at=eng.clock() - dt.timedelta(days=400))
    with pytest.raises(NotFound, match="has no definition version 7"):
        plan(eng, "suggestion", MAP, to_version=7)
    with pytest.raises(ValidationError, match="'handlign' is not a state of suggestion v1"):
        plan(eng, "suggestion", {"handlign": "in_progress"})
    with pytest.raises(ValidationError, match="both the source and the target"):
        plan(eng, "suggestion", MAP, from_version=2, to_version=2)
    with pytest.raises(NotFound):
        plan(eng, "motion", MAP)
    assert snapshot(eng) == before


def test_the_map_file_is_checked_with_its_line(tmp_path: Path) -> None:
    """A migration file is YAML (from, to, states); a mistake is reported as FILE:LINE:COL."""
    good = tmp_path / "m.yaml"
    good.write_text("kind: suggestion\nfrom: 1\nto: 2\nstates:\n  handling: in_progress\n", encoding="utf-8")
    read = read_map(good)
    assert (read.from_version, read.to_version, read.states) == (1, 2, {"handling": "in_progress"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("from: one\nstates: {handling: in_progress}\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"bad.yaml:1:7: 'from' is a definition version number"):
        read_map(bad)
    bad.write_text("states: {handling: in_progress}\nsame_name: true\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"bad.yaml:2:1: unknown key 'same_name'"):
        read_map(bad)


def test_the_cli_dry_run_then_apply(
    flight: dict[str, Any], db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """duban migrate --dry-run prints every move and every item that cannot move and writes nothing (exit 1 when
    some cannot); without --dry-run it refuses (exit 1, nothing written) unless --only-movable; no tracebacks."""
    eng, ids = flight["engine"], flight["ids"]
    mapfile = tmp_path / "v1-to-v2.yaml"
    mapfile.write_text("from: 1\nto: 2\nstates:\n  handling: in_progress\n", encoding="utf-8")
    base = ["--db", db_url, "--definitions", str(tmp_path / "v2"), "migrate", "suggestion", "--map", str(mapfile)]
    same = [*base, "--same-names"]

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    before = snapshot(eng)
    code, out, _ = run(*same, "--dry-run")
    assert code == 1 and snapshot(eng) == before
    assert "6 items to move, 1 cannot move, 1 finished" in out
    assert "open clock 'co_opinion'" in out and "dry run, nothing written: 1 item cannot move" in out
    code, out, _ = run(*base, "--dry-run")
    assert code == 1 and "1 item to move, 6 cannot move" in out and "is not in the map" in out
    code, out, err = run(*same)
    assert code == 1 and snapshot(eng) == before
    assert err.startswith("error: nothing migrated: 1 item(s) of suggestion v1 cannot move") and err.count("\n") == 1
    code, _, err = run(*base, "--map", "handling=elsewhere")
    assert code == 2 and "state 'handling' is mapped twice" in err and err.count("\n") == 1
    code, _, err = run(*base, "--map", "nosuch=x", "--dry-run")
    assert code == 2 and "'nosuch' is not a state of suggestion v1" in err
    code, _, err = run(*base, "--to", "3", "--dry-run")
    assert code == 2 and "says 2, but 3 was given" in err
    code, out, _ = run(*same, "--dry-run", "--json")
    assert code == 1 and json.loads(out)["status"] == "dry run" and len(json.loads(out)["moves"]) == 6
    assert snapshot(eng) == before
    code, out, _ = run(*same, "--only-movable", "--at", "2026-03-21T09:00+08:00")
    assert code == 0 and "migrated 6 items of suggestion from v1 to v2 (audit trigger migrate); 1 left on v1" in out
    assert eng.get(ids["handling"]).state == "in_progress"
    code, out, _ = run(*same, "--dry-run")
    assert code == 1 and "0 items to move, 1 cannot move" in out
    assert eng.verify_audit() == []
