"""Documents are Chinese: every report, notice and audit export a person reads carries no English.

The year of ``report_year`` is played once; then each document is rendered from it the way duban
renders it (the follow-up report as HTML, DOCX, XLSX, Markdown and CSV; the audit export of every item
as text and HTML; every notice in the outbox and every notice type for each kind of recipient) and
read back as a person sees it: the text of the HTML (no tags, styles or scripts), the paragraphs and
tables of the DOCX (python-docx), the cells of the XLSX (openpyxl). In that text no ASCII word of three
letters or more may appear except a short list of names (:data:`ALLOWED`); digests in hex, URLs and
mail addresses are taken out first. A failure lists every word found, per document, with its line.
The codes stay where programs read them: ``--json`` output and the JSON audit export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
import sqlalchemy as sa
from report_year import NOW, year_engine

from workflow import Engine
from workflow.audit_export import export
from workflow.cli import main
from workflow.notify import Recipient, item_variables, open_deadline, report_overdue
from workflow.store import TABLES

#: Names that are not glosses: the database products the audit export names.
ALLOWED = frozenset({"SQLite", "PostgreSQL"})
_MASKS = (
    re.compile(r"\b[0-9a-f]{12,}\b"),  # digests and hashes
    re.compile(r"https?://\S+"),
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    re.compile(r"\b\d+(\.\d+)?\s?(KiB|MiB|GiB)\b"),
)
_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")
OFFICE = "人大常委会办公室"  # the office name of the default settings


def english(text: str) -> list[str]:
    """Every line of *text* holding an ASCII word of 3+ letters outside :data:`ALLOWED`, as ``word: line``."""
    found = []
    for line in text.splitlines():
        masked = line
        for mask in _MASKS:
            masked = mask.sub(" ", masked)
        found += [f"{w}: {line.strip()[:120]}" for w in _WORD.findall(masked) if w not in ALLOWED]
    return found


def assert_chinese(docs: dict[str, str]) -> None:
    problems = {name: words for name, text in docs.items() if (words := english(text))}
    assert not problems, "English in documents:\n" + "\n".join(
        f"  {name}:\n" + "\n".join(f"    {w}" for w in words[:20]) for name, words in problems.items()
    )


class _Text(HTMLParser):
    """What a reader of an HTML page sees: its text and the tooltips (title, alt), not tags or styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in ("style", "script")
        self.parts += [v for k, v in attrs if k in ("title", "alt", "aria-label") and v]

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return "\n".join(parser.parts)


def docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for t in document.tables for row in t.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in (*section.header.paragraphs, *section.footer.paragraphs)]
    parts += [document.core_properties.title or ""]
    return "\n".join(parts)


