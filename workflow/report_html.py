"""The follow-up report as one self-contained, print-ready HTML page (A4, inline CSS, inline SVG charts).

The page makes no request of its own: styles are inline, charts are SVG drawn here, fonts are named
with fallbacks (Noto / Source Han first, the Windows and macOS Song and Hei faces next, then the
generic families) so that the same file prints on a clerk's PC and in headless Chromium on a server.

It is rendered from ``workflow/templates/followup.html`` in Jinja's immutable sandbox with
autoescaping on for every template: titles, problems and promises are typed by deputies, units and the
public, and ``<script>`` in a title must print as text. The template only ever receives the
normalised view built here (every key present, dates formatted), so a key the computation leaves out
reads as empty, while a mistake in the template itself still fails loudly (``StrictUndefined``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from workflow.report_view import (
    DEFAULT_TITLE,
    EMPTY_MESSAGE,
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
)

__all__ = ["render_html"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
GRADE_COLOURS = {"A": "#2e7d32", "B": "#1f5f99", "C": "#e0a100", "D": "#8c8c8c"}
AGEING_COLOURS = ("#e0a100", "#d9782d", "#c0502b", "#8b1a1a")
# Promise and problem statuses the ledger colours; anything else is shown in the body colour.
STATUS_CLASSES = {
    "verified": "ok",
    "kept": "ok",
    "rectified": "ok",
    "done": "ok",
    "closed": "ok",
    "overdue": "bad",
    "broken": "bad",
    "open": "open",
    "planned": "open",
    "in_progress": "open",
}


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, reading ``row.items`` from a plain dict's key before its method of that name.

    The view's rows are dicts with keys such as ``items`` and ``count``; Jinja looks up attributes first, so
    ``u.items`` would print the bound method. Anything but a plain dict takes the sandbox's checked path.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@functools.cache
def _environment() -> ImmutableSandboxedEnvironment:
    env = _Sandbox(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=True,  # every template, whatever its name: the report is HTML throughout
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render_html(data: Mapping[str, Any]) -> str:
    """The report *data* (schema ``duban.followup/1``) as a complete HTML document."""
    return _environment().get_template("followup.html").render(_view(data))


# ---- the view the template reads ------------------------------------------------------------------


def _status_class(status: Any) -> str:
    return STATUS_CLASSES.get(as_text(status), "")


def _view(data: Mapping[str, Any]) -> dict[str, Any]:
    summary: Mapping[str, Any] = data.get("summary") or {}
    grades, grade_total = grade_series(data)
    rates = rate_rows(data)
    on_time, satisfaction = unit_series(data, "on_time"), unit_series(data, "satisfaction")
    ageing = ageing_series(data)
    footnotes: Mapping[str, Any] = data.get("footnotes") or {}
    return {
        "title": as_text(data.get("title")) or DEFAULT_TITLE,
        "office": as_text(data.get("office")),
        "generated": cn_datetime_text(data.get("generated_at")),
        "schema": as_text(data.get("schema")),
        "filters": filter_rows(data.get("filters"), data),
        "empty": bool(data.get("empty")),
        "empty_message": EMPTY_MESSAGE,
        "item_count": int(summary.get("items") or 0),
        "stages": [
            {
                "kind": stage_kind(s),
                "label": as_text(s.get("label") or s.get("state")),
                "count": int(s.get("count") or 0),
            }
            for s in records(summary, "by_stage")
        ],
        "rates": rates,
        "grades": grades,
        "grade_total": grade_total,
        "units": [_unit(u) for u in records(data, "units")],
        "unsatisfied": [_unsatisfied(u) for u in records(data, "unsatisfied")],
        "promise_rate": rate((summary.get("rates") or {}).get("promise_kept")),
        "promise_footnote": as_text(footnotes.get("promise_kept")),
        "promises": [_promise(p) for p in records(data, "promises")],
        "reopen": [_texts(r, "item_id", "title", "promise", "reason") for r in records(data, "reopen")],
        "key_items": [_key_item(k) for k in records(data, "key_items")],
        "opinions": [_opinion(o) for o in records(data, "review_opinions")],
        "overdue": [_overdue(o) for o in records(data, "overdue")],
        "notes": footnotes_by_section(data),
        "charts": {
            "on_time": _bar_chart(on_time),
            "satisfaction": _bar_chart(satisfaction),
            "grades": _donut(grades, grade_total),
            "ageing": _histogram(ageing),
        },
    }


def _texts(row: Mapping[str, Any], *keys: str) -> dict[str, str]:
    return {k: as_text(row.get(k)) for k in keys}


def _unit(u: Mapping[str, Any]) -> dict[str, Any]:
    longest = u.get("longest_overdue_days")
    return {
        "unit": as_text(u.get("unit")),
        "rank": as_text(u.get("rank")),
        "item_count": int(u.get("items") or 0),
        "replied": int(u.get("replied") or 0),
        "replied_on_time": int(u.get("replied_on_time") or 0),
        "on_time": rate(u.get("on_time")),
        "overdue_now": int(u.get("overdue_now") or 0),
        "longest_overdue_days": "—" if not longest else str(longest),
        "satisfaction": rate(u.get("satisfaction")),
        "attitude": rate(u.get("attitude")),
        "rehandled": int(u.get("rehandled") or 0),
        "flagged": bool(u.get("flagged")),
    }


def _unsatisfied(u: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_texts(u, "item_id", "title", "state_label"),
        "units": joined(u.get("units")),
        "rounds": [
            {
                "round": as_text(r.get("round")),
                "result_label": as_text(r.get("result_label") or r.get("result")) or "未测评",
                "replied_on": date_text(r.get("replied_on")),
                "bad": r.get("result") == "unsatisfied",
            }
            for r in records(u, "rounds")
        ],
    }


def _promise(p: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_texts(p, "item_id", "title", "what"),
        "unit": joined(p.get("unit")),
        "by": date_text(p.get("by")),
        "status_label": as_text(p.get("status_label") or p.get("status")),
        "status_class": _status_class(p.get("status")),
        "note": as_text(p.get("note")),
        "verified_on": date_text(p.get("verified_on")),
    }


def _key_item(k: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_texts(k, "item_id", "title", "supervising_leader", "case_leader", "state_label", "progress"),
        "units": joined(k.get("units")),
    }


def _opinion(o: Mapping[str, Any]) -> dict[str, Any]:
    problems = records(o, "problems")
    return {
        **_texts(o, "item_id", "title", "state_label"),
        "rectified": int(o.get("rectified") or 0),
        "total": int(o.get("total") or 0),
        "rate": rate(o.get("rate")),
        "second_review": bool(o.get("second_review")),
        # The measure and owner columns only when the rectification list gave them.
        "measures": any(p.get("measure") or p.get("owner") for p in problems),
        "problems": [
            {
                "number": as_text(p.get("number")),
                "title": as_text(p.get("title")),
                "measure": as_text(p.get("measure")),
                "owner": as_text(p.get("owner")),
                "status_label": as_text(p.get("status_label") or p.get("status")),
                "status_class": _status_class(p.get("status")),
                "due": date_text(p.get("due")),
            }
            for p in problems
        ],
        "votes": [
            {
                "round": as_text(v.get("round")),
                "on": date_text(v.get("on")),
                "satisfied": int(v.get("satisfied") or 0),
                "basically_satisfied": int(v.get("basically_satisfied") or 0),
                "unsatisfied": int(v.get("unsatisfied") or 0),
                "result_label": as_text(v.get("result_label") or v.get("result")),
                "bad": v.get("result") in ("unsatisfactory", "failed", "unsatisfied"),
            }
            for v in records(o, "votes")
        ],
    }


def _overdue(o: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_texts(o, "item_id", "title"),
        "unit": joined(o.get("unit")),
        "clock": clock_text(o),
        "due": date_text(o.get("due")),
        "days_overdue": int(o.get("days_overdue") or 0),
        "level": level_text(o.get("level")),
    }


# ---- inline SVG charts: geometry here, markup (escaped) in the template ----------------------------

CHART_WIDTH = 680


def _short(label: str, limit: int = 12) -> str:
    """A unit name that fits the label column; the full name stays in the bar's tooltip and the table."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _bar_chart(series: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Horizontal bars, one per unit, on a 0–100% axis; flagged units in the warning colour."""
    label_w, value_w, top, row_h, bar_h = 170, 90, 24, 22, 14
    plot_w = CHART_WIDTH - label_w - value_w
    rows = []
    for i, s in enumerate(series):
        y = top + i * row_h
        share = min(max(float(s["value"] or 0.0), 0.0), 1.0)
        width = round(share * plot_w, 1)
        rows.append(
            {
                "label": _short(str(s["label"])),
                "full": f"{s['label']}: {s['text']} ({s['detail']})",
                "y": y + (row_h - bar_h) / 2,
                "text_y": y + row_h / 2 + 4,
                "width": width,
                "value_x": label_w + width + 6,
                "text": s["text"],
                "flagged": bool(s["flagged"]),
                "missing": s["value"] is None,
            }
        )
    ticks = [{"x": round(label_w + plot_w * t / 100, 1), "label": f"{t}%"} for t in (0, 25, 50, 75, 100)]
    return {
        "width": CHART_WIDTH,
        "height": top + len(rows) * row_h + 6,
        "x0": label_w,
        "top": top - 4,
        "bottom": top + len(rows) * row_h,
        "rows": rows,
        "ticks": ticks,
    }


