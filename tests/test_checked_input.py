"""Files and arguments are checked before use: odd numbers, periods past a century, a daemon interval of inf,
a workbook that unzips to millions of rows, a CSV cell past the csv module's limit. Each is refused with a
message saying what, where and how to fix it, never a traceback; text echoed to a terminal shows control
characters as marks."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from conftest import suggestion, to_replied

from workflow import Calendar, Engine, Period, ValidationError, parse_period
from workflow.calendar import PeriodError
from workflow.cli import main
from workflow.daemon import start
from workflow.definition import bundled_dir
from workflow.errors import DefinitionError, ImportRejected
from workflow.fields import FieldSpec, check_data
from workflow.importer import import_file
from workflow.store import TABLES

ROOT = Path(__file__).resolve().parent.parent  # the checkout, for the subprocess's PYTHONPATH


def duban(*args: str) -> subprocess.CompletedProcess[str]:
    """duban in a process of its own, given a minute (what it is refused used to run on, or forever)."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "workflow", *args], capture_output=True, text=True, timeout=60, check=False, env=env
    )
    assert "Traceback" not in done.stderr
    return done


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# ---- whole numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["²", "+-5", "３", "1_000", str(2**64), "-" + str(2**63 + 1), "9" * 5000])
def test_integer_fields_refuse_odd_digits_and_numbers_past_64_bits(text: str) -> None:
    """A whole-number field takes ASCII digits with one optional sign, within 64 bits; anything else (a
    superscript, a doubled sign, fullwidth digits, a number past 64 bits, one of 5000 digits) is a
    ValidationError naming the field."""
    spec = (FieldSpec("promise", "integer", min=1),)
    with pytest.raises(ValidationError) as caught:
        check_data(spec, {"promise": text})
    assert caught.value.field == "promise"
    assert "digits 0-9" in str(caught.value) or "out of range" in str(caught.value)
    with pytest.raises(ValidationError, match="out of range"):
        check_data(spec, {"promise": 2**64})
    assert check_data(spec, {"promise": " +7 "}) == {"promise": 7}
    assert check_data(spec, {"promise": str(2**63 - 1)}) == {"promise": 2**63 - 1}


