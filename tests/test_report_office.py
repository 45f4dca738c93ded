"""The follow-up report for Word and Excel, read back with python-docx and openpyxl and compared.

XLSX: the sheets in order, frozen header rows, widths, dates as Excel dates, rates as percentages,
the 事项 headers ``duban import`` reads, and text that can never run as a formula. DOCX: the headings
Word navigates by, tables with repeating header rows, the four charts as images with their Chinese
labels in the tables beside them.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from docx.oxml.ns import qn
from PIL import Image
from report_data import FORMULA_TITLE, HOSTILE_TITLE, empty_report, sample_report

from workflow.report_charts import ageing_png, bar_png, grade_png
from workflow.report_office import write_docx, write_xlsx
from workflow.report_view import ageing_series, grade_series, unit_series

SHEETS = ["事项", "承办单位", "承诺事项", "问题清单", "逾期", "汇总"]
IMPORTED = ["编号", "标题", "类别", "提出代表", "领衔代表", "会次", "内容", "建议承办单位"]
SECTIONS = [
    "一、总体情况",
    "二、承办单位办理情况",
    "三、不满意事项重新办理情况",
    "四、答复承诺解决事项台账",
    "五、重点督办事项",
    "六、审议意见研究处理情况",
    "七、当前逾期事项",
]


def xlsx(tmp_path: Path, data: dict[str, Any]) -> openpyxl.Workbook:
    path = tmp_path / "report.xlsx"
    write_xlsx(data, path)
    return openpyxl.load_workbook(path)


def table(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# ---- Excel ---------------------------------------------------------------------------------------


def test_xlsx_has_one_sheet_per_ledger_each_with_a_frozen_filtered_header(tmp_path: Path) -> None:
    """Sheets 事项, 承办单位, 承诺事项, 问题清单, 逾期, 汇总; each header row bold, frozen and filterable."""
    book = xlsx(tmp_path, sample_report())
    assert book.sheetnames == SHEETS
    for sheet in book:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.b for cell in sheet[1]), sheet.title
    assert book["事项"].auto_filter.ref == "A1:S5"
    assert book["逾期"].auto_filter.ref == "A1:G5"


def test_xlsx_items_sheet_has_the_columns_import_reads_one_row_per_item(tmp_path: Path) -> None:
    """事项: 编号…满意度 in Chinese, lists joined with 、, the reply date a real date, one row per item."""
    rows = table(xlsx(tmp_path, sample_report())["事项"])
    assert rows[0] == [
        *IMPORTED,
        "承办单位",
        "状态",
        "答复类别",
        "答复日期",
        "满意度",
        "协办单位",
        "提出日期",
        "答复期限",
        "按期答复",
        "重点督办",
        "系统编号",
    ]
    assert rows[1] == [
        "第001号",
        "关于增加通勤班车密度的建议",
        "代表建议",
        "王芳、李强",
        "王芳",
        "十六届人大三次会议",
        "早晚高峰班车拥挤，建议加密班次。",
        "市交通运输局",
        "市交通运输局",
        "已办结",
        "B",
        dt.datetime(2026, 5, 20),
        "满意",
        "市公安局交通警察支队",
        dt.datetime(2026, 1, 12),
        dt.datetime(2026, 6, 22),
        "是",
        "是",
        1,
    ]
    assert rows[2][1] == HOSTILE_TITLE and rows[2][7] == "市民政局、市卫生健康委员会"
    assert rows[3][10:18] == [None] * 8  # not replied yet, no extra facts: empty cells, not "None" or "否"
    assert rows[4][2] == "审议意见" and rows[4][3] is None
    assert len(rows) == 5


def test_xlsx_dates_are_excel_dates_and_rates_are_percentages(tmp_path: Path) -> None:
    """A date cell holds a date with a yyyy-mm-dd format; a rate holds its fraction shown as 0.00%."""
    book = xlsx(tmp_path, sample_report())
    replied = book["事项"]["L2"]
    assert replied.is_date and replied.value == dt.datetime(2026, 5, 20) and replied.number_format == "yyyy-mm-dd"
    promise = book["承诺事项"]
    assert table(promise)[1][4:7] == [dt.datetime(2026, 9, 30), "已落实", dt.datetime(2026, 10, 8)]
    assert promise["E2"].number_format == "yyyy-mm-dd" and promise["G3"].value is None
    assert book["逾期"]["E5"].value == dt.datetime(2026, 6, 14) and book["逾期"]["F5"].value == 200
    units = book["承办单位"]
    assert units["F2"].value == pytest.approx(27 / 28) and units["F2"].number_format == "0.00%"
    assert units["F6"].value == "—" and units["L5"].value == "是"  # no replies: no rate; 4th unit flagged
    summary = {row[0]: row for row in table(book["汇总"])}
    assert summary["生成时间"][1] == dt.datetime(2026, 12, 31, 10, 0)  # Beijing time
    assert summary["按期答复率"][1:4] == [pytest.approx(63 / 72), 63, 72]
    assert summary["问题整改率"][1:4] == [pytest.approx(49 / 89), 49, 89]
    assert summary["问题整改率"][4] == "问题整改率 = 已整改问题数 ÷ 问题总数"
    assert summary["A类 已解决或基本解决"][1:4] == [30, 30, 72]
    assert summary["事项数"][1] == 89
    assert ["说明", None, None, None, "末位提醒 = 排名最后的 2 个单位"] in table(book["汇总"])
    problems = table(book["问题清单"])
    assert problems[1][:4] == [4, "关于全市养老服务体系建设情况报告的审议意见", 1, "养老床位结构性短缺"]
    assert problems[1][4:] == [
        "新建养老机构3所",
        "市民政局",
        dt.datetime(2026, 6, 30),
        "已整改",
        pytest.approx(49 / 89),
        "是",
    ]
    assert problems[2][4:6] == [None, None]


def test_xlsx_columns_are_wide_enough_for_their_chinese_text(tmp_path: Path) -> None:
    """Widths count a Chinese character as two; long text columns are capped and wrap instead."""
    sheet = xlsx(tmp_path, sample_report())["事项"]
    widths = {
        sheet.cell(1, c).value: sheet.column_dimensions[sheet.cell(1, c).column_letter].width for c in range(1, 15)
    }
    assert widths["会次"] == 2 * len("十六届人大三次会议") + 2
    assert widths["标题"] == 40 and widths["内容"] >= 2 * len("早晚高峰班车拥挤，建议加密班次。")
    assert sheet["G2"].alignment.wrap_text
    assert widths["答复类别"] == 10  # the header is the longest text in the column


def test_xlsx_text_starting_like_a_formula_is_stored_as_inert_text(tmp_path: Path) -> None:
    """= + - @ at the start of a title, body or promise stays text (quote-prefixed), unchanged, never a formula."""
    path = tmp_path / "report.xlsx"
    write_xlsx(sample_report(), path)
    book = openpyxl.load_workbook(path)
    cells = [book["事项"]["B4"], book["事项"]["G3"], book["事项"]["G4"], book["承诺事项"]["D3"], book["逾期"]["B2"]]
    assert [c.value for c in cells] == [
        FORMULA_TITLE,
        "-1+1 这段内容以减号开头也不应当成公式",
        "@SUM(A1:A2)",
        "+新增社区食堂20家",
        FORMULA_TITLE,
    ]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert not book["事项"]["B2"].quotePrefix  # ordinary text is left alone
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(SHEETS)
        assert not any(b"<f>" in archive.read(n) or b"<f " in archive.read(n) for n in sheets)


def test_xlsx_of_an_empty_selection_has_headers_and_says_so(tmp_path: Path) -> None:
    """Nothing matched: every ledger sheet has only its header row, and 汇总 says 没有符合条件的事项."""
    book = xlsx(tmp_path, empty_report())
    assert book.sheetnames == SHEETS
    for name in SHEETS[:-1]:
        assert book[name].max_row == 1, name
    summary = {row[0]: row for row in table(book["汇总"])}
    assert summary["结果"][1] == "没有符合条件的事项"
    assert summary["按期答复率"][1:4] == ["—", 0, 0]


def test_xlsx_without_the_items_key_lists_the_items_the_other_ledgers_name(tmp_path: Path) -> None:
    """Data lacking ``items`` (an older computation) still gives a 事项 sheet: one row per item mentioned."""
    data = sample_report()
    del data["items"]
    rows = table(xlsx(tmp_path, data)["事项"])
    ids = [row[-1] for row in rows[1:]]
    assert sorted(ids) == [1, 2, 3, 4, 5, 6, 8]
    opinion = next(row for row in rows if row[-1] == 4)
    assert opinion[1] == "关于全市养老服务体系建设情况报告的审议意见" and opinion[2] == "审议意见"
    first = next(row for row in rows if row[-1] == 1)
    assert first[8] == "市交通运输局、市公安局交通警察支队" and first[9] == "已办结"  # units merged from two ledgers


# ---- Word ----------------------------------------------------------------------------------------


def document(tmp_path: Path, data: dict[str, Any]) -> Any:
    path = tmp_path / "report.docx"
    write_docx(data, path)
    return docx.Document(str(path))


def cells(doc: Any) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]


def test_docx_has_the_title_and_a_heading_per_section(tmp_path: Path) -> None:
    """Word sees a Title and seven Heading 1 sections (navigation pane, table of contents), A4 pages."""
    doc = document(tmp_path, sample_report())
    styled = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name in ("Title", "Heading 1", "Heading 2")]
    assert styled[0] == ("Title", "2026年度代表建议和审议意见办理情况回头看报告")
    assert [text for style, text in styled if style == "Heading 1"] == SECTIONS
    assert ("Heading 2", "#4 关于全市养老服务体系建设情况报告的审议意见（二次审议）") in styled
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    for style, east in (("Normal", "宋体"), ("Title", "黑体"), ("Heading 1", "黑体"), ("Heading 2", "黑体")):
        fonts = doc.styles[style].element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == east, style
        assert fonts.get(qn("w:eastAsiaTheme")) is None, style  # a theme font would override the named one


def test_docx_tables_have_repeating_header_rows_and_the_figures(tmp_path: Path) -> None:
    """Every table's first row is a header row Word repeats on each page; figures match the data."""
    doc = document(tmp_path, sample_report())
    for t in doc.tables:
        tr_pr = t.rows[0]._tr.trPr
        assert tr_pr is not None and tr_pr.find(qn("w:tblHeader")) is not None
    tables = cells(doc)
    rates = tables[0]
    assert rates[0] == ["指标", "比率", "分子", "分母", "口径"]
    assert rates[1][:4] == ["按期答复率", "87.50%", "63", "72"]
    assert rates[6][:4] == ["问题整改率", "55.06%", "49", "89"]
    units = next(t for t in tables if t[0][:2] == ["排名", "承办单位"])
    assert units[4][1] == "市自然资源和规划局（排名靠后）" and units[4][5] == "66.67%" and units[4][7] == "200"
    assert units[5][5] == "—"
    problems = next(t for t in tables if t[0][0] == "序号" and t[0][1] == "问题")
    assert problems[0] == ["序号", "问题", "整改措施", "责任单位", "整改期限", "整改情况"]
    assert problems[1] == ["1", "养老床位结构性短缺", "新建养老机构3所", "市民政局", "2026-06-30", "已整改"]
    assert problems[2] == ["2", "<img src=x onerror=alert(1)>护理人员不足", "", "", "2026-12-31", "整改中"]
    votes = next(t for t in tables if t[0][0] == "测评轮次")
    assert votes[1] == ["第1轮", "2026-10-28", "21", "9", "32", "不满意"]
    text = "\n".join(c for t in tables for row in t for c in row)
    assert HOSTILE_TITLE in text and "第1轮：2026-06-01 答复，不满意\n第2轮：未测评" in text
    paragraphs = [p.text for p in doc.paragraphs]
    assert "承诺落实率 58.33%（7 / 12）。" in paragraphs
    # A footnote closes the section it defines: the units' just before the next section's heading.
    assert paragraphs[paragraphs.index("三、不满意事项重新办理情况") - 1] == "末位提醒 = 排名最后的 2 个单位"
    assert paragraphs[-1] == "逾期清单 = 截止日 24:00 已过、仍在计时的每个期限"


