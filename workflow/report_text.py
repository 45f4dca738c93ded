"""The follow-up review report as text: JSON (the documented schema), Markdown, and CSV (the items
ledger, one row per item; the other ledgers are sheets of the XLSX)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from workflow.report_defs import CATEGORY_LABELS, RATE_LABELS
from workflow.report_view import KIND_LABELS, cn_datetime_text, filter_rows
from workflow.sheet import inert

__all__ = ["ITEM_COLUMNS", "render"]

#: The items ledger's columns: (key in ``data["items"]``, heading users see).
ITEM_COLUMNS: tuple[tuple[str, str], ...] = (
    ("item_id", "序号"),
    ("number", "编号"),
    ("kind", "类别"),
    ("title", "标题"),
    ("session", "会次"),
    ("submitted_on", "提交日期"),
    ("units", "主办/分办单位"),
    ("co_units", "协办单位"),
    ("state_label", "状态"),
    ("key_supervised", "重点督办"),
    ("round", "办理轮次"),
    ("reply_due", "答复期限"),
    ("replied_on", "答复日期"),
    ("on_time", "按期答复"),
    ("category", "答复类别"),
    ("result_label", "测评结果"),
)


def render(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return items_csv(data)
    if fmt == "md":
        return markdown(data)
    raise ValueError(f"not a text format: {fmt!r}")


def cell(value: Any) -> str:
    """A value as a reader sees it in a table cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, tuple)):
        return "、".join(map(str, value))
    if isinstance(value, dict) and "percent" in value:
        return str(value["percent"])
    return str(value)


def items_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([heading for _, heading in ITEM_COLUMNS])
    for row in data["items"]:
        row = {**row, "kind": KIND_LABELS.get(row["kind"], row["kind"])}
        writer.writerow(
            [inert(cell(row[key])) if isinstance(row[key], str | list) else cell(row[key]) for key, _ in ITEM_COLUMNS]
        )
    return buffer.getvalue()


def md(text: str) -> str:
    """Text as Markdown shows it literally on one line: line breaks become spaces and the characters
    Markdown reads as markup (HTML tags, links, images, emphasis, code, table cells, entities) are
    backslash-escaped, so that ``<script>`` in a title is text in any renderer, not a tag."""
    return re.sub(r"([\\`*_\[\]<>|&#!~])", r"\\\1", re.sub(r"\r\n|\r|\n", " ", text))


def markdown(data: dict[str, Any]) -> str:
    out: list[str] = [f"# {data['title']}", "", f"{data['office']} · 截至 {cn_datetime_text(data['generated_at'])}", ""]
    shown = [f"{label} {md(value)}" for label, value in filter_rows(data["filters"], data)]
    out += [f"统计范围: {'; '.join(shown) if shown else '全部事项'}", ""]
    if data["empty"]:
        out += ["**本次筛选没有任何事项: 没有可统计的数字。**", ""]
    summary = data["summary"]
    out += ["## 总体情况", "", f"事项数: {summary['items']}", ""]
    out += _table(
        ["指标", "比率", "分子", "分母"],
        [[RATE_LABELS.get(k, k), r["percent"], r["numerator"], r["denominator"]] for k, r in summary["rates"].items()],
    )
    out += _table(
        ["类别", "状态", "件数"],
        [[s.get("kind_label", s["kind"]), s["label"], s["count"]] for s in summary["by_stage"]],
    )
    out += _table(
        ["答复类别", "件数"],
        [[f"{g} {CATEGORY_LABELS[g]}", n] for g, n in summary["grades"].items()],
    )
    out += ["## 承办单位", ""]
    out += _table(
        ["排名", "单位", "事项", "已答复", "按期答复", "按期答复率", "逾期未办", "最长逾期 (天)", "结果满意率",
         "态度满意率", "重新办理", "末位"],
        [
            [u["rank"], u["unit"], u["items"], u["replied"], u["replied_on_time"], u["on_time"], u["overdue_now"],
             u["longest_overdue_days"], u["satisfaction"], u.get("attitude", "—"), u["rehandled"],
             "⚑" if u["flagged"] else ""]
            for u in data["units"]
        ],
    )  # fmt: skip
    out += _section(
        "不满意事项",
        data["unsatisfied"],
        ["序号", "标题", "承办单位", "各轮情况", "目前状态"],
        lambda r: [r["item_id"], r["title"], r["units"], "; ".join(_round(x) for x in r["rounds"]), r["state_label"]],
    )
    out += _section(
        "答复承诺解决事项台账",
        data["promises"],
        ["序号", "标题", "单位", "承诺事项", "期限", "状态", "核实日期"],
        lambda p: [p["item_id"], p["title"], p["unit"], p["what"], p["by"], p["status_label"], p["verified_on"]],
    )
    out += _section(
        "建议重新办理 (已办结、承诺未落实)",
        data["reopen"],
        ["序号", "标题", "承诺事项", "原因"],
        lambda r: [r["item_id"], r["title"], r["promise"], r["reason"]],
    )
    out += _section(
        "重点督办事项",
        data["key_items"],
        ["序号", "标题", "督办领导", "包案领导", "承办单位", "状态", "进展"],
        lambda k: [k["item_id"], k["title"], k["supervising_leader"], k["case_leader"], k["units"], k["state_label"],
                   k["progress"]],
    )  # fmt: skip
    out += ["## 审议意见", ""]
    if not data["review_opinions"]:
        out += ["无", ""]
    for ro in data["review_opinions"]:
        second = "; 二次审议" if ro["second_review"] else ""
        out += [
            f"### {md(ro['title'])} (序号 {ro['item_id']})",
            "",
            f"{ro['state_label']}; 问题整改 {ro['rectified']}/{ro['total']} = {ro['rate']['percent']}{second}",
            "",
        ]
        out += _table(
            ["序号", "问题", "状态", "整改时限"],
            [[p["number"], p["title"], p["status_label"], p["due"]] for p in ro["problems"]],
        )
        if ro["votes"]:
            out += _table(
                ["轮次", "满意", "基本满意", "不满意", "结果"],
                [
                    [v["round"], v["satisfied"], v["basically_satisfied"], v["unsatisfied"], v["result_label"]]
                    for v in ro["votes"]
                ],
            )
    out += _section(
        "逾期未办",
        data["overdue"],
        ["序号", "标题", "单位", "期限", "截止日", "逾期天数", "督办级别"],
        lambda o: [
            o["item_id"],
            o["title"],
            o["unit"],
            f"{o['label']} {o['subject_label']}".strip(),
            o["due"],
            o["days_overdue"],
            o["level"],
        ],
    )
    out += ["## 说明", ""]
    out += [f"- {text}" for text in data["footnotes"].values()]
    return "\n".join(out) + "\n"


def _round(r: dict[str, Any]) -> str:
    replied = f" 答复 {r['replied_on']}" if r["replied_on"] else ""
    return f"第{r['round']}轮{replied} {r['result_label']}"


def _section(
    title: str, rows: Sequence[dict[str, Any]], headings: list[str], row: Callable[[dict[str, Any]], list[Any]]
) -> list[str]:
    return [f"## {title}", "", *(_table(headings, (row(r) for r in rows)) if rows else ["无", ""])]


def _table(headings: list[str], rows: Iterable[list[Any]]) -> list[str]:
    def text(value: Any) -> str:
        return md(cell(value))

    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += ["| " + " | ".join(text(v) for v in r) + " |" for r in rows]
    return [*lines, ""]