@pytest.mark.parametrize("text", ["²", "+-5", str(2**64)])
def test_the_cli_refuses_a_bad_whole_number_naming_the_field(
    engine: Engine, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """`duban fire … --set promise=²` (or +-5, or 2**64) exits 2 with one line naming the field, and
    nothing is recorded."""
    item = to_replied(engine)
    code, _, err = cli(
        capsys, "--db", engine.url, "fire", str(item.id), "verify_commitment", "--set", f"promise={text}",
        "--set", "outcome=kept",
    )  # fmt: skip
    assert code == 2 and err.startswith("error: promise: ") and err.count("\n") == 1, err
    assert engine.get(item.id).version == item.version


# ---- periods ------------------------------------------------------------------------------------


def test_a_period_past_100_years_is_refused_everywhere(
    tmp_path: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """A period longer than 100 years (101 years, 1201 months) is refused when read, when built in Python,
    in a definition's parameter default at load, in a parameter override, in a field and on the CLI;
    100 years itself is counted."""
    for text in ("101 years", "101年", "1201 months"):
        with pytest.raises(PeriodError, match="longer than 100 years"):
            parse_period(text)
    with pytest.raises(PeriodError, match="longer than 100 years"):
        Period(101, "years")
    with pytest.raises(PeriodError, match="longer than 100 years"):
        Calendar().due(engine.clock().date(), Period(1201, "months"))
    assert str(parse_period("100 years")) == "100 years"
    folder = tmp_path / "defs"
    folder.mkdir()
    for name in ("suggestion.yaml", "review_opinion.yaml"):
        text = (bundled_dir("definitions") / name).read_text(encoding="utf-8")
        (folder / name).write_text(text.replace("default: 3 months", "default: 101 years", 1), "utf-8")
    with pytest.raises(DefinitionError, match="longer than 100 years"):
        Engine("sqlite://", definitions=[folder])
    with pytest.raises(ValidationError, match="longer than 100 years") as caught:
        Engine("sqlite://", parameters={"suggestion": {"rehandle_period": "101 years"}})
    assert caught.value.field == "parameters.suggestion.rehandle_period"
    with pytest.raises(ValidationError, match="longer than 100 years"):
        check_data((FieldSpec("period", "period"),), {"period": "101 years"})
    code, _, err = cli(capsys, "deadline", "--from", "2026-01-05", "--period", "101 years")
    assert code == 2 and err.startswith("error: --period: the period '101 years' is longer than 100 years")


# ---- the daemon's intervals ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "1e9"])
def test_a_daemon_interval_that_is_not_a_sane_number_of_seconds_is_refused_before_it_starts(
    engine: Engine, value: str
) -> None:
    """`duban daemon --interval inf` (nan, negative, 0, or past a day; and the same for --dispatch-interval)
    exits 2 naming the option before the daemon registers; the Python API refuses it too."""
    for option in ("--interval", "--dispatch-interval") if value == "inf" else ("--interval",):
        done = duban("--db", engine.url, "daemon", option, value)  # a process: one that starts would not stop
        assert done.returncode == 2 and f"error: {option}: " in done.stderr and "seconds above 0" in done.stderr
    with engine.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(TABLES["duban_daemon"])).scalar() == 0
    with pytest.raises(ValidationError, match="seconds above 0") as caught:
        start(engine, sweep_interval=float(value))
    assert caught.value.field == "sweep_interval"


# ---- imports ------------------------------------------------------------------------------------


def bomb(path: Path, rows: int, header: tuple[str, ...] = ("标题", "提出代表")) -> Path:
    """An .xlsx whose one sheet has *rows* rows of one cell: a few hundred kB on disk however many rows,
    because the rows are all alike (the shape of a ZIP bomb)."""
    book = openpyxl.Workbook()
    book.active.append(list(header))
    made = io.BytesIO()
    book.save(made)
    base = zipfile.ZipFile(io.BytesIO(made.getvalue()))
    sheet = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in base.infolist():
            if info.filename != sheet:
                out.writestr(info, base.read(info))
        with out.open(sheet, "w") as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8"?>')
            f.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            f.write(b"".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>'.encode() for h in header).join(
                (b"<row>", b"</row>")
            ))  # fmt: skip
            for done in range(0, rows, 100_000):
                f.write(b"<row><c><v>1</v></c></row>" * min(100_000, rows - done))
            f.write(b"</sheetData></worksheet>")
    return path


def test_a_workbook_that_unzips_past_the_limit_is_refused_before_it_is_read(engine: Engine, tmp_path: Path) -> None:
    """The issue's ZIP bomb, a small .xlsx whose sheet unzips to 3 million rows (about 80 MB), is refused by
    its ZIP's declared sizes before a row is read: `duban import` exits 2 within seconds (it used to run past
    120 s), naming the file, its size once unzipped and the limit."""
    path = bomb(tmp_path / "bomb.xlsx", 3_000_000)
    assert path.stat().st_size < 1_000_000
    done = duban("--db", engine.url, "import", str(path))
    assert done.returncode == 2, done.stderr
    assert f"{path}: the workbook expands to 78.0 MB, more than the 50.0 MB an import reads" in done.stderr
    assert "--max-mb" in done.stderr and "Traceback" not in done.stderr
    assert engine.items() == []


def test_a_workbook_past_the_row_limit_stops_there(engine: Engine, tmp_path: Path) -> None:
    """A workbook small enough once unzipped but with more rows than an import reads (100,000 by default)
    is refused when reading reaches that row, naming the sheet, the limit and how to go on; nothing is
    imported. The limits are parameters: a lower max_rows stops a small sheet too."""
    path = bomb(tmp_path / "tall.xlsx", 120_000)
    with pytest.raises(ImportRejected) as caught:
        import_file(engine, path)
    (problem,) = caught.value.problems
    assert str(problem) == (
        f"{path}: the sheet Sheet runs past row 100,000, the most an import reads; split it into smaller files, "
        "delete blank rows at its end, or raise the limit (duban import --max-rows N)"
    )
    with pytest.raises(ImportRejected, match="runs past row 50"):
        import_file(engine, bomb(tmp_path / "small.xlsx", 60), max_rows=50)
    tiny = bomb(tmp_path / "tiny.xlsx", 60_000)  # 1.5 MB unzipped, a few kB on disk
    with pytest.raises(ImportRejected, match=r"the workbook expands to 1\.6 MB, more than the 1\.0 MB"):
        import_file(engine, tiny, max_bytes=1_000_000)
    assert engine.items() == []


