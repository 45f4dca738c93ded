"""What every rendering of the follow-up report shares: labels, dates, and the series its charts draw.

The report's data (schema ``duban.followup/1``, computed by :mod:`workflow.reports`) is plain JSON: dates
are ISO strings and rates are ``{"value", "numerator", "denominator", "percent"}``. The HTML, DOCX and
XLSX renderers read it through these helpers so that a figure is labelled, bucketed and formatted the
same way in every format, and so that a key the computation leaves out reads as "nothing" rather than
failing a render.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from workflow.calendar import SHANGHAI

__all__ = [
    "AGEING_BUCKETS",
    "DEFAULT_TITLE",
    "EMPTY_MESSAGE",
    "GRADE_LABELS",
    "KIND_LABELS",
    "RATE_LABELS",
    "UNIT_HEADERS",
    "ageing_series",
    "as_date",
    "as_text",
    "clock_text",
    "cn_datetime_text",
    "date_text",
    "filter_rows",
    "footnotes_by_section",
    "grade_series",
    "joined",
    "level_text",
    "rate",
    "rate_rows",
    "records",
    "stage_kind",
    "unit_series",
    "xml_safe",
]

DEFAULT_TITLE = "代表建议和审议意见办理情况报告"
EMPTY_MESSAGE = "没有符合条件的事项"
NO_DATA = "—"

RATE_LABELS: dict[str, str] = {
    "on_time": "按期答复率",
    "closed": "办结率",
    "contact": "见面率",
    "satisfaction": "结果满意率",
    "attitude": "态度满意率",
    "promise_kept": "承诺落实率",
    "rectified": "问题整改率",
}
GRADE_LABELS: dict[str, str] = {
    "A": "A类 已解决或基本解决",
    "B": "B类 正在解决或列入规划",
    "C": "C类 因条件限制待以后解决",
    "D": "D类 留作参考",
}
#: The per-unit table's columns, in every format.
UNIT_HEADERS = (
    "排名",
    "承办单位",
    "件数",
    "已答复",
    "按期答复",
    "按期答复率",
    "当前逾期",
    "最长逾期(天)",
    "结果满意率",
    "态度满意率",
    "重新办理",
)
KIND_LABELS: dict[str, str] = {"suggestion": "代表建议", "review_opinion": "审议意见"}
FILTER_LABELS: dict[str, str] = {
    "year": "年度",
    "session": "会次",
    "date_from": "起始日期",
    "date_to": "截止日期",
    "from": "起始日期",
    "to": "截止日期",
    "since": "起始日期",
    "until": "截止日期",
    "kind": "类别",
    "unit": "承办单位",
    "units": "承办单位",
    "key_only": "仅重点督办",
    "key_supervised": "仅重点督办",
    "state": "状态",
    "as_of": "统计时点",
}
# Overdue ageing, in days past the due date: the buckets the office reports (one month, a quarter, half a year).
AGEING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("≤30天", 0, 30),
    ("31–90天", 31, 90),
    ("91–180天", 91, 180),
    (">180天", 181, None),
)


def records(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The rows under *key*: a list of mappings, or no rows when the key is missing or holds something else."""
    value = data.get(key)
    if isinstance(value, str) or not isinstance(value, Sequence):
        return []
    return [r for r in value if isinstance(r, Mapping)]


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: Any) -> Any:
    """*value* (and every string inside a mapping or list) with the characters XML 1.0 cannot hold, which
    Word and Excel files are made of, replaced: a C0 control by its control picture (\\x07 → ␇, \\x1b → ␛),
    anything else by U+FFFD. Text typed into a suggestion may hold them; the document must still open."""
    if isinstance(value, str):
        return _NOT_XML.sub(lambda m: chr(0x2400 + ord(m[0])) if m[0] < " " else "\ufffd", value)
    if isinstance(value, Mapping):
        return {k: xml_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [xml_safe(v) for v in value]
    return value


def as_text(value: Any) -> str:
    """A value as a cell shows it: ``None`` is an empty cell, not the word None."""
    return "" if value is None else str(value)


def rate(value: Any) -> dict[str, Any]:
    """A rate as the schema gives it, with the fields a renderer reads always present.

    A rate with no denominator has no value (``None``) and reads "—": an empty selection never divides by zero.
    """
    r = value if isinstance(value, Mapping) else {}
    numerator, denominator = int(r.get("numerator") or 0), int(r.get("denominator") or 0)
    raw = r.get("value")
    share = float(raw) if isinstance(raw, int | float) and denominator else None
    percent = r.get("percent") or (f"{share * 100:.2f}%" if share is not None else NO_DATA)
    return {"value": share, "numerator": numerator, "denominator": denominator, "percent": str(percent)}


def rate_rows(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every rate of the summary, known ones first in the report's order, each with its label and footnote."""
    rates: Mapping[str, Any] = (data.get("summary") or {}).get("rates") or {}
    footnotes: Mapping[str, Any] = data.get("footnotes") or {}
    keys = [k for k in RATE_LABELS if k in rates] + [k for k in rates if k not in RATE_LABELS]
    return [
        {"key": k, "label": RATE_LABELS.get(k, k), **rate(rates[k]), "footnote": str(footnotes.get(k) or "")}
        for k in keys
    ]


# Where a footnote is printed: its key's first part (``units.rank`` → units) names the section it defines.
_FOOTNOTE_SECTIONS = {
    "units": "units",
    "unsatisfied": "unsatisfied",
    "promises": "promises",
    "reopen": "promises",
    "key_items": "key_items",
    "review_opinions": "review_opinions",
    "problems": "review_opinions",
    "votes": "review_opinions",
    "overdue": "overdue",
    "ledger": "ledger",
}


def footnotes_by_section(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The footnotes other than the rates' (the rates table prints those beside each rate), grouped by the
    section whose figures they define: ``summary``, ``units``, … ``overdue``, and ``ledger`` for the XLSX ledgers."""
    rates: Mapping[str, Any] = (data.get("summary") or {}).get("rates") or {}
    grouped: dict[str, list[str]] = {}
    for key, text in (data.get("footnotes") or {}).items():
        if key in rates or key in RATE_LABELS or not text:
            continue
        section = _FOOTNOTE_SECTIONS.get(str(key).split(".", 1)[0], "summary")
        grouped.setdefault(section, []).append(str(text))
    return grouped


def filter_rows(filters: Mapping[str, Any] | None, data: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """The filters that narrowed the selection, as (label, value) in Chinese; unset filters are left out.
    A state is named by its label, as the report's counts by stage (in *data*) give it."""
    states = {
        str(s.get("state")): str(s.get("label"))
        for s in records((data or {}).get("summary") or {}, "by_stage")
        if s.get("label")
    }
    rows = []
    for key, value in (filters or {}).items():
        if value is None or value == "" or value == [] or value is False:
            continue
        if isinstance(value, bool):
            text = "是"
        elif isinstance(value, list | tuple):
            text = joined(KIND_LABELS.get(str(v), str(v)) for v in value)
        else:
            text = KIND_LABELS.get(str(value), str(value)) if key == "kind" else str(value)
            text = states.get(text, text) if key == "state" else text
        rows.append((FILTER_LABELS.get(key, key), text))
    return rows


def joined(values: Any) -> str:
    """A list as Chinese writes it, with the enumeration comma 、 (a plain string is returned as is)."""
    if values is None:
        return ""
    if isinstance(values, str):
        return values
    return "、".join(str(v) for v in values if v is not None and v != "")


def as_date(value: Any) -> dt.date | dt.datetime | None:
    """An ISO date (``2026-06-22``) as a date; an ISO instant as a naive Asia/Shanghai datetime (for Excel,
    which has no time zones, and for print, where the office reads Beijing time); anything else ``None``."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        return value
    elif isinstance(value, str) and value:
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value)
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI).replace(tzinfo=None)
    return moment


def date_text(value: Any) -> str:
    """``2026-06-22`` for a date, ``2026-06-22 09:00`` for an instant, the text itself when it is not a date."""
    parsed = as_date(value)
    if isinstance(parsed, dt.datetime):
        return parsed.strftime("%Y-%m-%d %H:%M")
    if isinstance(parsed, dt.date):
        return parsed.isoformat()
    return "" if value is None else str(value)


def cn_datetime_text(value: Any) -> str:
    """2026年12月31日 10:00 — when the report was generated, as the cover page writes it."""
    parsed = as_date(value)
    if isinstance(parsed, dt.datetime):
        return f"{parsed.year}年{parsed.month}月{parsed.day}日 {parsed.hour:02d}:{parsed.minute:02d}"
    if isinstance(parsed, dt.date):
        return f"{parsed.year}年{parsed.month}月{parsed.day}日"
    return "" if value is None else str(value)


def clock_text(row: Mapping[str, Any]) -> str:
    """Which deadline an overdue row is: the clock's label, and for a per-record clock the record (承诺事项 2)."""
    label = as_text(row.get("label") or row.get("clock"))
    subject = as_text(row.get("subject_label"))
    return f"{label} · {subject}" if subject else label


def stage_kind(row: Mapping[str, Any]) -> str:
    """The kind of a by-stage row as the computation labels it, or its Chinese name."""
    kind = as_text(row.get("kind"))
    return as_text(row.get("kind_label")) or KIND_LABELS.get(kind, kind)


def level_text(level: Any) -> str:
    """An escalation level as the ledger writes it: 第2级; no escalation yet is 未升级."""
    if isinstance(level, int) and not isinstance(level, bool) and level > 0:
        return f"第{level}级"
    if isinstance(level, str) and level:
        return level
    return "未升级"


def unit_series(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """One bar per unit for the rate *key* (``on_time`` or ``satisfaction``), in ranking order.

    A unit with nothing to measure keeps its row with ``value`` ``None`` (drawn as 无数据), so every chart
    lists the same units as the table beside it.
    """
    units: Sequence[Mapping[str, Any]] = data.get("units") or []
    ordered = sorted(units, key=lambda u: (u.get("rank") is None, u.get("rank") or 0))
    series = []
    for u in ordered:
        r = rate(u.get(key))
        series.append(
            {
                "label": str(u.get("unit") or ""),
                "value": r["value"],
                "text": r["percent"] if r["value"] is not None else "无数据",
                "detail": f"{r['numerator']}/{r['denominator']}",
                "flagged": bool(u.get("flagged")),
            }
        )
    return series


def grade_series(data: Mapping[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The A/B/C/D mix of replies: one entry per category with its count and share, and the total.

    With no replies the total is 0 and every share is 0.0: the chart says so instead of dividing by zero.
    """
    grades: Mapping[str, Any] = (data.get("summary") or {}).get("grades") or {}
    counts = {g: int(grades.get(g) or 0) for g in GRADE_LABELS}
    total = sum(counts.values())
    return [
        {
            "key": g,
            "label": GRADE_LABELS[g],
            "count": n,
            "share": n / total if total else 0.0,
            "percent": f"{n / total * 100:.2f}%" if total else NO_DATA,
        }
        for g, n in counts.items()
    ], total


def ageing_series(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Open clocks past due, counted by how long they are overdue (≤30, 31–90, 91–180, >180 days)."""
    counts = [0] * len(AGEING_BUCKETS)
    for row in data.get("overdue") or []:
        days = int(row.get("days_overdue") or 0)
        for i, (_label, low, high) in enumerate(AGEING_BUCKETS):
            if days >= low and (high is None or days <= high):
                counts[i] += 1
                break
        else:  # a negative age (due later today in another time zone's reckoning) is as young as it gets
            counts[0] += 1
    return [{"label": label, "count": n} for (label, _low, _high), n in zip(AGEING_BUCKETS, counts, strict=True)]
