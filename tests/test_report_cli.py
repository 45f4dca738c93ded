"""``duban report followup``: filters from the shell, stdout or -o with the format from the extension,
exit status 0 / 1 / 2 with one-line errors and never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_year import T, year_engine

from workflow import Engine
from workflow.cli import main

NOW = ["--now", "2026-09-01T10:00"]  # Asia/Shanghai, the hand-built year's report instant


class Run:
    def __init__(self, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.db, self.capsys = db_url, capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["--db", self.db, "report", "followup", *args])
        out, err = self.capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict[str, int]]]:
    with year_engine(tmp_path_factory.mktemp("year")) as built:
        yield built


@pytest.fixture
def run(shared: tuple[Engine, dict[str, int]], capsys: pytest.CaptureFixture[str]) -> Run:
    """The CLI on the year's database, built once for the module (every test here only reads it)."""
    return Run(shared[0].url, capsys)


def test_json_on_stdout_has_the_figures(run: Run) -> None:
    """--format json prints the report data; filters from the options narrow it."""
    code, out, err = run(*NOW, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["summary"]["items"] == 11 and data["summary"]["rates"]["on_time"]["percent"] == "75.00%"
    assert data["generated_at"] == "2026-09-01T10:00:00+08:00"
    code, out, _ = run(*NOW, "--format", "json", "--kind", "suggestion", "--unit", T, "--state", "closed")
    assert code == 0
    data = json.loads(out)
    assert [i["item_id"] for i in data["items"]] == [1, 2]
    assert data["filters"]["units"] == [T] and data["filters"]["kind"] == "suggestion"
    code, out, _ = run(*NOW, "--format", "json", "--from", "2026-06-01", "--to", "2026-06-30", "--key-only")
    assert code == 0 and json.loads(out)["empty"] is True


def test_markdown_is_the_default_on_stdout(run: Run) -> None:
    """Without --format or -o the report prints as Markdown."""
    code, out, _ = run(*NOW, "--year", "2026")
    assert code == 0
    assert out.startswith("# 代表建议和审议意见办理情况回头看报告")
    assert "| 按期答复率 | 75.00% | 6 | 8 |" in out


def test_csv_on_stdout_is_the_items_ledger(run: Run) -> None:
    """--format csv prints the items ledger: a heading row and one row per item."""
    code, out, _ = run(*NOW, "--format", "csv", "--kind", "review_opinion")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("序号,") and len(lines) == 3


@pytest.mark.parametrize(
    ("name", "fmt", "magic"), [("r.md", "md", b"# "), ("r.json", "json", b"{"), ("r.csv", "csv", b"\xef\xbb\xbf")]
)
def test_output_file_format_follows_its_extension(run: Run, tmp_path: Path, name: str, fmt: str, magic: bytes) -> None:
    """-o FILE writes the format its extension names and says where it went."""
    path = tmp_path / name
    code, out, _ = run(*NOW, "-o", str(path))
    assert code == 0 and str(path) in out and f"({fmt}, 11 items)" in out
    assert path.read_bytes().startswith(magic)


def test_office_formats_go_through_the_renderers(run: Run, tmp_path: Path) -> None:
    """-o FILE.xlsx, .docx and .html are written by the renderers (zip files for the Office formats)."""
    for name in ("r.xlsx", "r.docx"):
        code, _, err = run(*NOW, "-o", str(tmp_path / name))
        assert code == 0, err
        assert (tmp_path / name).read_bytes()[:2] == b"PK"
    code, _, err = run(*NOW, "-o", str(tmp_path / "r.html"))
    assert code == 0, err
    assert "<html" in (tmp_path / "r.html").read_text(encoding="utf-8").lower()


def test_explicit_format_wins_over_the_extension(run: Run, tmp_path: Path) -> None:
    """--format overrides what the extension says."""
    path = tmp_path / "report.txt"
    code, _, _ = run(*NOW, "--format", "json", "-o", str(path))
    assert code == 0 and json.loads(path.read_text(encoding="utf-8"))["schema"] == "duban.followup/1"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--kind", "sugestion"], "did you mean 'suggestion'"),
        (["--unit", "市交通局"], f"did you mean '{T}'"),
        (["--state", "closd"], "did you mean 'closed'"),
        (["--format", "pdf"], "formats: html, docx, md, csv, xlsx, json"),
        (["--format", "docx"], "give -o FILE.docx"),
        (["-o", "report.txt"], "cannot tell the format"),
        (["--from", "2026-02-30"], "is not a date"),
        (["--now", "yesterday"], "--now: cannot read 'yesterday'"),
        (["--year", "twenty"], "--year"),  # typer's own usage error
    ],
)
def test_bad_input_exits_2_with_one_line(run: Run, args: list[str], needle: str) -> None:
    """Unknown filters, formats and dates are bad input: exit 2, a one-line error naming the close match."""
    code, out, err = run(*NOW, *args)
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) <= 6


def test_an_unwritable_file_exits_1(run: Run, tmp_path: Path) -> None:
    """A file that cannot be written is a run-time failure: exit 1 with the reason."""
    code, _, err = run(*NOW, "-o", str(tmp_path / "missing" / "r.md"))
    assert code == 1 and "cannot write" in err and "No such file" in err


def test_an_empty_selection_exits_0_and_says_so(run: Run) -> None:
    """Nothing selected is not an error: the report says there is nothing."""
    code, out, _ = run(*NOW, "--year", "2025")
    assert code == 0 and "本次筛选没有任何事项" in out


def test_the_demo_ends_with_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`duban demo` ends by writing its year's follow-up review report as HTML and XLSX into demo-out/
    and says where."""
    monkeypatch.chdir(tmp_path)
    code = main(["demo", "--db", f"sqlite:///{tmp_path / 'demo.db'}"])
    out = capsys.readouterr().out
    assert code == 0
    html, xlsx = tmp_path / "demo-out" / "followup-report.html", tmp_path / "demo-out" / "followup-report.xlsx"
    assert "demo-out/followup-report.html, demo-out/followup-report.xlsx" in out
    assert "整改率 33.33%" in out  # the traffic opinion's 2 of 4 problems and the assets opinion's 0 of 2
    assert "回头看" in html.read_text(encoding="utf-8") and xlsx.read_bytes()[:2] == b"PK"
