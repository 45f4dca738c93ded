"""The follow-up report as an Excel ledger the office sorts, filters and files.

One sheet per ledger, with a frozen header row, filters, widths that fit their contents, dates as
Excel dates and rates as percentages. Sheet 事项 comes first and carries the headers ``duban import``
reads (标题, 提出代表, 领衔代表, 会次, 内容, 建议承办单位; lists joined with 、), so an export imports
back. Text is data, never a formula: a cell whose text starts with = + - @ (or a tab or carriage
return) is stored as a string with Excel's quote prefix, which is what typing a leading apostrophe
does, so Excel, LibreOffice and WPS show it as typed and never evaluate it, and the value itself is
unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from workflow.report_view import (
    DEFAULT_TITLE,
    EMPTY_MESSAGE,
    KIND_LABELS,
    UNIT_HEADERS,
    as_date,
    as_text,
    clock_text,
    filter_rows,
    footnotes_by_section,
    grade_series,
    joined,
    level_text,
    rate,
    rate_rows,
    records,
    stage_kind,
    xml_safe,
)

__all__ = ["ITEM_COLUMNS", "write_xlsx"]

#: The 事项 sheet's columns: (header, key in ``data["items"]``). ``duban import`` reads the first group back.
ITEM_COLUMNS: tuple[tuple[str, str], ...] = (
    ("编号", "number"),
    ("标题", "title"),
    ("类别", "kind"),
    ("提出代表", "proposers"),
    ("领衔代表", "lead_deputy"),
    ("会次", "session"),
    ("内容", "body"),
    ("建议承办单位", "suggested_units"),
    ("承办单位", "units"),
    ("状态", "state_label"),
    ("答复类别", "category"),
    ("答复日期", "replied_on"),
    ("满意度", "result_label"),
    ("协办单位", "co_units"),
    ("提出日期", "submitted_on"),
    ("答复期限", "reply_due"),
    ("按期答复", "on_time"),
    ("重点督办", "key_supervised"),
    ("系统编号", "item_id"),
)
_DATE_KEYS = {"replied_on", "submitted_on", "reply_due"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Columns of free text: capped at these widths and wrapped, so that one long body does not make a sheet unreadable.
_WIDE = {"标题": 40, "内容": 60, "承诺内容": 40, "问题": 40, "整改措施": 30, "核实说明": 30, "说明": 60, "审议意见": 40}
_MAX_WIDTH = 60


def write_xlsx(data: Mapping[str, Any], path: str | Path) -> None:
    """Write the report *data* as an Excel workbook at *path*: 事项, 承办单位, 承诺事项, 问题清单, 逾期, 汇总."""
    from openpyxl import Workbook

    data = xml_safe(data)  # openpyxl refuses control characters, which items typed by the public may hold
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    _sheet(book, "事项", [h for h, _ in ITEM_COLUMNS], (_item_row(i) for i in _items(data)))
    _sheet(
        book,
        "承办单位",
        [*UNIT_HEADERS, "排名靠后"],
        (
            [
                u.get("rank"),
                u.get("unit"),
                u.get("items"),
                u.get("replied"),
                u.get("replied_on_time"),
                rate(u.get("on_time")),
                u.get("overdue_now"),
                u.get("longest_overdue_days"),
                rate(u.get("satisfaction")),
                rate(u.get("attitude")),
                u.get("rehandled"),
                "是" if u.get("flagged") else "",
            ]
            for u in records(data, "units")
        ),
    )
    reopen = {
        (as_text(r.get("item_id")), as_text(r.get("promise"))): as_text(r.get("reason"))
        for r in records(data, "reopen")
    }
    _sheet(
        book,
        "承诺事项",
        ["事项编号", "标题", "承办单位", "承诺内容", "承诺期限", "落实情况", "核实日期", "核实说明", "建议重新办理"],
        (
            [
                p.get("item_id"),
                p.get("title"),
                joined(p.get("unit")),
                p.get("what"),
                as_date(p.get("by")),
                p.get("status_label"),
                as_date(p.get("verified_on")),
                p.get("note"),
                reopen.get((as_text(p.get("item_id")), as_text(p.get("what"))), ""),
            ]
            for p in records(data, "promises")
        ),
    )
    _sheet(
        book,
        "问题清单",
        [
            "审议意见编号",
            "审议意见",
            "序号",
            "问题",
            "整改措施",
            "责任单位",
            "整改期限",
            "整改情况",
            "整改率",
            "二次审议",
        ],
        (
            [
                o.get("item_id"),
                o.get("title"),
                p.get("number"),
                p.get("title"),
                p.get("measure"),
                p.get("owner"),
                as_date(p.get("due")),
                p.get("status_label"),
                rate(o.get("rate")),
                "是" if o.get("second_review") else "",
            ]
            for o in records(data, "review_opinions")
            for p in records(o, "problems")
        ),
    )
    _sheet(
        book,
        "逾期",
        ["事项编号", "标题", "承办单位", "时限", "截止日期", "逾期天数", "督办层级"],
        (
            [
                o.get("item_id"),
                o.get("title"),
                joined(o.get("unit")),
                clock_text(o),
                as_date(o.get("due")),
                o.get("days_overdue"),
                level_text(o.get("level")),
            ]
            for o in records(data, "overdue")
        ),
    )
    _sheet(book, "汇总", ["项目", "数值", "分子", "分母", "说明"], _summary_rows(data))
    book.save(str(path))


def _items(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The per-item ledger; without ``data["items"]`` (an older computation), the items the other sections name."""
    items = records(data, "items")
    if items or "items" in data:
        return items
    seen: dict[str, dict[str, Any]] = {}
    for key in ("unsatisfied", "promises", "key_items", "review_opinions", "overdue"):
        for row in records(data, key):
            entry = seen.setdefault(
                as_text(row.get("item_id")), {"item_id": row.get("item_id"), "title": row.get("title")}
            )
            if row.get("state_label"):
                entry["state_label"] = row.get("state_label")
            units = row.get("units") or ([row["unit"]] if row.get("unit") else [])
            entry["units"] = list(dict.fromkeys([*entry.get("units", []), *units]))
            if key == "review_opinions":
                entry["kind"] = "review_opinion"
    return list(seen.values())


