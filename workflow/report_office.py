"""The follow-up report for the office's own tools: a Word document to edit, an Excel ledger to sort and file.

``write_docx(data, path)``: the committee's report is edited in Word before it is submitted, so the
document is built from real headings (Heading 1/2, usable in Word's navigation pane and table of
contents), real tables with a repeating header row, and the charts as PNG images whose Chinese labels
sit in a table under each image (see :mod:`workflow.report_charts` for why no text in the images is CJK).

``write_xlsx(data, path)``: the ledgers, one sheet each; written by :mod:`workflow.report_xlsx` and
offered here too, so that the office formats are one import.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from workflow.report_charts import AGEING_MARKS, ageing_png, bar_png, grade_png
from workflow.report_view import (
    DEFAULT_TITLE,
    EMPTY_MESSAGE,
    UNIT_HEADERS,
    ageing_series,
    as_text,
    clock_text,
    cn_datetime_text,
    date_text,
    filter_rows,
    footnotes_by_section,
    grade_series,
    joined,
    level_text,
    rate,
    rate_rows,
    records,
    stage_kind,
    unit_series,
    xml_safe,
)
from workflow.report_xlsx import ITEM_COLUMNS, write_xlsx

__all__ = ["ITEM_COLUMNS", "write_docx", "write_xlsx"]

SECTIONS = (
    "一、总体情况",
    "二、承办单位办理情况",
    "三、不满意事项重新办理情况",
    "四、答复承诺解决事项台账",
    "五、重点督办事项",
    "六、审议意见研究处理情况",
    "七、当前逾期事项",
)


# ---- Word ----------------------------------------------------------------------------------------


def write_docx(data: Mapping[str, Any], path: str | Path) -> None:
    """Write the report *data* (schema ``duban.followup/1``) as an editable A4 Word document at *path*."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    data = xml_safe(data)  # control characters typed into an item would make python-docx refuse the text
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(25), Mm(22)
    section.left_margin, section.right_margin = Mm(25), Mm(22)
    _fonts(doc)

    title = doc.add_heading(as_text(data.get("title")) or DEFAULT_TITLE, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    meta = [as_text(data.get("office")), f"生成时间：{cn_datetime_text(data.get('generated_at'))}"]
    scope = "；".join(f"{label} {value}" for label, value in filter_rows(data.get("filters"), data)) or "全部事项"
    for line in [*filter(None, meta), f"统计范围：{scope}"]:
        p = doc.add_paragraph(line)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if data.get("empty"):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(EMPTY_MESSAGE)
        run.font.size = Pt(16)
        doc.save(str(path))
        return

    w = _Word(doc, footnotes_by_section(data))
    _docx_summary(w, data)
    _docx_units(w, data)
    _docx_ledgers(w, data)
    _docx_overdue(w, data)
    doc.save(str(path))


def _fonts(doc: Any) -> None:
    """Song for the body and Hei for headings and tables, named for East Asian text as Word needs them.

    Word picks the font of Chinese characters from ``w:eastAsia``, not from the font name python-docx sets,
    so both are written, and the template's theme fonts (which take precedence) are removed; the Latin
    fallback is Times New Roman, as official documents use.
    """
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    for name, east, size in (
        ("Normal", "宋体", 11),
        ("Title", "黑体", 20),
        ("Heading 1", "黑体", 15),
        ("Heading 2", "黑体", 12),
        ("Caption", "黑体", 9),
    ):
        style = doc.styles[name]
        style.font.name = "Times New Roman" if name == "Normal" else "Arial"
        style.font.size = Pt(size)
        if name != "Normal":
            style.font.color.rgb = RGBColor(0x8B, 0x1A, 0x1A) if name == "Title" else RGBColor(0, 0, 0)
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(fonts)
        fonts.set(qn("w:eastAsia"), east)
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(theme), None)  # a theme font wins over a named one: the headings' would