def test_docx_charts_are_images_with_their_labels_in_tables_beside_them(tmp_path: Path) -> None:
    """Four PNG charts (grades, on-time, satisfaction, ageing), each captioned; the unit numbers and buckets are
    named in Chinese in the table under them."""
    doc = document(tmp_path, sample_report())
    assert len(doc.inline_shapes) == 4
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert [c.split(" ")[0] for c in captions] == ["图1", "图2", "图3", "图4"]
    images = [doc.part.related_parts[s._inline.graphic.graphicData.pic.blipFill.blip.embed] for s in doc.inline_shapes]
    assert all(part.content_type == "image/png" for part in images)
    tables = cells(doc)
    legend = next(t for t in tables if t[0] == ["序号", "承办单位", "按期答复率", "结果满意率"])
    assert legend[1] == ["1", "市交通运输局", "96.43%", "92.31%"]
    assert legend[5] == ["5", "市公安局交通警察支队（排名靠后）", "无数据", "无数据"]
    ageing = next(t for t in tables if t[0] == ["图中刻度", "逾期时长", "项数"])
    assert ageing[1:] == [
        ["<=30", "≤30天", "1"],
        ["31-90", "31–90天", "1"],
        ["91-180", "91–180天", "1"],
        [">180", ">180天", "1"],
    ]
    grades = next(t for t in tables if t[0] == ["类别", "件数", "占比"])
    assert grades[1] == ["A类 已解决或基本解决", "30", "41.67%"]