def _item_row(item: Mapping[str, Any]) -> list[Any]:
    row: list[Any] = []
    for _header, key in ITEM_COLUMNS:
        value = item.get(key)
        if key == "kind":
            value = KIND_LABELS.get(as_text(value), value)
        elif key in _DATE_KEYS:
            value = as_date(value)
        elif isinstance(value, bool):
            value = "是" if value else ("否" if key == "on_time" else None)
        elif isinstance(value, list | tuple):
            value = joined(value)
        row.append(value)
    return row


def _summary_rows(data: Mapping[str, Any]) -> list[list[Any]]:
    summary: Mapping[str, Any] = data.get("summary") or {}
    rows: list[list[Any]] = [
        ["报告", data.get("title") or DEFAULT_TITLE, None, None, data.get("office")],
        ["生成时间", as_date(data.get("generated_at")), None, None, None],
        [
            "统计范围",
            "；".join(f"{k} {v}" for k, v in filter_rows(data.get("filters"), data)) or "全部事项",
            None,
            None,
            None,
        ],
    ]
    if data.get("empty"):
        rows.append(["结果", EMPTY_MESSAGE, None, None, None])
    rows.append(["事项数", int(summary.get("items") or 0), None, None, None])
    for r in rate_rows(data):
        rows.append([r["label"], r, r["numerator"], r["denominator"], r["footnote"]])
    for s in records(summary, "by_stage"):
        kind = stage_kind(s)
        rows.append([f"{kind}·{as_text(s.get('label') or s.get('state'))}", s.get("count"), None, None, "各阶段事项数"])
    grades, total = grade_series(data)
    for g in grades:
        rows.append([g["label"], g["count"], g["count"], total, "答复类别分布"])
    for texts in footnotes_by_section(data).values():
        rows.extend(["说明", None, None, None, text] for text in texts)
    return rows


def _sheet(book: Any, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A ledger sheet: bold frozen header row, autofilter, typed cells, widths from the longest value."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = book.create_sheet(title)
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="ECEFF3")
        cell.alignment = Alignment(vertical="center")
    widths = [_display_width(h) for h in headers]
    count = 0
    for count, values in enumerate(rows, start=1):
        row = count + 1
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col)
            _put(cell, value)
            widths[col - 1] = max(widths[col - 1], _display_width(as_text(cell.value)))
    ws.freeze_panes = "A2"
    if count:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    for col, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), _WIDE.get(header, _MAX_WIDTH))
        if header in _WIDE:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _put(cell: Any, value: Any) -> None:
    """Store *value* typed: dates as Excel dates, rates as percentages, numbers as numbers, text as inert text."""
    if isinstance(value, Mapping) and "percent" in value:  # a rate: the number, shown as a percentage
        if value.get("value") is None:
            cell.value = "—"
        else:
            cell.value = float(value["value"])
            cell.number_format = "0.00%"
    elif isinstance(value, dt.datetime):
        cell.value = value
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = "yyyy-mm-dd"
    elif value is None or isinstance(value, bool | int | float):
        cell.value = value
    else:
        text = str(value)
        cell.value = text
        if text.startswith(_FORMULA_START):
            # openpyxl would store "=…" as a formula; as a string with the quote prefix Excel shows it as typed.
            cell.data_type = "s"
            cell.quotePrefix = True


def _display_width(text: str) -> int:
    """Columns a text needs: a CJK or full-width character is two, as Excel measures it; the longest line counts."""
    return max((sum(2 if ord(ch) > 0x2E7F else 1 for ch in line) for line in text.split("\n")), default=0)
