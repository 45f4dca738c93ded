"""The command line a clerk can use without guessing: errors say how to fix them, on one line (JSON with
--json); a plain file path is a database; --version, completion and help that shows its defaults; tables
that fit 80 columns without Python reprs; one command sets the office's name; --contact keys are checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workflow import Engine, __version__
from workflow.cli import main

ROOT = Path(__file__).resolve().parent.parent
OFFICE = "宽城满族自治县人大常委会办公室"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def duban(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """duban in a process of its own, on an 80-column terminal."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")} | {"COLUMNS": "80"}
    environ |= {"PYTHONPATH": str(ROOT)} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "workflow", *args], cwd=cwd, env=environ, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No database or office setting from the environment, and a working folder of the test's own."""
    for name in ("DUBAN_DB", "DUBAN_OFFICE_NAME", "DUBAN_SETTINGS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_usage_error_is_one_line_naming_the_argument_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`duban fire abc register` says in one line on stderr what is wrong with which argument and where the
    help is, exit 2: no box, no usage dump, for a subcommand's argument and option as for a missing one."""
    cases = [
        (("fire", "abc", "register"), "error: ITEM: 'abc' is not a whole number (duban fire --help)"),
        (("list", "--year", "x"), "error: --year: 'x' is not a whole number (duban list --help)"),
        (("party", "add"), "error: ROLE: a required argument is missing (duban party add --help)"),
        (("fire", "1", "x", "--bogus"), "error: no such option: --bogus (duban fire --help)"),
        (("--db", "x.db", "lst"), "error: no such command 'lst'. Did you mean 'list'? (duban --help)"),
    ]
    for args, line in cases:
        code, out, err = run(capsys, *args)
        assert (code, out, err) == (2, "", line + "\n"), args


def test_json_mode_errors_are_json_on_stderr(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With --json a failure is one JSON object on stderr, {"error": {"type", "message", "field"}}, with the
    same exit status: a usage error names its argument, a refused value its field, and field is null when
    there is none."""
    code, out, err = run(capsys, "fire", "abc", "register", "--json")
    assert code == 2 and out == ""
    assert json.loads(err)["error"] == {
        "type": "UsageError",
        "message": "ITEM: 'abc' is not a whole number (duban fire --help)",
        "field": "ITEM",
    }
    code, out, err = run(
        capsys, "--db", "x.db", "party", "add", "unit", "市民政局", "--contact", "foo=a@b.cn", "--json"
    )
    error = json.loads(err)["error"]
    assert code == 2 and error["type"] == "ValidationError" and error["field"] == "--contact"
    code, out, err = run(capsys, "--db", "x.db", "show", "99", "--json")
    assert code == 2 and json.loads(err)["error"]["type"] in ("CommandFailed", "NotFound")
    run(capsys, "--db", "x.db", "init")
    code, out, err = run(capsys, "--db", "x.db", "show", "99", "--json")
    assert code == 2 and json.loads(err) == {"error": {"type": "NotFound", "message": "no item 99", "field": None}}


def test_a_permission_error_names_the_actor_to_use(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Firing a unit's trigger as the office is refused with the item's assigned unit as --actor; a deputy's
    trigger names the proposer; an office trigger fired by a unit names office."""
    db = ("--db", db_url)
    run(capsys, *db, "party", "add", "unit", "市民政局")
    run(
        capsys,
        *db,
        "submit",
        "suggestion",
        "--title",
        "公布社区养老服务清单",
        "--proposer",
        "陈静",
        "--set",
        "origin=session",
    )
    assert run(capsys, *db, "fire", "1", "register")[0] == 0
    assert run(capsys, *db, "fire", "1", "assign", "--set", "lead_unit=市民政局")[0] == 0
    code, _, err = run(capsys, *db, "fire", "1", "accept")
    assert code == 2 and err.count("\n") == 1
    assert err.rstrip().endswith("--actor unit:市民政局 may"), err
    code, _, err = run(capsys, *db, "fire", "1", "accept", "--actor", "unit:市民政局")
    assert code == 0, err
    code, _, err = run(capsys, *db, "fire", "1", "withdraw", "--actor", "unit:市民政局")
    assert code == 2 and "--actor deputy:陈静" in err, err


def test_plain_paths_are_sqlite_files(
    clean_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DUBAN_DB=duban.db, --db ./x.db and an absolute path open SQLite files there; a URL still works; a
    path in a folder that does not exist is refused naming the option it came from."""
    monkeypatch.setenv("DUBAN_DB", "duban.db")
    assert run(capsys, "init")[0] == 0
    assert (clean_env / "duban.db").exists()
    monkeypatch.delenv("DUBAN_DB")
    assert run(capsys, "--db", "./x.db", "init")[0] == 0 and (clean_env / "x.db").exists()
    absolute = clean_env / "sub" / "abs.db"
    absolute.parent.mkdir()
    code, out, _ = run(capsys, "--db", str(absolute), "init")
    assert code == 0 and absolute.exists() and str(absolute) in out
    assert run(capsys, "--db", f"sqlite:///{clean_env / 'url.db'}", "init")[0] == 0 and (clean_env / "url.db").exists()
    code, _, err = run(capsys, "--db", "nowhere/x.db", "init")
    assert code == 2 and err.startswith("error: --db: nowhere/x.db: there is no folder nowhere")
    monkeypatch.setenv("DUBAN_DB", "nowhere/x.db")
    code, _, err = run(capsys, "init")
    assert code == 2 and err.startswith("error: DUBAN_DB: ")


def test_without_a_setting_writers_say_they_create_and_readers_refuse(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no --db or DUBAN_DB, a command that only reads refuses a missing ./duban.db, saying how to make
    one, and creates nothing; a command that writes says on stderr which file it creates and how to choose
    another, once."""
    code, out, err = run(capsys, "list")
    assert code == 2 and out == "" and not (clean_env / "duban.db").exists()
    assert err.startswith("error: the database duban.db does not exist; run duban init") and "--db PATH" in err
    code, out, err = run(capsys, "party", "add", "unit", "市民政局")
    assert code == 0 and (clean_env / "duban.db").exists()
    assert err == (
        f"note: creating the database {clean_env / 'duban.db'} "
        "(no --db or DUBAN_DB given; choose another with --db PATH or DUBAN_DB=PATH)\n"
    )
    code, out, err = run(capsys, "party", "list")
    assert code == 0 and err == "" and "市民政局" in out


def test_version_completion_and_help_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    """`duban --version` prints the package's version; completion can be shown for a shell; help shows
    defaults and metavars with brackets as written (nothing swallowed as markup)."""
    assert run(capsys, "--version") == (0, f"duban {__version__}\n", "")
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--install-completion" in out and "--show-completion" in out
    assert "[default: ./duban.db]" in " ".join(out.split())
    code, out, _ = run(capsys, "fire", "--help")
    assert "ROLE[:PARTY]" in out and "[default: office]" in out
    assert "YYYY-MM-DD[THH:MM[:SS]][+08:00]" in "".join(out.split())
    code, out, _ = run(capsys, "demo", "--help")
    assert "[default: its own file, duban-demo.db]" in " ".join(out.split())
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = subprocess.run(  # what --show-completion prints for bash, whatever shell runs the test
        [sys.executable, "-m", "workflow"],
        env=environ | {"_DUBAN_COMPLETE": "source_bash"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert script.returncode == 0 and "_duban_completion()" in script.stdout
    words = {"_DUBAN_COMPLETE": "complete_bash", "COMP_WORDS": "duban pa", "COMP_CWORD": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "workflow"], env=environ | words, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout.split()) == (0, ["party"])


def test_init_office_name_signs_the_notices(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`duban init --office-name NAME` stores the name every later process signs notices with; init says
    which name notices carry; DUBAN_OFFICE_NAME, when given, wins over the stored name (and init says so)."""
    monkeypatch.delenv("DUBAN_OFFICE_NAME", raising=False)
    code, out, _ = run(capsys, "--db", db_url, "init")
    assert code == 0 and "notices are signed by: 人大常委会办公室 (the default; set yours with" in out
    code, out, _ = run(capsys, "--db", db_url, "init", "--office-name", OFFICE, "--json")
    assert code == 0 and json.loads(out)["office"] == OFFICE
    with Engine(db_url) as eng:
        assert eng.settings.office_name == OFFICE
        eng.add_party("unit", "市民政局", contacts={"handler": "h@mz.example.cn"})
        item = eng.submit("suggestion", title="公布社区养老服务清单", origin="session", proposers=["陈静"])
        eng.fire(item.id, "register")
        eng.fire(item.id, "assign", lead_unit="市民政局")
        bodies = [n["body_text"] for n in eng.outbox()]
    assert bodies and all(OFFICE in b for b in bodies)
    monkeypatch.setenv("DUBAN_OFFICE_NAME", "测试办公室")  # init without --office-name stores the settings' name
    code, out, _ = run(capsys, "--db", db_url, "init")
    assert code == 0 and "notices are signed by: 测试办公室\n" in out
    monkeypatch.delenv("DUBAN_OFFICE_NAME")
    with Engine(db_url) as eng:
        assert eng.settings.office_name == "测试办公室"
    code, out, _ = run(capsys, "--db", db_url, "party", "list", "--json")
    assert [(p["role"], p["name"]) for p in json.loads(out) if p["role"] == "office"] == [("office", "测试办公室")]


def test_settings_office_name_differs_from_the_stored_one(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name given in the settings at run time wins over the stored one, and init says both."""
    monkeypatch.setenv("DUBAN_OFFICE_NAME", "测试办公室")
    code, out, _ = run(capsys, "--db", db_url, "init", "--office-name", OFFICE)
    assert code == 0
    assert f"notices are signed by: 测试办公室 (office_name in the settings; the database holds {OFFICE})" in out
    with Engine(db_url) as eng:
        assert eng.settings.office_name == "测试办公室"
    monkeypatch.delenv("DUBAN_OFFICE_NAME")
    with Engine(db_url) as eng:
        assert eng.settings.office_name == OFFICE


def test_contact_keys_and_addresses_are_checked(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--contact foo=x@y` is refused naming --contact and the keys a unit's notices use; a deputy's key is
    address; an address that is not mail, an http(s) URL or file:FOLDER is refused; good ones are stored."""
    db = ("--db", db_url)
    code, _, err = run(capsys, *db, "party", "add", "unit", "市民政局", "--contact", "foo=x@y")
    assert code == 2 and err == (
        "error: --contact: 'foo' is not a contact of a unit; keys: handler, department_head, principal_leader, "
        "case_leader\n"
    )
    code, _, err = run(capsys, *db, "party", "add", "unit", "市民政局", "--contact", "deputy=a@b.cn")
    assert code == 2 and "duban party add deputy NAME --contact address=" in err
    code, _, err = run(capsys, *db, "party", "add", "unit", "市民政局", "--contact", "handler=not an address")
    assert code == 2 and err.startswith("error: --contact: handler='not an address' is not a mail address")
    code, _, err = run(capsys, *db, "party", "add", "deputy", "王芳", "--contact", "handler=a@b.cn")
    assert code == 2 and "keys: address" in err
    ok = ("handler=h@mz.example.cn", "department_head=https://hooks.example.cn/mz", "principal_leader=file:out")
    code, _, err = run(capsys, *db, "party", "add", "unit", "市民政局", *(a for c in ok for a in ("--contact", c)))
    assert code == 0, err
    code, out, _ = run(capsys, *db, "party", "list", "--json")
    assert json.loads(out)[0]["contacts"] == dict(c.split("=", 1) for c in ok)


@pytest.mark.slow
def test_tables_fit_80_columns_without_reprs(tmp_path: Path) -> None:
    """On an 80-column terminal `list`, `show`, `deadlines`, `notices` and `party list` print no line wider
    than 80 columns (a Chinese character counts two) outside the free-text lines, and no Python repr:
    no None, no {…} or ['…'], times in Beijing time."""
    from rich.cells import cell_len

    made = duban("demo", "--db", "demo.db", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    for args in (["list"], ["show", "2"], ["show", "7"], ["party", "list"], ["deadlines"], ["notices"]):
        done = duban("--db", "demo.db", *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        for line in done.stdout.splitlines():
            table_line = line[:1] in "┏┃┡│└"
            assert not table_line or cell_len(line) <= 80, (args, line)
            assert "None" not in line and "['" not in line and "{'" not in line and "{}" not in line, (args, line)
            assert "+00:00" not in line, (args, line)
    shown = duban("--db", "demo.db", "show", "2", cwd=tmp_path).stdout
    assert "  proposers: 张伟\n" in shown and "#3 reply:\n    category: A\n" in shown


@pytest.mark.slow
def test_demo_aligns_and_its_hints_run_as_printed(tmp_path: Path) -> None:
    """The demo's step lines line up on a terminal (Chinese titles measured in columns), and the commands its
    closing lines print run as printed."""
    from rich.cells import cell_len

    made = duban("demo", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    steps = [line for line in made.stdout.splitlines() if " → " in line]
    assert len({cell_len(line.split(" → ")[0]) for line in steps}) == 1
    hint = next(line for line in made.stdout.splitlines() if line.startswith("  看看数据："))
    for command in hint.removeprefix("  看看数据：").split("; "):
        words = command.split()
        assert words[:3] == [os.path.relpath(sys.executable, tmp_path), "-m", "workflow"], words
        done = duban(*words[3:], cwd=tmp_path)
        assert done.returncode == 0, (command, done.stderr)


def test_every_command_fails_as_json_in_json_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    """A refusal that a command words itself (an import with bad rows) is, with --json, one JSON object on
    stderr like every other error, with the same exit status; stdout keeps the command's own JSON (the
    import's rows and their problems)."""
    sheet = tmp_path / "bad.csv"
    sheet.write_text("标题,提出代表\n,王芳\n", encoding="utf-8")
    assert main(["--db", db_url, "init"]) == 0
    capsys.readouterr()
    code = main(["--db", db_url, "import", str(sheet), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and json.loads(out)["ok"] is False
    assert json.loads(err)["error"]["message"].startswith("nothing imported: 1 bad row")
