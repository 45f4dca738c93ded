"""The duban command line: exit codes 0/1/2, one-line errors, JSON output, and nothing changed on failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import snapshot

from workflow import DefinitionError, Engine
from workflow.cli import main
from workflow.definition import bundled_dir

DEFS = bundled_dir("definitions")


class Run:
    def __init__(self, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.db, self.capsys = db_url, capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["--db", self.db, *args])
        out, err = self.capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, err
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))


@pytest.fixture
def run(db_url: str, capsys: pytest.CaptureFixture[str]) -> Run:
    r = Run(db_url, capsys)
    for name in ("市民政局", "市卫生健康委员会"):
        assert r("party", "add", "unit", name, "--principal-leader", "郑红")[0] == 0
    return r


def test_walk_a_suggestion_from_the_shell(run: Run) -> None:
    """submit, fire and show work end to end, with --set for data and --actor for who acts."""
    item = run.json(
        "submit",
        "suggestion",
        "--title",
        "公布社区养老服务清单",
        "--proposer",
        "陈静",
        "--set",
        "origin=between_sessions",
        "--at",
        "2026-03-01",
    )
    assert isinstance(item, dict) and item["state"] == "submitted"
    item_id = str(item["id"])
    assert run("fire", item_id, "register", "--at", "2026-03-02")[0] == 0
    assert run("fire", item_id, "assign", "--set", "lead_unit=市民政局", "--set", "co_units=市卫生健康委员会")[0] == 0
    run("fire", item_id, "accept", "--actor", "unit:市民政局")
    run("fire", item_id, "submit_co_opinion", "--actor", "unit:市卫生健康委员会", "--set", "opinion=同意")
    replied = run.json(
        "fire",
        item_id,
        "reply",
        "--actor",
        "unit:市民政局",
        "--set",
        "category=B",
        "--set",
        "text=已列入计划",
        "--set",
        "signer=郑红",
        "--set",
        'promises=[{"what": "公布清单", "by": "2026-12-31"}]',
    )
    assert isinstance(replied, dict) and replied["state"] == "replied"
    shown = run.json("show", item_id)
    assert isinstance(shown, dict)
    assert [h["trigger"] for h in shown["history"]] == [
        "submit",
        "register",
        "assign",
        "accept",
        "submit_co_opinion",
        "reply",
    ]
    assert shown["promises"][0]["by"] == "2026-12-31"
    code, out, _ = run("show", item_id)
    assert code == 0 and "已答复（replied" in out and "办理记录" in out and "新状态" in out
    listed = run.json("list", "--unit", "市民政局")
    assert isinstance(listed, list) and [i["id"] for i in listed] == [int(item_id)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("fire", "{id}", "reply"),
            "cannot fire 'reply': item {id} is in state 'submitted'; triggers allowed there: "
            "register, reject, withdraw",
        ),
        (("fire", "{id}", "register", "--actor", "leader"), "leader may not register item {id}: allowed for office"),
        (("fire", "{id}", "reject", "--set", "reason=boring"), "reason: must be one of 个人事项 (personal_matter)"),
        (("fire", "{id}", "register", "--set", "nonsense"), "--set: 'nonsense' is not KEY=VALUE"),
        (("fire", "{id}", "register", "--at", "yesterday"), "--at: cannot read 'yesterday'"),
        (("fire", "{id}", "register", "--actor", "wizard"), "actor: unknown role 'wizard'"),
        (("fire", "999", "register"), "no item 999"),
        (("submit", "petition", "--title", "t"), "no lifecycle 'petition'"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    run: Run, db_url: str, args: tuple[str, ...], message: str
) -> None:
    """Each bad command prints one `error:` line naming the problem, exits 2, and writes nothing."""
    item = run.json("submit", "suggestion", "--title", "t", "--proposer", "王芳", "--set", "origin=session")
    assert isinstance(item, dict)
    eng = Engine(db_url)
    before = snapshot(eng)
    code, out, err = run(*(a.format(id=item["id"]) for a in args))
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message.format(id=item["id"]) in err and err.count("\n") == 1
    assert snapshot(eng) == before
    eng.close()


def test_stale_version_is_a_runtime_failure(run: Run) -> None:
    """A conflict (someone else changed the item) exits 1, not 2."""
    item = run.json("submit", "suggestion", "--title", "t", "--proposer", "王芳", "--set", "origin=session")
    assert isinstance(item, dict)
    run("fire", str(item["id"]), "register")
    code, _, err = run("fire", str(item["id"]), "withdraw", "--expect-version", "1")
    assert code == 1 and "not 1" in err


def test_usage_errors_exit_2(run: Run) -> None:
    """Unknown options and missing arguments are usage errors with status 2."""
    assert run("fire", "1", "--bogus")[0] == 2
    assert run("fire")[0] == 2


def test_definitions_validate_reports_located_errors(run: Run, tmp_path: Path) -> None:
    """`definitions validate` exits 0 on good files and prints PATH:LINE:COL for each problem otherwise."""
    code, out, _ = run("definitions", "validate", str(DEFS / "suggestion.yaml"), str(DEFS / "review_opinion.yaml"))
    assert code == 0 and out.count("ok ") == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (DEFS / "suggestion.yaml").read_text(encoding="utf-8").replace("dest: replied", "dest: repleid", 1),
        encoding="utf-8",
    )
    code, _, err = run("definitions", "validate", str(bad))
    assert code == 2 and err.startswith(f"{bad}:") and "unknown state 'repleid'" in err
    tabbed = tmp_path / "tab.yaml"
    tabbed.write_text("kind: x\nstates:\n\tone: {}\n", encoding="utf-8")
    code, _, err = run("definitions", "validate", str(tabbed))
    assert code == 2 and err.startswith(f"{tabbed}:3:1: ") and "tab" in err
    result = run.json("definitions", "validate")
    assert isinstance(result, dict) and result["ok"] is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  - trigger: register\n", "  - trigger: register\n    label: [unclosed\n"), "YAML syntax error"),
        (("  submitted: {label", "\tsubmitted: {label"), "a tab character here"),
        (("    dest: registered\n", "    dset: registered\n"), "unknown key 'dset' in transition"),
        (("dest: replied", "dest: repleid"), "unknown state 'repleid'; did you mean 'replied'?"),
        (("guards: [units_valid]", "guards: [os.system]"), "guard 'os.system' is not in the engine's registry"),
    ],
)
def test_each_named_bad_definition_is_one_located_line(
    run: Run, tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    """Syntax error, tab, unknown key, misspelled state, dotted guard: one PATH:LINE:COL line, exit 2."""
    text = (DEFS / "suggestion.yaml").read_text(encoding="utf-8")
    assert change[0] in text
    bad = tmp_path / "suggestion.yaml"
    bad.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    code, out, err = run("definitions", "validate", str(bad))
    assert code == 2 and out == "" and err.count("\n") == 1
    path, line, column, rest = err.split(":", 3)
    assert path == str(bad) and int(line) > 0 and int(column) > 0 and message in rest


def test_definitions_graph_in_mermaid_and_dot(run: Run) -> None:
    """`definitions graph` draws the lifecycle from the YAML, with Chinese state labels."""
    code, out, _ = run("definitions", "graph", "suggestion")
    assert code == 0 and out.startswith("stateDiagram-v2") and "replied --> rehandling: evaluate" in out
    assert "submitted: 已提交 (submitted)" in out
    code, out, _ = run("definitions", "graph", "review_opinion", "--format", "dot")
    assert (
        code == 0
        and out.startswith("digraph review_opinion {")
        and 'vote_failed [label="测评不满意 (vote failed)"];' in out
    )
    assert run("definitions", "graph", "review_opinion", "--format", "svg")[0] == 2
    graph = run.json("definitions", "graph", "suggestion")
    assert isinstance(graph, dict) and graph["initial"] == "submitted"
    assert {"source": "replied", "dest": "rehandling", "trigger": "evaluate"} in graph["edges"]


def test_audit_verify_names_the_broken_item(run: Run, db_url: str) -> None:
    """`audit verify` exits 0 on an intact chain and 1 naming the item and row when one was edited."""
    item = run.json("submit", "suggestion", "--title", "t", "--proposer", "王芳", "--set", "origin=session")
    assert isinstance(item, dict)
    run("fire", str(item["id"]), "register")
    assert run("audit", "verify")[0] == 0
    eng = Engine(db_url)
    with eng.db.begin() as conn:
        conn.exec_driver_sql("UPDATE duban_audit SET actor_role = 'leader' WHERE seq = 2")
    eng.close()
    code, _, err = run("audit", "verify")
    assert code == 1 and f"item {item['id']}: audit row 2" in err


def test_init_and_console_script(db_url: str, tmp_path: Path) -> None:
    """The installed `duban` entry point runs (python -m workflow) and `init` reports the definitions."""
    done = subprocess.run(
        [sys.executable, "-m", "workflow", "--db", db_url, "init", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)["kinds"]) == {"suggestion", "review_opinion"}
    bad = subprocess.run(
        [sys.executable, "-m", "workflow", "--db", db_url, "fire", "1", "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr == "error: no item 1\n"


def test_demo_walks_every_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`duban demo` plays the year, ends with an intact audit chain and a summary, and writes the year's
    notices to demo-out/notices through the folder channel."""
    monkeypatch.chdir(tmp_path)
    code = main(["demo", "--db", f"sqlite:///{tmp_path / 'demo.db'}", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    summary = json.loads(out)
    assert summary["audit_intact"] is True and summary["rehandled"] == 1
    assert summary["by_state"]["suggestion 不予立案 (rejected)"] == 1
    assert summary["by_state"]["review_opinion 已办结 (closed)"] == 2
    written = sorted((tmp_path / "demo-out" / "notices").glob("*.txt"))
    assert summary["notices_written"] == len(written) > 20
    assert any("【交办通知】" in f.read_text(encoding="utf-8") for f in written)
    assert any("【督办函】" in f.read_text(encoding="utf-8") for f in written)


@pytest.mark.parametrize(
    ("start", "period", "due", "fact"),
    [
        ("2026-03-20", "3 months", "2026-06-22", "2026-06-20 (星期六, 端午节假期) → 顺延至 2026-06-22"),
        ("2026-01-31", "1 month", "2026-02-28", "2月无31日, 取月末; 星期六, 调休上班日"),
        ("2026-05-14", "1 month", "2026-06-15", "2026-06-14 (星期日) → 顺延至 2026-06-15"),
        ("2026-09-28", "7 working days", "2026-10-13", "计入调休上班日 10-10"),
        ("2026-11-30", "3个月", "2027-03-01", "暂定"),
    ],
)
def test_deadline_answers_the_worked_examples(run: Run, start: str, period: str, due: str, fact: str) -> None:
    """`duban deadline` gives DOMAIN.md's worked examples with the explanation and provisional flag."""
    result = run.json("deadline", "--from", start, "--period", period, "--event", "交办")
    assert isinstance(result, dict)
    assert result["due"] == due and fact in result["explanation"]
    assert result["provisional"] is (due.startswith("2027"))
    code, out, _ = run("deadline", "--from", start, "--period", period)
    assert code == 0 and out.startswith(due)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-03-20", "--period", "3 fortnights"), "--period: cannot read the period '3 fortnights'"),
        (("--from", "2026-03-20", "--period", "-3 months"), "--period: cannot read the period '-3 months'"),
        (("--from", "2026-03-20", "--period", "0 days"), "--period: the period '0 days' must be a positive number"),
        (("--from", "20 March", "--period", "3 months"), "--from: '20 March' is not a date written YYYY-MM-DD"),
    ],
)
def test_deadline_bad_input_exits_2(run: Run, args: tuple[str, ...], message: str) -> None:
    """An unparseable or non-positive period, or a start that is not a date: one line, exit 2."""
    code, out, err = run("deadline", *args)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_show_lists_running_clocks_and_calendar_check(run: Run) -> None:
    """`duban show` lists an item's running clocks with their explanations; `calendar check` names the
    loaded years and the provisional deadlines; `deadlines` lists them all."""
    item = run.json(
        "submit", "suggestion", "--title", "t", "--proposer", "王芳", "--set", "origin=session", "--at", "2026-11-30"
    )
    assert isinstance(item, dict)
    item_id = str(item["id"])
    run("fire", item_id, "register", "--at", "2026-11-30T09:00")
    run("fire", item_id, "assign", "--set", "lead_unit=市民政局", "--at", "2026-11-30T10:00")
    code, out, _ = run("show", item_id)
    assert code == 0 and "答复期限 (reply)" in out and "2027-03-01 暂定" in out
    assert "交办 2026-11-30 + 3个月 = 2027-02-28" in out
    shown = run.json("show", item_id)
    assert isinstance(shown, dict) and {d["clock"] for d in shown["deadlines"]} == {"reply", "reassignment_window"}
    check = run.json("calendar", "check")
    assert isinstance(check, dict) and check["years"] == list(range(2004, 2027))
    assert [d["clock"] for d in check["provisional_deadlines"]] == ["reply"]
    listed = run.json("deadlines", "--item", item_id)
    assert isinstance(listed, list) and len(listed) == 2


