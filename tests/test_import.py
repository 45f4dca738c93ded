"""``duban import``: suggestion summary sheets (建议汇总表) from .xlsx and .csv, checked row by row."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from conftest import UNITS, in_processes, review_opinion, snapshot

from workflow import Engine
from workflow.cli import main
from workflow.errors import ImportRejected
from workflow.importer import import_file
from workflow.store import TABLES

HEADER = ["编号", "标题", "提出代表", "领衔代表", "会次", "内容", "建议承办单位"]
SESSION = "市十五届人大三次会议"
DEPUTIES = ["王芳", "李强", "陈静", "张伟"]
ROWS = [
    ["1", "关于增加通勤班车密度的建议", "王芳、李强", "王芳", SESSION, "早晚高峰车厢拥挤。", "市交通运输局"],
    ["2", "关于公布社区养老服务清单的建议", "陈静", "", SESSION, "清单不公开。", "市民政局；市卫生健康委员会"],
    ["3", "关于校门口设置护学岗的建议", "张伟,王芳;李强", "张伟", SESSION, "", ""],
]


@pytest.fixture
def eng(engine: Engine) -> Engine:
    """The shared engine with the units and four registered deputies."""
    for name in DEPUTIES:
        engine.add_party("deputy", name)
    return engine


def xlsx(path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER, sheet: str = "建议汇总表") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    book.save(path)
    return path


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER, encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def count(eng: Engine) -> int:
    with eng.db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(TABLES["duban_item"])).scalar_one())


def rejected(eng: Engine, path: Path, **options: Any) -> list[str]:
    """Import *path* expecting a rejection with nothing written; returns the problems as printed."""
    before = snapshot(eng)
    with pytest.raises(ImportRejected) as caught:
        import_file(eng, path, **options)
    assert snapshot(eng) == before
    return [str(p) for p in caught.value.problems]


def test_good_xlsx_imports_every_row_with_its_fields(eng: Engine, tmp_path: Path) -> None:
    """Each row of a good sheet becomes one submitted 代表建议 carrying its title, proposers (split on
    、，,; and newlines), lead deputy, session, content, suggested units and number."""
    result = import_file(eng, xlsx(tmp_path / "汇总.xlsx", ROWS))
    assert (len(result.imported), result.skipped, result.bad, result.warnings) == (3, [], [], [])
    assert result.summary == "imported 3, skipped 0 (already present), bad 0"
    items = eng.items(kind="suggestion")
    assert [i.id for i in items] == result.imported
    assert {i.state for i in items} == {"submitted"}
    assert items[0].data == {
        "title": "关于增加通勤班车密度的建议",
        "body": "早晚高峰车厢拥挤。",
        "origin": "session",
        "session": SESSION,
        "proposers": ["王芳", "李强"],
        "lead_deputy": "王芳",
        "suggested_units": ["市交通运输局"],
        "number": "1",
    }
    assert items[1].data["suggested_units"] == ["市民政局", "市卫生健康委员会"]
    assert "lead_deputy" not in items[1].data  # a sole proposer leads without being named twice
    assert items[2].data["proposers"] == ["张伟", "王芳", "李强"]
    assert "body" not in items[2].data and "suggested_units" not in items[2].data
    assert eng.get(items[0].id).history[0].actor == "office"


def test_same_file_twice_imports_nothing_new(eng: Engine, tmp_path: Path) -> None:
    """Importing the same sheet again, as xlsx or as CSV, adds no item: each row is reported as
    already present, with the item it is."""
    first = import_file(eng, xlsx(tmp_path / "a.xlsx", ROWS))
    again = import_file(eng, xlsx(tmp_path / "a.xlsx", ROWS))
    as_csv = import_file(eng, write_csv(tmp_path / "a.csv", ROWS))
    assert again.imported == as_csv.imported == []
    assert again.skipped == as_csv.skipped == list(zip([2, 3, 4], first.imported, strict=True))
    assert again.summary == "imported 0, skipped 3 (already present), bad 0"
    assert count(eng) == 3


def test_rows_without_numbers_are_keyed_by_session_title_and_lead(eng: Engine, tmp_path: Path) -> None:
    """Without an 编号, a row is already present when an item has its 会次, 标题 and 领衔代表, including
    one submitted by hand; the same title from another lead deputy or session is a new item."""
    eng.submit("suggestion", title="关于增加通勤班车密度的建议", origin="session", session=SESSION, proposers=["王芳"])
    rows = [
        ["", "关于增加通勤班车密度的建议", "王芳", "", SESSION, "", ""],
        ["", "关于增加通勤班车密度的建议", "陈静", "", SESSION, "", ""],
        ["", "关于增加通勤班车密度的建议", "王芳", "", "市十五届人大四次会议", "", ""],
    ]
    result = import_file(eng, xlsx(tmp_path / "a.xlsx", rows))
    assert result.skipped == [(2, 1)]
    assert len(result.imported) == 2
    assert import_file(eng, xlsx(tmp_path / "a.xlsx", rows)).imported == []
    assert count(eng) == 3


def test_a_registered_number_matches_the_row(eng: Engine, tmp_path: Path) -> None:
    """An item numbered at 立案 (register's 编号) is the row with that 会次 and 编号."""
    item = eng.submit("suggestion", title=ROWS[0][1], origin="session", session=SESSION, proposers=["王芳"])
    eng.fire(item.id, "register", number="1")
    result = import_file(eng, xlsx(tmp_path / "a.xlsx", ROWS[:1]))
    assert result.skipped == [(2, item.id)]


def test_a_number_taken_by_another_title_is_an_error(eng: Engine, tmp_path: Path) -> None:
    """An 编号 already used in that 会次 by an item with another title is an error naming the item (one
    of the two is mistyped), and nothing is imported."""
    import_file(eng, xlsx(tmp_path / "a.xlsx", ROWS[:1]))
    clash = [["1", "关于另一件事的建议", "陈静", "", SESSION, "", ""], ROWS[1]]
    problems = rejected(eng, xlsx(tmp_path / "b.xlsx", clash))
    assert problems == [f"{tmp_path / 'b.xlsx'}:2:编号: 编号 1 of 会次 {SESSION} is already item 1 「{ROWS[0][1]}」"]


def test_a_row_repeated_in_the_file_is_an_error(eng: Engine, tmp_path: Path) -> None:
    """Two rows of one file that are the same suggestion are an error on the second, naming the first."""
    path = xlsx(tmp_path / "a.xlsx", [ROWS[0], ROWS[1], ROWS[0]])
    assert rejected(eng, path) == [f"{path}:4:编号: repeats row 2 (same 会次 and 编号)"]


def test_missing_required_column_names_it_and_the_columns_found(eng: Engine, tmp_path: Path) -> None:
    """A sheet without a title column is rejected at its header row, naming the missing column and
    listing the columns it has."""
    path = write_csv(tmp_path / "a.csv", [["1", "王芳"]], header=["编号", "提出代表"])
    assert rejected(eng, path) == [
        f"{path}:1:标题: missing required column (标题/建议标题/题目/案由/title); columns found: 编号、提出代表"
    ]


def test_every_bad_row_is_named_by_row_and_column_and_nothing_is_imported(eng: Engine, tmp_path: Path) -> None:
    """Each problem is reported with the row number Excel shows and the column's header: an empty
    title, a date that is not a date, the lead deputy not among the proposers, a review opinion (not
    importable) or an unknown kind, a value that is neither 大会期间 nor 闭会期间, a joint item without a
    lead; all of them at once, and no row is imported."""
    header = ["标题", "类别", "提出代表", "领衔代表", "会次", "提出日期", "大会期间/闭会期间"]
    rows = [
        ["好的建议", "代表建议", "王芳", "", SESSION, "2026-01-10", "大会期间"],
        ["", "代表建议", "王芳", "", SESSION, "", ""],
        ["日期不对的建议", "", "王芳", "", SESSION, "2026-02-30", ""],
        ["领衔不在提出代表中", "", "王芳、李强", "陈静", SESSION, "", ""],
        ["审议意见不能导入", "审议意见", "王芳", "", SESSION, "", ""],
        ["时段不清", "", "王芳", "", "", "", "休会期间"],
        ["议案不是建议", "议案", "王芳", "", SESSION, "", ""],
        ["联名无领衔", "", "王芳、李强", "", SESSION, "", ""],
    ]
    path = xlsx(tmp_path / "bad.xlsx", rows, header)
    assert rejected(eng, path) == [
        f"{path}:3:标题: the title is empty",
        f"{path}:4:提出日期: '2026-02-30' is not a date; write it as 2026-03-20",
        f"{path}:5:领衔代表: '陈静' is not among the proposers (王芳, 李强)",
        f"{path}:6:类别: 审议意见 cannot be imported, only 代表建议 (submit it: duban submit review_opinion)",
        f"{path}:7:大会期间/闭会期间: '休会期间' is neither 大会期间 nor 闭会期间",
        f"{path}:8:类别: unknown kind '议案'; write 代表建议 or leave it empty",
        f"{path}:9:领衔代表: a jointly signed item (2 proposers) needs a lead deputy (领衔代表) named among its "
        "proposers",
    ]


def test_unknown_deputy_is_a_warning_by_default_and_an_error_on_request(eng: Engine, tmp_path: Path) -> None:
    """A proposer who is not a registered deputy is a warning (the row is imported) unless
    unknown_deputy="error", when the row is bad and nothing is imported; close names are suggested."""
    path = xlsx(tmp_path / "a.xlsx", [["", "关于路灯的建议", "王方", "", SESSION, "", ""]])
    strict = rejected(eng, path, unknown_deputy="error")
    assert strict == [
        f"{path}:2:提出代表: '王方' is not a registered deputy (did you mean '王芳'?); "
        "register: duban party add deputy 王方"
    ]
    result = import_file(eng, path)
    assert len(result.imported) == 1
    assert [str(w) for w in result.warnings] == [strict[0].replace(":提出代表: ", ":提出代表: warning: ")]


def test_no_registered_deputy_is_one_warning(engine: Engine, tmp_path: Path) -> None:
    """With no deputy registered at all the import says so once, instead of once per proposer."""
    result = import_file(engine, xlsx(tmp_path / "a.xlsx", ROWS))
    assert len(result.imported) == 3
    assert [str(w) for w in result.warnings] == [
        f"{tmp_path / 'a.xlsx'}: warning: no deputy is registered, so the proposers were not checked "
        "(duban party add deputy NAME)"
    ]


def test_skip_bad_imports_the_good_rows_and_writes_the_bad_ones(eng: Engine, tmp_path: Path) -> None:
    """With skip_bad the good rows are imported and the bad ones written to FILE.errors.csv with their
    cells as read and an 错误 column; fixed, that file imports like any other."""
    rows = [ROWS[0], ["9", "", "王芳", "", SESSION, "内容", ""], ROWS[2]]
    path = xlsx(tmp_path / "汇总.xlsx", rows)
    result = import_file(eng, path, skip_bad=True)
    assert (len(result.imported), result.bad_rows) == (2, [3])
    assert result.summary == "imported 2, skipped 0 (already present), bad 1"
    assert result.errors_file == str(tmp_path / "汇总.errors.csv")
    with open(result.errors_file, encoding="utf-8-sig", newline="") as f:
        written = list(csv.reader(f))
    assert written == [[*HEADER, "错误"], ["9", "", "王芳", "", SESSION, "内容", "", "标题: the title is empty"]]
    still = import_file(eng, Path(result.errors_file), skip_bad=True, errors_to=tmp_path / "again.csv")
    with open(tmp_path / "again.csv", encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == written  # its 错误 column is refreshed, not repeated
    assert still.imported == []
    written[1][1] = "关于补种行道树的建议"
    fixed = write_csv(tmp_path / "fixed.csv", written[1:], header=written[0], encoding="utf-8-sig")
    assert len(import_file(eng, fixed).imported) == 1
    assert count(eng) == 3


def test_skip_bad_writes_where_asked(eng: Engine, tmp_path: Path) -> None:
    """errors_to names the file the bad rows go to."""
    target = tmp_path / "out" / "bad.csv"
    target.parent.mkdir()
    path = write_csv(tmp_path / "a.csv", [ROWS[0], ["", "", "王芳", "", SESSION, "", ""]])
    result = import_file(eng, path, skip_bad=True, errors_to=target)
    assert result.errors_file == str(target) and target.exists()
    assert not (tmp_path / "a.errors.csv").exists()


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("picture.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a spreadsheet: the file is a PNG image"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "an old-format Excel .xls"),
        ("blob.csv", bytes(range(256)) * 8, "not a spreadsheet: the file is neither an .xlsx workbook nor CSV text"),
        ("notes.csv", "会议纪要\n今天讨论了很多事情。\n".encode(), "not a suggestion summary sheet"),
        ("empty.csv", b"", "the file is empty"),
        ("fake.xlsx", b"just some text", "not an .xlsx workbook"),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_named(
    eng: Engine, tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    """A file that is not a summary sheet at all (an image, an old .xls, binary data, plain prose, an
    empty file) is one clear error naming the file, and nothing is imported."""
    path = tmp_path / name
    path.write_bytes(content)
    problems = rejected(eng, path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: ") and says in problems[0]


def test_a_word_document_and_a_missing_file_are_named(eng: Engine, tmp_path: Path) -> None:
    """A .docx (a ZIP, like an .xlsx) is called a Word document; a path that does not exist, no such file."""
    docx = tmp_path / "报告.xlsx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    assert rejected(eng, docx) == [
        f"{docx}: not a spreadsheet: the file is a Word document; give an .xlsx workbook or a .csv file"
    ]
    assert rejected(eng, tmp_path / "nope.csv") == [f"{tmp_path / 'nope.csv'}: no such file"]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8", "utf-16"])
def test_csv_in_the_encodings_excel_writes(eng: Engine, tmp_path: Path, encoding: str) -> None:
    """CSV from Excel on Chinese Windows (GB18030), UTF-8 with or without BOM, and UTF-16 all import."""
    path = write_csv(tmp_path / "a.csv", ROWS, encoding=encoding)
    result = import_file(eng, path)
    assert len(result.imported) == 3
    assert eng.get(result.imported[1]).data["suggested_units"] == ["市民政局", "市卫生健康委员会"]


def test_title_rows_above_the_header_and_excel_row_numbers(eng: Engine, tmp_path: Path) -> None:
    """A sheet may open with a title row above its header; errors still give the row Excel shows, and
    headers are read as offices write them (spaces, a required mark, a note in brackets, English)."""
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["2026年市人大代表建议汇总表"])
    ws.append([])
    ws.append(["标 题*", "proposers", "会次（届次）", "Lead Deputy"])
    ws.append(["关于增设公交站的建议", "王芳", SESSION, ""])
    ws.append(["", "王芳", SESSION, ""])
    path = tmp_path / "a.xlsx"
    book.save(path)
    assert rejected(eng, path) == [f"{path}:5:标 题*: the title is empty"]


def test_a_sheet_with_only_a_lead_deputy_column(eng: Engine, tmp_path: Path) -> None:
    """A sheet that names only the 领衔代表 has the lead deputy propose alone."""
    path = write_csv(
        tmp_path / "a.csv", [["关于增设公交站的建议", "陈静", SESSION]], header=["标题", "领衔代表", "会次"]
    )
    item = eng.get(import_file(eng, path).imported[0])
    assert (item.data["proposers"], item.data["lead_deputy"]) == (["陈静"], "陈静")


def test_the_export_sheet_is_read_and_unknown_columns_ignored(eng: Engine, tmp_path: Path) -> None:
    """In a workbook with several sheets the one named 事项 is read; columns the importer does not know
    (承办单位, 状态, …) are ignored."""
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "汇总"
    first.append(["说明"])
    ws = book.create_sheet("事项")
    ws.append(["编号", "标题", "类别", "提出代表", "领衔代表", "会次", "内容", "建议承办单位", "承办单位", "状态"])
    ws.append(["7", "关于增设公交站的建议", "代表建议", "王芳", "", SESSION, "", "", "市交通运输局", "办理中"])
    path = tmp_path / "export.xlsx"
    book.save(path)
    result = import_file(eng, path)
    assert result.sheet == "事项"
    assert eng.get(result.imported[0]).data["number"] == "7"


def test_submission_dates_and_the_import_instant(eng: Engine, tmp_path: Path) -> None:
    """A row's 提出日期 (text or a real Excel date) dates its item, in Asia/Shanghai; rows without one are
    dated *at*; a date after the import is an error."""
    header = ["标题", "提出代表", "会次", "提出日期"]
    rows = [
        ["甲", "王芳", SESSION, dt.datetime(2026, 1, 8)],
        ["乙", "王芳", SESSION, "2026年1月9日"],
        ["丙", "王芳", SESSION, None],
    ]
    at = dt.datetime(2026, 1, 20, 10, 0, tzinfo=dt.UTC)
    result = import_file(eng, xlsx(tmp_path / "a.xlsx", rows, header), at=at)
    created = [eng.get(i).created_at for i in result.imported]
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert created == [
        dt.datetime(2026, 1, 8, tzinfo=shanghai),
        dt.datetime(2026, 1, 9, tzinfo=shanghai),
        at,
    ]
    late = xlsx(tmp_path / "b.xlsx", [["丁", "王芳", SESSION, "2026-02-01"]], header)
    assert rejected(eng, late, at=at) == [f"{late}:2:提出日期: 2026-02-01 is after the import's date (2026-01-20)"]


def test_the_import_is_one_transaction(eng: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while writing (here the third item) leaves nothing of the import behind."""
    before = snapshot(eng)
    real = Engine._submit_in
    calls = iter(range(100))

    def failing(self: Engine, *args: Any) -> Any:
        if next(calls) == 2:
            raise RuntimeError("disk full")
        return real(self, *args)

    monkeypatch.setattr(Engine, "_submit_in", failing)
    with pytest.raises(RuntimeError):
        import_file(eng, xlsx(tmp_path / "a.xlsx", ROWS))
    assert snapshot(eng) == before


def _import_in_process(url: str, path: str, out: Any) -> None:
    with Engine(url) as eng:
        out.put(len(import_file(eng, path).imported))


@pytest.mark.slow
def test_two_imports_of_one_file_at_once_add_it_once(eng: Engine, db_url: str, tmp_path: Path) -> None:
    """Two processes importing the same sheet at the same moment add each suggestion once."""
    rows = [[str(n), f"关于第{n}件事的建议", "王芳", "", SESSION, "", ""] for n in range(1, 201)]
    path = str(xlsx(tmp_path / "a.xlsx", rows))
    assert sorted(in_processes(_import_in_process, [(db_url, path), (db_url, path)])) == [0, 200]
    assert count(eng) == 200


def test_a_large_file_imports_with_progress(eng: Engine, tmp_path: Path) -> None:
    """5,000 rows import in one go, reporting progress as they are checked and written."""
    units = UNITS[:3]
    rows = [
        [str(n), f"关于第{n}项民生实事的建议", "王芳、李强", "李强", SESSION, "内容" * 20, "、".join(units)]
        for n in range(1, 5001)
    ]
    seen: dict[str, tuple[int, int]] = {}
    result = import_file(eng, xlsx(tmp_path / "big.xlsx", rows), progress=lambda s, d, t: seen.update({s: (d, t)}))
    assert len(result.imported) == 5000
    assert seen == {"check": (5000, 5000), "write": (5000, 5000)}
    assert count(eng) == 5000
    assert eng.get(result.imported[-1]).data["number"] == "5000"


# ---- the command line -----------------------------------------------------------------------


def run(db_url: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--db", db_url, "import", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_imports_and_reports(eng: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``duban import FILE`` exits 0 with a summary; again, it skips every row; --json gives counts."""
    path = str(xlsx(tmp_path / "a.xlsx", ROWS))
    assert run(db_url, path, capsys=capsys) == (0, "imported 3, skipped 0 (already present), bad 0\n", "")
    code, out, _ = run(db_url, path, "--json", capsys=capsys)
    assert code == 0
    assert '"imported": 0' in out and '"skipped": 3' in out and '"ok": true' in out


def test_cli_bad_rows_exit_2_with_file_row_column(
    eng: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad rows print FILE:ROW:COLUMN: message, one a line, exit 2 and import nothing; with --skip-bad
    the good rows are imported (exit 0) and the bad ones' file is named; never a traceback."""
    path = str(
        xlsx(
            tmp_path / "a.xlsx",
            [ROWS[0], ["", "", "王芳", "", SESSION, "", ""], ["", "x", "无名氏", "", SESSION, "", ""]],
        )
    )
    code, out, err = run(db_url, path, "--unknown-deputy", "error", capsys=capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        f"{path}:3:标题: the title is empty",
        f"{path}:4:提出代表: '无名氏' is not a registered deputy; register: duban party add deputy 无名氏",
        "nothing imported: 2 bad rows (--skip-bad imports the good ones)",
    ]
    assert count(eng) == 0
    target = tmp_path / "bad.csv"
    code, out, err = run(db_url, path, "--skip-bad", "--errors-to", str(target), capsys=capsys)
    assert code == 0
    assert out == f"imported 2, skipped 0 (already present), bad 1\nbad rows written to {target}\n"
    assert err.splitlines() == [
        f"{path}:4:提出代表: warning: '无名氏' is not a registered deputy; register: duban party add deputy 无名氏",
        f"{path}:3:标题: the title is empty",
    ]
    assert "Traceback" not in err


def test_cli_not_a_spreadsheet_and_bad_options(
    eng: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not a spreadsheet is one line naming it, exit 2; so is a bad --unknown-deputy; a
    bad-rows file that cannot be written is a run-time failure, exit 1, with nothing imported."""
    png = tmp_path / "scan.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    code, _, err = run(db_url, str(png), capsys=capsys)
    assert code == 2
    assert err.splitlines() == [
        f"{png}: not a spreadsheet: the file is a PNG image; give an .xlsx workbook or a .csv file",
        "nothing imported: the file cannot be read as a summary sheet",
    ]
    assert run(db_url, str(png), "--unknown-deputy", "maybe", capsys=capsys)[0] == 2
    path = str(xlsx(tmp_path / "a.xlsx", [ROWS[0], ["", "", "王芳", "", SESSION, "", ""]]))
    code, _, err = run(
        db_url, path, "--skip-bad", "--errors-to", str(tmp_path / "no" / "such" / "dir.csv"), capsys=capsys
    )
    assert code == 1 and err.startswith("error: ") and "Traceback" not in err
    assert count(eng) == 0


def test_cli_progress_bar_on_request(
    eng: Engine, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--progress draws the bar on stderr (stdout stays the summary) even when stderr is not a terminal."""
    path = str(xlsx(tmp_path / "a.xlsx", ROWS))
    code, out, err = run(db_url, path, "--progress", capsys=capsys)
    assert code == 0 and out.startswith("imported 3")
    assert "导入" in err and "3/3" in err


# ---- round trip with the XLSX export ----------------------------------------------------------


def _export(eng: Engine, path: Path) -> None:
    """The follow-up report's XLSX export, through Engine.report when it exists."""
    report = getattr(eng, "report", None)
    if report is not None:
        report("followup").write(path)
        return
    from workflow.report_office import write_xlsx  # type: ignore[import-not-found,unused-ignore]

    items = []
    for item in eng.items():
        d = item.data
        items.append(
            {
                "item_id": item.id,
                "kind": item.kind,
                "number": d.get("number"),
                "title": item.title,
                "proposers": d.get("proposers", []),
                "lead_deputy": d.get("lead_deputy"),
                "session": d.get("session"),
                "body": d.get("body"),
                "suggested_units": d.get("suggested_units", []),
                "units": [],
                "state": item.state,
                "state_label": item.state_label,
                "category": None,
                "replied_on": None,
                "result_label": None,
            }
        )
    write_xlsx({"items": items}, path)


def _items(eng: Engine) -> Iterator[tuple[Any, ...]]:
    for i in eng.items(kind="suggestion"):
        d = i.data
        yield (
            i.title,
            d.get("number"),
            d["proposers"],
            d.get("lead_deputy"),
            d.get("session"),
            d.get("body"),
            d.get("suggested_units"),
            d["origin"],
        )


def test_the_xlsx_export_imports_back(eng: Engine, tmp_path: Path) -> None:
    """duban's own XLSX export imports back: into the same database it adds nothing (its review opinions
    are found there too), and into an empty one it recreates each suggestion with the same fields, a
    suggestion without 会次 as made between sessions; review opinions there are rows it cannot import."""
    import_file(eng, xlsx(tmp_path / "a.xlsx", ROWS))
    eng.submit("suggestion", title="关于规范共享单车停放的建议", origin="between_sessions", proposers=["陈静"])
    for item in eng.items():
        eng.fire(item.id, "register")
    eng.fire(1, "assign", lead_unit="市交通运输局")
    review = review_opinion(eng)
    exported = tmp_path / "followup.xlsx"
    _export(eng, exported)
    again = import_file(eng, exported)
    assert (again.imported, again.bad) == ([], [])
    assert sorted(i for _, i in again.skipped) == [1, 2, 3, 4, review.id]
    fresh = Engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        for name in DEPUTIES:
            fresh.add_party("deputy", name)
        copied = import_file(fresh, exported, skip_bad=True)
        assert len(copied.imported) == 4
        assert [(p.column, p.message) for p in copied.bad] == [
            ("类别", "审议意见 cannot be imported, only 代表建议 (submit it: duban submit review_opinion)")
        ]
        assert sorted(_items(fresh), key=repr) == sorted(_items(eng), key=repr)
    finally:
        fresh.close()