def test_csv_limits_are_the_same_from_the_cli(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV file past --max-rows or --max-mb is refused whole (exit 2, nothing imported); within them
    it imports."""
    engine.add_party("deputy", "王芳")
    path = tmp_path / "sheet.csv"
    path.write_text("标题,提出代表\n" + "".join(f"关于第{n}件事的建议,王芳\n" for n in range(50)), "utf-8")
    code, _, err = cli(capsys, "--db", engine.url, "import", str(path), "--max-rows", "40")
    assert code == 2 and f"{path}: the file runs past row 40, the most an import reads" in err
    code, _, err = cli(capsys, "--db", engine.url, "import", str(path), "--max-mb", "0.001")
    assert code == 2 and f"{path}: the file is 1.7 kB, more than the 1.0 kB an import reads" in err
    assert engine.items() == []
    code, out, _ = cli(capsys, "--db", engine.url, "import", str(path), "--max-rows", "51")
    assert code == 0 and "imported 50" in out


def test_a_csv_cell_past_the_csv_modules_limit_is_a_row_error(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV cell longer than the csv module's limit (131,072 characters) is an error at its row and column,
    like any bad cell (it used to stop the import with the csv module's own error); --skip-bad imports the
    other rows."""
    engine.add_party("deputy", "王芳")
    path = tmp_path / "sheet.csv"
    rows = ["标题,提出代表,备注", "关于第一件事的建议,王芳," + "长" * 200_000, "关于第二件事的建议,王芳,短"]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    with pytest.raises(ImportRejected) as caught:
        import_file(engine, path)
    (problem,) = caught.value.problems
    assert str(problem) == (
        f"{path}:2:备注: this cell holds 200,000 characters, more than the 131,072 a CSV cell may hold; shorten it"
    )
    code, _, err = cli(capsys, "--db", engine.url, "import", str(path), "--skip-bad")
    assert code == 0 and f"{path}:2:备注: this cell holds 200,000 characters" in err
    assert [i.title for i in engine.items()] == ["关于第二件事的建议"]


# ---- text that reaches a terminal ---------------------------------------------------------------


def test_import_errors_and_the_csv_report_show_control_characters_as_marks(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An import error echoing a cell, and the report's CSV printed on stdout, show an escape
    sequence or a bidi override as marks (␛, ⟨U+202E⟩) as `list` and `show` do, so that a hostile title
    cannot drive the terminal; -o FILE writes the text as it is."""
    path = tmp_path / "sheet.csv"
    rows = ["编号,标题,提出代表,会次", "1,关于\x1b]0;x\x07清屏的建议,王芳,一次会议", "1,另一件建议,王芳,一次会议"]
    path.write_text("\n".join(rows) + "\n", "utf-8")
    code, _, err = cli(capsys, "--db", engine.url, "import", str(path))  # row 3 names row 2 by its title
    assert code == 2 and "\x1b" not in err and "\x07" not in err and "「关于␛]0;x␇清屏的建议」" in err, err
    suggestion(engine, title="关于\x1b[31m红字\u202e的建议")
    code, out, _ = cli(capsys, "--db", engine.url, "report", "followup", "--format", "csv")
    assert code == 0 and "\x1b" not in out and "\u202e" not in out and "关于␛[31m红字⟨U+202E⟩的建议" in out
    assert out.count("\r\n") == 2  # the header and the item: CSV's own line ends are kept
    code, _, _ = cli(capsys, "--db", engine.url, "report", "followup", "-o", str(tmp_path / "r.csv"))
    assert code == 0 and "关于\x1b[31m红字\u202e的建议" in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")