def _donut(grades: Sequence[Mapping[str, Any]], total: int) -> dict[str, Any]:
    """The A/B/C/D mix as a ring: each category a dashed stroke whose length is its share of the circumference."""
    radius, cx, cy = 56.0, 90.0, 90.0
    circumference = 2 * math.pi * radius
    start = 0.0
    segments, legend = [], []
    for i, g in enumerate(grades):
        length = float(g["share"]) * circumference
        if length > 0:
            segments.append(
                {
                    "colour": GRADE_COLOURS[g["key"]],
                    "dash": f"{length:.2f} {circumference - length:.2f}",
                    "offset": f"{-start:.2f}",
                    "title": f"{g['label']}: {g['count']} ({g['percent']})",
                }
            )
        start += length
        legend.append(
            {
                "y": 40 + i * 30,
                "colour": GRADE_COLOURS[g["key"]],
                "label": g["label"],
                "value": f"{g['count']} 件  {g['percent']}",
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": 180,
        "cx": cx,
        "cy": cy,
        "r": radius,
        "total": total,
        "segments": segments,
        "legend": legend,
    }


def _histogram(buckets: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Overdue clocks by age: a column per bucket, as high as its share of the fullest (flat when all are 0)."""
    left, right, base, plot_h, bar_w = 60, 40, 170, 130, 90
    slot = (CHART_WIDTH - left - right) / len(buckets)
    highest = max((int(b["count"]) for b in buckets), default=0)
    bars = []
    for i, b in enumerate(buckets):
        count = int(b["count"])
        height = round(count / highest * plot_h, 1) if highest else 0.0
        x = left + i * slot + (slot - bar_w) / 2
        bars.append(
            {
                "x": round(x, 1),
                "y": round(base - height, 1),
                "width": bar_w,
                "height": height,
                "centre": round(x + bar_w / 2, 1),
                "count": count,
                "label": b["label"],
                "colour": AGEING_COLOURS[i % len(AGEING_COLOURS)],
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": base + 30,
        "base": base,
        "x0": left,
        "x1": CHART_WIDTH - right,
        "bars": bars,
    }