def test_docx_of_an_empty_selection_says_so_without_tables_or_charts(tmp_path: Path) -> None:
    """Nothing matched: the title, the filters and 没有符合条件的事项; no table, no image."""
    doc = document(tmp_path, empty_report())
    texts = [p.text for p in doc.paragraphs]
    assert "没有符合条件的事项" in texts and "统计范围：承办单位 市民政局；年度 2030" in texts
    assert not doc.tables and not doc.inline_shapes


# ---- the PNG charts ------------------------------------------------------------------------------


def test_png_charts_are_drawn_without_any_system_font_and_skip_empty_data() -> None:
    """Bars, pie and columns are PNGs at print resolution; flagged bars red; no data gives no image, not a crash."""
    data = sample_report()
    bars = bar_png(unit_series(data, "on_time"))
    assert bars is not None
    with Image.open(io.BytesIO(bars)) as image:
        assert image.format == "PNG" and image.width == 1600
        colours = {c for _n, c in image.convert("RGB").getcolors(maxcolors=1 << 20) or []}
    assert (47, 93, 138) in colours and (176, 58, 46) in colours
    assert grade_png(*grade_series(data)) is not None and ageing_png(ageing_series(data)) is not None
    empty = empty_report()
    assert bar_png(unit_series(empty, "on_time")) is None
    assert grade_png(*grade_series(empty)) is None
    assert ageing_png(ageing_series(empty)) is None