class _Word:
    """The document being written, with the table and figure helpers every section uses."""

    def __init__(self, doc: Any, notes: dict[str, list[str]]) -> None:
        self.doc = doc
        self.figures = 0
        self.notes = notes

    def section_notes(self, key: str) -> None:
        """The footnotes defining the figures of section *key*, in small print at its end."""
        for text in self.notes.get(key, []):
            self.para(text, note=True)

    def heading(self, text: str, level: int = 1) -> None:
        self.doc.add_heading(text, level=level)

    def para(self, text: str, *, note: bool = False) -> None:
        from docx.shared import Pt, RGBColor

        p = self.doc.add_paragraph()
        run = p.add_run(text)
        if note:
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor(0x5F, 0x5F, 0x5F)

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]], flagged: Iterable[bool] = ()) -> None:
        """A bordered table whose first row is a header row Word repeats on every page; flagged rows shaded."""
        from docx.oxml.ns import qn
        from docx.shared import Pt

        rows = [list(r) for r in rows]
        marks = list(flagged)
        table = self.doc.add_table(rows=1 + len(rows), cols=len(headers))
        table.style = "Table Grid"
        header = table.rows[0]
        tr_pr = header._tr.get_or_add_trPr()
        tr_pr.append(tr_pr.makeelement(qn("w:tblHeader"), {qn("w:val"): "true"}))
        for cell, text in zip(header.cells, headers, strict=True):
            run = cell.paragraphs[0].add_run(text)
            run.bold = True
            run.font.size = Pt(9)
            _shade(cell, "ECEFF3")
        for i, values in enumerate(rows):
            cells = table.rows[i + 1].cells
            for cell, value in zip(cells, values, strict=True):
                cell.paragraphs[0].add_run(as_text(value)).font.size = Pt(9)
                if i < len(marks) and marks[i]:
                    _shade(cell, "FBEAEA")
        self.doc.add_paragraph()

    def figure(self, png: bytes | None, caption: str, none: str) -> bool:
        """The chart *png* under a numbered caption, or the sentence *none* when there is nothing to draw."""
        from docx.shared import Cm

        if png is None:
            self.para(none, note=True)
            return False
        self.figures += 1
        self.doc.add_paragraph(f"图{self.figures} {caption}", style="Caption")
        self.doc.add_picture(io.BytesIO(png), width=Cm(15.5))
        return True


def _shade(cell: Any, fill: str) -> None:
    from docx.oxml.ns import qn

    props = cell._tc.get_or_add_tcPr()
    props.append(props.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): fill}))


def _ref(row: Mapping[str, Any]) -> str:
    return f"#{as_text(row.get('item_id'))} {as_text(row.get('title'))}"


def _docx_summary(w: _Word, data: Mapping[str, Any]) -> None:
    summary: Mapping[str, Any] = data.get("summary") or {}
    w.heading(SECTIONS[0])
    w.para(f"本报告共统计事项 {int(summary.get('items') or 0)} 件。")
    rates = rate_rows(data)
    w.table(
        ["指标", "比率", "分子", "分母", "口径"],
        ([r["label"], r["percent"], r["numerator"], r["denominator"], r["footnote"]] for r in rates),
    )
    stages = records(summary, "by_stage")
    if stages:
        w.heading("各阶段事项数", 2)
        w.table(
            ["类别", "阶段", "件数"],
            (
                [
                    stage_kind(s),
                    as_text(s.get("label") or s.get("state")),
                    s.get("count"),
                ]
                for s in stages
            ),
        )
    grades, total = grade_series(data)
    if w.figure(grade_png(grades, total), "答复类别分布（A/B/C/D）", "尚无答复，无类别分布。"):
        w.table(["类别", "件数", "占比"], ([g["label"], g["count"], g["percent"]] for g in grades))
    w.section_notes("summary")


def _docx_units(w: _Word, data: Mapping[str, Any]) -> None:
    w.heading(SECTIONS[1])
    units = records(data, "units")
    if not units:
        w.para("没有承办单位数据。")
        w.section_notes("units")
        return
    w.table(
        list(UNIT_HEADERS),
        (
            [
                u.get("rank"),
                as_text(u.get("unit")) + ("（排名靠后）" if u.get("flagged") else ""),
                u.get("items"),
                u.get("replied"),
                u.get("replied_on_time"),
                rate(u.get("on_time"))["percent"],
                u.get("overdue_now"),
                u.get("longest_overdue_days") or "—",
                rate(u.get("satisfaction"))["percent"],
                rate(u.get("attitude"))["percent"],
                u.get("rehandled"),
            ]
            for u in units
        ),
        flagged=(bool(u.get("flagged")) for u in units),
    )
    on_time, satisfaction = unit_series(data, "on_time"), unit_series(data, "satisfaction")
    first = w.figures + 1
    w.figure(bar_png(on_time), "各承办单位按期答复率（图中序号对应下表）", "没有承办单位数据。")
    w.figure(bar_png(satisfaction), "各承办单位结果满意率（图中序号对应下表）", "没有承办单位数据。")
    w.para(f"图{first}、图{first + 1}序号对照（红色为排名靠后的单位）：", note=True)
    w.table(
        ["序号", "承办单位", "按期答复率", "结果满意率"],
        (
            [i + 1, a["label"] + ("（排名靠后）" if a["flagged"] else ""), a["text"], b["text"]]
            for i, (a, b) in enumerate(zip(on_time, satisfaction, strict=True))
        ),
        flagged=(a["flagged"] for a in on_time),
    )
    w.section_notes("units")


def _rounds(rounds: Iterable[Mapping[str, Any]]) -> str:
    lines = []
    for r in rounds:
        replied = f"{date_text(r.get('replied_on'))} 答复，" if r.get("replied_on") else ""
        lines.append(
            f"第{as_text(r.get('round'))}轮：{replied}{as_text(r.get('result_label') or r.get('result')) or '未测评'}"
        )
    return "\n".join(lines)