def test_clock_started_by_an_unknown_trigger_is_located(run: Run, tmp_path: Path) -> None:
    """A clock started by a trigger no transition fires is a PATH:LINE:COL error, exit 2."""
    text = (DEFS / "suggestion.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "suggestion.yaml"
    bad.write_text(
        text.replace(
            "    start: [assign, {trigger: reassign, to: assigned}]\n    stop: [{trigger: reply",
            "    start: [asign, {trigger: reassign, to: assigned}]\n    stop: [{trigger: reply",
            1,
        ),
        encoding="utf-8",
    )
    code, _, err = run("definitions", "validate", str(bad))
    line = next(i for i, t in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if "start: [asign" in t)
    assert (
        code == 2 and err.startswith(f"{bad}:{line}:13: ") and "trigger 'asign' is not fired by any transition" in err
    )


def test_bad_calendar_folder_is_a_located_error(run: Run, tmp_path: Path) -> None:
    """A calendar file listing a day both as rest and as working stops the command with its location, exit 2."""
    folder = tmp_path / "calendars"
    folder.mkdir()
    (folder / "2027.yaml").write_text(
        "year: 2027\nsource: 测试用通知\nholidays:\n  元旦:\n    rest: [2027-01-01]\n    work: [2027-01-01]\n",
        encoding="utf-8",
    )
    code, out, err = run("--calendar", str(folder), "deadline", "--from", "2026-12-01", "--period", "1 month")
    assert code == 2 and out == ""
    assert err.startswith(f"error: {folder / '2027.yaml'}:6:12: ") and "both as a rest day and as a working day" in err


LONG = "/tmp/" + "长" * 200  # a file name the system refuses


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("backup", LONG), "FILE: cannot use"),
        (("restore", LONG), "FILE: cannot use"),
        (("audit", "export", str(2**40)), "ITEM: '1099511627776' is too large: at most 2147483647"),
        (("--definitions", LONG, "list"), "cannot use this path"),
    ],
)
def test_unusable_paths_and_huge_ids_exit_2_naming_them(
    run: Run, args: tuple[str, ...], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file name the system refuses, or an id beyond the database's integers, is bad input: exit 2 with a
    message naming it, never a crash (found by fuzzing)."""
    monkeypatch.setenv("DUBAN_DEBUG", "1")  # a crash would raise here instead of being printed
    code, out, err = run(*args)
    assert code == 2 and says in out + err


def test_a_parameter_file_that_is_not_utf8_is_a_definition_error(tmp_path: Path, db_url: str) -> None:
    """A jurisdiction's parameter file in another encoding is refused naming the file, not a crash."""
    bad = tmp_path / "params.yaml"
    bad.write_bytes("suggestion: {reply_period: 3 个月}".encode("gb18030"))
    with pytest.raises(DefinitionError) as caught:
        Engine(db_url, parameters=bad)
    assert "not UTF-8" in str(caught.value) and str(bad) in str(caught.value)


def test_control_and_bidi_characters_in_public_text_never_reach_the_terminal(run: Run) -> None:
    """A title holding a terminal escape sequence or a right-to-left override is listed and shown with those
    characters as visible marks (␛, ⟨U+202E⟩), so it cannot clear the screen or reorder what the office reads."""
    title = "路灯\x1b[2J维修\u202e建议"
    item = run.json("submit", "suggestion", "--title", title, "--set", "origin=session", "--set", 'proposers=["王芳"]')
    assert isinstance(item, dict)
    for args in (("list",), ("show", str(item["id"]))):
        code, out, _ = run(*args)
        assert code == 0 and "\x1b" not in out and "\u202e" not in out and "␛" in out
    assert "路灯␛[2J维修⟨U+202E⟩建议" in run("show", str(item["id"]))[1]  # the list may wrap the title
