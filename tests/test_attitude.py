"""办理态度: the deputy's rating of the unit's attitude is kept beside the result rating, and the
follow-up report gives 态度满意率 beside 结果满意率, overall and per unit, in every format."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import suggestion, unit

from workflow import Actor, Engine

M, W = "市民政局", "市卫生健康委员会"
DEPUTY = Actor("deputy", "王芳")


def at(day: str, hour: int = 1) -> dt.datetime:
    """*day* at *hour* Beijing time (early hours: the Shanghai date differs from the UTC one)."""
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:30:00+08:00")


def rated(eng: Engine, lead: str, result: str, attitude: str | None) -> int:
    item = suggestion(eng)
    eng.fire(item.id, "register", at=at("2026-03-21", 0))
    eng.fire(item.id, "assign", lead_unit=lead, at=at("2026-03-21", 2))
    eng.fire(item.id, "accept", actor=unit(lead), at=at("2026-03-22"))
    eng.fire(item.id, "reply", actor=unit(lead), category="A", text="已解决", signer="s", at=at("2026-05-10"))
    extra = {} if attitude is None else {"attitude": attitude}
    eng.fire(item.id, "evaluate", actor=DEPUTY, result=result, at=at("2026-05-20"), **extra)
    return item.id


def build(eng: Engine) -> None:
    """Three rated items: result satisfied / attitude unsatisfied (M), result unsatisfied / attitude
    basically satisfied (W), and one rated without an attitude (M)."""
    rated(eng, M, "satisfied", "unsatisfied")
    rated(eng, W, "basically_satisfied", "basically_satisfied")
    rated(eng, M, "satisfied", None)


def test_attitude_is_kept_on_the_item(engine: Engine) -> None:
    """The evaluation's attitude is stored on the item beside its result."""
    item_id = rated(engine, M, "satisfied", "basically_satisfied")
    data = engine.get(item_id).data
    assert (data["result"], data["attitude"]) == ("satisfied", "basically_satisfied")


def test_attitude_rate_in_the_summary_and_per_unit(engine: Engine) -> None:
    """态度满意率 = satisfied or basically satisfied attitude ÷ items whose attitude was rated; items
    rated without one are not counted; the per-unit table has it too."""
    build(engine)
    data = engine.report("followup", now=at("2026-06-01")).data
    rates = data["summary"]["rates"]
    assert (rates["satisfaction"]["numerator"], rates["satisfaction"]["denominator"]) == (3, 3)
    assert (rates["attitude"]["numerator"], rates["attitude"]["denominator"]) == (1, 2)
    assert rates["attitude"]["percent"] == "50.00%"
    units = {u["unit"]: u["attitude"]["percent"] for u in data["units"]}
    assert units == {M: "0.00%", W: "100.00%"}
    assert "态度满意率" in data["footnotes"]["attitude"] and "结果满意率" in data["footnotes"]["satisfaction"]
    back = json.loads(engine.report("followup", now=at("2026-06-01")).render("json"))
    assert back["summary"]["rates"]["attitude"] == rates["attitude"]


def test_attitude_rate_in_every_format(engine: Engine, tmp_path: Path) -> None:
    """HTML and Markdown show 态度满意率 beside 结果满意率 with its figure; XLSX and DOCX carry the label."""
    build(engine)
    report = engine.report("followup", now=at("2026-06-01"))
    page = str(report.render("html"))
    assert '<td class="nw">结果满意率</td>' in page
    assert '<td class="nw">态度满意率</td><td class="num">50.00%</td>' in page
    assert '<th class="num">态度满意率</th>' in page
    md = str(report.render("md"))
    assert "| 态度满意率 | 50.00% | 1 | 2 |" in md and "结果满意率" in md
    from docx import Document
    from openpyxl import load_workbook

    report.write(tmp_path / "r.xlsx")
    book = load_workbook(tmp_path / "r.xlsx")
    cells = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None}
    assert "态度满意率" in cells and "结果满意率" in cells
    report.write(tmp_path / "r.docx")
    doc = Document(str(tmp_path / "r.docx"))
    text = {c.text for t in doc.tables for row in t.rows for c in row.cells}
    assert "态度满意率" in text and "结果满意率" in text