def xlsx_text(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    parts = []
    for sheet in book.worksheets:
        parts.append(sheet.title)
        parts += [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    return "\n".join(parts)


# ---- the year, its documents ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict[str, int]]]:
    with year_engine(tmp_path_factory.mktemp("year")) as (eng, ids):
        with eng.db.begin() as conn:  # the daily 逾期通报 as the daemon queues it
            report_overdue(conn, eng.notices, eng.settings, NOW)
        yield eng, ids


@pytest.fixture(scope="module")
def reports(year: tuple[Engine, dict[str, int]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    eng, _ = year
    report = eng.report("followup", now=NOW, year=2026, kind="suggestion", state="handling")
    whole = eng.report("followup", now=NOW)
    folder = tmp_path_factory.mktemp("reports")
    docs = {}
    for name, r in (("filtered", report), ("whole", whole)):
        for fmt in ("md", "csv", "html"):
            text = r.render(fmt)
            assert isinstance(text, str)
            docs[f"{name}.{fmt}"] = html_text(text) if fmt == "html" else text
        r.write(folder / f"{name}.docx")
        r.write(folder / f"{name}.xlsx")
        docs[f"{name}.docx"] = docx_text(folder / f"{name}.docx")
        docs[f"{name}.xlsx"] = xlsx_text(folder / f"{name}.xlsx")
    return docs


def test_the_follow_up_report_is_chinese_in_every_format(reports: dict[str, str]) -> None:
    """The follow-up report in HTML, Word, Excel, Markdown and CSV names its states, kinds, deadlines,
    filters, figures and footnotes in Chinese only: no "已办结 (closed)", "(each problem)", "generated_at"
    or "flag_bottom"; times are Beijing time written 2026年9月1日 10:00."""
    assert_chinese(reports)
    md = reports["whole.md"]
    for needle in ("| 代表建议 | 已办结 | 3 |", "截至 2026年9月1日 10:00", "问题整改期限", "## 说明"):
        assert needle in md, needle
    assert "统计范围: 年度 2026; 类别 代表建议; 状态 办理中" in reports["filtered.md"]
    heading = next(csv.reader(io.StringIO(reports["whole.csv"])))
    assert heading[:4] == ["序号", "编号", "类别", "标题"]
    assert "代表建议" in reports["whole.csv"] and "审议意见" in reports["whole.csv"]


def test_the_json_report_keeps_the_codes(year: tuple[Engine, dict[str, int]]) -> None:
    """The JSON report is for programs: its keys and codes stay as documented (state, kind, clock), next to
    the Chinese labels the documents print."""
    data = json.loads(str(year[0].report("followup", now=NOW).render("json")))
    assert {"generated_at", "filters", "footnotes"} <= set(data)
    stage = next(s for s in data["summary"]["by_stage"] if s["state"] == "closed" and s["kind"] == "suggestion")
    assert (stage["kind_label"], stage["label"]) == ("代表建议", "已办结")


def test_every_audit_export_is_chinese(year: tuple[Engine, dict[str, int]]) -> None:
    """The audit export of every item, as text and HTML, names the fields, transitions, states, choices,
    periods, notices and their status in Chinese; the JSON export keeps the codes, every value exactly."""
    eng, ids = year
    docs = {}
    for name, item_id in ids.items():
        docs[f"{name}.txt"] = export(eng, item_id, "text")
        docs[f"{name}.html"] = html_text(export(eng, item_id, "html"))
    assert_chinese(docs)
    s4 = docs["S4.txt"]
    assert "    申请延长的期限：1个月" in s4 and "    同意调整, 重新交办：申请调整承办单位 → 已交办" in s4
    assert "    提出时间：大会期间" in s4 and "    会次：市十五届人大五次会议" in s4
    r1 = docs["R1.txt"]
    assert "1. 问题序号：1；整改措施：专项整治；责任单位或责任人：交警支队；整改时限：2026-08-31" in r1
    data = json.loads(export(eng, ids["S4"], "json"))
    assert [r["trigger"] for r in data["rows"]][:3] == ["submit", "register", "assign"]
    assert data["rows"][6]["data"]["period"] == "1 month"


# ---- notices ----------------------------------------------------------------------------------------


def notice_text(n: dict[str, Any]) -> str:
    return "\n".join([n["subject"], n["body_text"], html_text(n["body_html"])])


def test_every_notice_in_the_outbox_is_chinese(year: tuple[Engine, dict[str, int]]) -> None:
    """Every notice the year queued (交办通知, 催办通知, 督办函, 征询意见表, 延期批复, 重新办理通知, 审议意见交办函,
    测评结果, 二次审议, 逾期通报 …), subject, text and HTML alike, carries no English: deadline labels,
    states, periods (延期1个月) and the 期限计算 line (暂定, not "provisional") are Chinese."""
    eng, _ = year
    notices = eng.outbox()
    assert {"assignment", "overdue", "supervision_letter", "extension_approved", "overdue_report"} <= {
        n["type"] for n in notices
    }
    assert_chinese({f"#{n['id']} {n['type']} → {n['role']}": notice_text(n) for n in notices})
    extension = next(n for n in notices if n["type"] == "extension_approved")
    assert "同意延期1个月" in extension["body_text"]


ROLES = {  # a recipient of each kind: (name, role, unit)
    "handler": ("承办人员", "handler", "市公安局交通警察支队"),
    "principal_leader": ("主要领导", "principal_leader", "市公安局交通警察支队"),
    "supervising_leader": ("刘副主任", "supervising_leader", None),
    "office": ("办公室", "office", None),
    "deputy": ("刘洋", "deputy", None),
}
#: For each notice type: the item of the year it is about and the clock its deadline is.
SUBJECTS = {
    "assignment": ("S5", "reply"),
    "sign_reminder": ("S7", "reply"),
    "co_opinion_due": ("S5", "reply"),
    "reminder": ("S7", "reply"),
    "overdue": ("S5", "reply"),
    "supervision_letter": ("S5", "reply"),
    "feedback_form": ("S4", None),
    "rehandle": ("S6", "rehandle_reply"),
    "extension_approved": ("S5", "reply"),
    "review_assignment": ("R2", "rectification_plan"),
    "rectification_due": ("R2", "rectification_plan"),
    "report_due": ("R1", "report"),
    "vote_result": ("R1", None),
    "second_review": ("R1", "second_review_report"),
    "overdue_report": ("S5", "reply"),
}


def variables(eng: Engine, item_id: int, clock: str | None, recipient: tuple[str, str, str | None]) -> dict[str, Any]:
    """A notice's variables as duban builds them for *item_id*: the definition's own labels, the item's open
    deadline on *clock*, the data of its last transition."""
    with eng.db.connect() as conn:
        item = dict(
            conn.execute(sa.select(TABLES["duban_item"]).where(TABLES["duban_item"].c.id == item_id)).one()._mapping
        )
        defn = eng.definition(item["kind"])
        last = eng.get(item_id).history[-1]
        deadline = open_deadline(conn, item_id, clock, defn.clocks[clock].label) if clock else None
        if clock and deadline is None:  # a clock that has run out: its last row
            d = TABLES["duban_deadline"]
            row = conn.execute(sa.select(d).where(d.c.item_id == item_id, d.c.clock == clock).order_by(d.c.id.desc()))
            found = dict(row.first()._mapping)  # type: ignore[union-attr]
            deadline = {**found, "due": found["due"], "label": defn.clocks[clock].label}
        found_vars = item_variables(conn, item, defn.state_label(item["state"]), last.data, deadline, 2)
    return found_vars | {
        "recipient": Recipient(recipient[0], recipient[1], recipient[2], "").as_variable(),
        "office": OFFICE,
        "sent_on": dt.date(2026, 9, 1),
        "extension": {"period": "1个月", "due": dt.date(2026, 9, 30)},
        "items": [{"id": 5, "title": "关于在学校路段设置减速慢行信号灯的建议", "unit": "市公安局交通警察支队",
                   "due": dt.date(2026, 8, 14), "days_overdue": 18, "level": 2}],
    }  # fmt: skip


def test_every_notice_type_is_chinese_for_every_recipient(year: tuple[Engine, dict[str, int]]) -> None:
    """Every notice type, rendered from the year's items for a handler, a unit's leader, a supervising leader,
    the office and a deputy, is Chinese from subject to signature."""
    eng, ids = year
    assert set(SUBJECTS) == set(eng.notices.types)
    docs = {}
    for key, (name, clock) in SUBJECTS.items():
        for role, recipient in ROLES.items():
            done = eng.notices.render(key, variables(eng, ids[name], clock, recipient))
            docs[f"{key} → {role}"] = "\n".join([done.subject, done.text, html_text(done.html or "")])
    assert_chinese(docs)


def test_a_lead_unit_without_co_units_is_not_told_to_consult_them(year: tuple[Engine, dict[str, int]]) -> None:
    """The 交办通知 asks a lead unit to consult its co-units (主动与协办单位沟通协商) only when it has some."""
    eng, ids = year
    first = {
        n["item_id"]: n for n in reversed(eng.outbox()) if n["type"] == "assignment" and n["unit"] == "市交通运输局"
    }
    alone, with_co = first[ids["S2"]], first[ids["S1"]]
    for part in ("body_text", "body_html"):
        assert "协办单位" not in alone[part] and "请牵头研究办理，于2026年6月22日前（含当日）答复代表" in alone[part]
        assert "主动与协办单位沟通协商，综合协办意见后" in with_co[part]


def salutation(text: str) -> str:
    return text.splitlines()[2]


def test_the_top_escalation_letter_is_written_to_a_leader(year: tuple[Engine, dict[str, int]]) -> None:
    """The last escalation level's 督办函 goes to the supervising and case leaders. With no 督办领导 named it
    reaches the leader in charge through the office's address: it is addressed to 常委会分管领导, names the
    units that handle the item and asks for supervision (报请督办). It is never addressed from the office to
    itself. A named leader is written to by name (刘副主任同志)."""
    eng, ids = year
    tops = [n for n in eng.outbox() if n["type"] == "supervision_letter" and n["role"] == "office"]
    assert tops, "the year escalates S6 and R2 to the top level"
    for n in tops:
        assert salutation(n["body_text"]) == "常委会分管领导：", n["body_text"]
        assert "你单位" not in n["body_text"] and "现报请督办" in n["body_text"]
        assert f"{OFFICE}：" not in n["body_text"] + html_text(n["body_html"])
    s6 = next(n for n in tops if n["item_id"] == ids["S6"])
    assert "由市民政局、市卫生健康委员会承办" in s6["body_text"]
    named = eng.notices.render("supervision_letter", variables(eng, ids["S5"], "reply", ROLES["supervising_leader"]))
    assert salutation(named.text) == "刘副主任同志：" and "由您督办的" in named.text and "你单位" not in named.text
    report = next(n for n in eng.outbox() if n["type"] == "overdue_report")
    assert salutation(report["body_text"]) == "主任会议：", "the 逾期通报 is addressed to the 主任会议, not the office"


# ---- the definition's version --------------------------------------------------------------------


def test_the_definition_version_is_told_one_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    """init, show, show --json and the audit export give a definition's version as its kind's number (第 1 版),
    not the digest (init adds it as detail) and not the row id, which ``definition_version`` still holds in
    the JSON for compatibility."""
    assert main(["--db", db_url, "init"]) == 0
    init = capsys.readouterr().out
    assert "  suggestion: 第 1 版 (digest " in init and "  review_opinion: 第 1 版 (digest " in init
    assert main(["--db", db_url, "init", "--json"]) == 0
    numbers = json.loads(capsys.readouterr().out)["definitions"]
    assert numbers["suggestion"]["number"] == numbers["review_opinion"]["number"] == 1
    eng = Engine(db_url)
    try:
        item = eng.submit("suggestion", title="关于增设公交站台的建议", proposers=["王芳"], origin="session")
        assert item.definition_number == 1
        assert "流程定义：代表建议 第 1 版（定义摘要 " in export(eng, item.id, "text")
    finally:
        eng.close()
    assert main(["--db", db_url, "show", str(item.id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["definition_number"] == 1 and shown["definition_version"] == item.definition_version
    assert main(["--db", db_url, "show", str(item.id)]) == 0
    assert "流程定义第 1 版" in capsys.readouterr().out