def _docx_ledgers(w: _Word, data: Mapping[str, Any]) -> None:
    w.heading(SECTIONS[2])
    unsatisfied = records(data, "unsatisfied")
    if unsatisfied:
        w.table(
            ["事项", "承办单位", "各轮答复与测评", "当前状态"],
            (
                [_ref(u), joined(u.get("units")), _rounds(records(u, "rounds")), as_text(u.get("state_label"))]
                for u in unsatisfied
            ),
        )
    else:
        w.para("没有不满意事项。")

    w.section_notes("unsatisfied")

    w.heading(SECTIONS[3])
    kept = rate(((data.get("summary") or {}).get("rates") or {}).get("promise_kept"))
    w.para(f"承诺落实率 {kept['percent']}（{kept['numerator']} / {kept['denominator']}）。")
    if (data.get("footnotes") or {}).get("promise_kept"):
        w.para(as_text(data["footnotes"]["promise_kept"]), note=True)
    promises = records(data, "promises")
    if promises:
        w.table(
            ["事项", "承办单位", "承诺内容", "承诺期限", "落实情况", "核实日期"],
            (
                [
                    _ref(p),
                    joined(p.get("unit")),
                    as_text(p.get("what")),
                    date_text(p.get("by")),
                    as_text(p.get("status_label")) + (f"（{p['note']}）" if p.get("note") else ""),
                    date_text(p.get("verified_on")),
                ]
                for p in promises
            ),
            flagged=(p.get("status") in ("overdue", "broken") for p in promises),
        )
    else:
        w.para("没有答复承诺事项。")
    reopen = records(data, "reopen")
    if reopen:
        w.heading("已办结但承诺未落实、建议重新办理的事项", 2)
        w.table(
            ["事项", "未落实的承诺", "原因"],
            ([_ref(r), as_text(r.get("promise")), as_text(r.get("reason"))] for r in reopen),
        )

    w.section_notes("promises")

    w.heading(SECTIONS[4])
    key_items = records(data, "key_items")
    if key_items:
        w.table(
            ["事项", "督办领导", "包案领导", "承办单位", "状态", "办理进展"],
            (
                [
                    _ref(k),
                    as_text(k.get("supervising_leader")),
                    as_text(k.get("case_leader")),
                    joined(k.get("units")),
                    as_text(k.get("state_label")),
                    as_text(k.get("progress")),
                ]
                for k in key_items
            ),
        )
    else:
        w.para("没有重点督办事项。")

    w.section_notes("key_items")

    w.heading(SECTIONS[5])
    opinions = records(data, "review_opinions")
    if not opinions:
        w.para("没有审议意见。")
    for o in opinions:
        w.heading(_ref(o) + ("（二次审议）" if o.get("second_review") else ""), 2)
        r = rate(o.get("rate"))
        w.para(
            f"状态：{as_text(o.get('state_label'))}；问题整改：已整改 {int(o.get('rectified') or 0)} 个，"
            f"共 {int(o.get('total') or 0)} 个，整改率 {r['percent']}。"
        )
        problems = records(o, "problems")
        if problems:
            measures = any(p.get("measure") or p.get("owner") for p in problems)
            w.table(
                ["序号", "问题", *(["整改措施", "责任单位"] if measures else []), "整改期限", "整改情况"],
                (
                    [
                        p.get("number"),
                        as_text(p.get("title")),
                        *([as_text(p.get("measure")), as_text(p.get("owner"))] if measures else []),
                        date_text(p.get("due")),
                        as_text(p.get("status_label")),
                    ]
                    for p in problems
                ),
            )
        votes = records(o, "votes")
        if votes:
            w.table(
                ["测评轮次", "测评日期", "满意", "基本满意", "不满意", "测评结果"],
                (
                    [
                        f"第{as_text(v.get('round'))}轮",
                        date_text(v.get("on")),
                        v.get("satisfied"),
                        v.get("basically_satisfied"),
                        v.get("unsatisfied"),
                        as_text(v.get("result_label")),
                    ]
                    for v in votes
                ),
            )
        else:
            w.para("尚未进行满意度测评。", note=True)
    w.section_notes("review_opinions")


def _docx_overdue(w: _Word, data: Mapping[str, Any]) -> None:
    w.heading(SECTIONS[6])
    buckets = ageing_series(data)
    if w.figure(ageing_png(buckets), "逾期时长分布（图中刻度为天数，对应下表）", "当前没有逾期事项。"):
        w.table(
            ["图中刻度", "逾期时长", "项数"],
            ([mark, b["label"], b["count"]] for mark, b in zip(AGEING_MARKS, buckets, strict=True)),
        )
    overdue = records(data, "overdue")
    if overdue:
        w.table(
            ["事项", "承办单位", "时限", "截止日期", "逾期天数", "督办层级"],
            (
                [
                    _ref(o),
                    joined(o.get("unit")),
                    clock_text(o),
                    date_text(o.get("due")),
                    o.get("days_overdue"),
                    level_text(o.get("level")),
                ]
                for o in overdue
            ),
        )
    w.section_notes("overdue")
