"""``duban audit export``: an item's full history to print and sign, with every row, its hashes and labels,
the notices sent, the chain's verification and the sign-off lines; safe to open whatever the item says."""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import UNITS, to_handling, to_replied, unit

from workflow import Actor, Engine, NotFound, ValidationError
from workflow.audit import GENESIS, chain_hash
from workflow.audit_export import collect, export, visible
from workflow.channels import Settings
from workflow.cli import main
from workflow.store import TABLES

AUDIT, ITEM = TABLES["duban_audit"], TABLES["duban_item"]


def walked(eng: Engine, **extra: object) -> int:
    item = to_replied(eng, category="B", promises=[{"what": "加密班次", "by": "2026-12-31"}], **extra)
    eng.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="satisfied", comment="满意")
    eng.fire(item.id, "close")
    return item.id


class Tags(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text = ""
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def test_the_text_export_lists_every_row_in_order_with_hashes_labels_and_sign_off(engine: Engine) -> None:
    """The header names the item, its title, kind and state in Chinese, its proposers and units, when it was
    exported (Asia/Shanghai) and under which definition version; then every audit row in seq order with its
    time, who acted, the transition's Chinese label, from → to, its data, its hash and the previous hash; then
    "审计链校验：完整" with the head hash, and lines to sign by hand."""
    item_id = walked(engine)
    text = export(engine, item_id, "text")
    history = engine.get(item_id).history
    for line in (
        f"事项编号：#{item_id}",
        "标题：关于增加通勤班车密度的建议",
        "类别：代表建议",
        "当前状态：已办结，第 1 轮办理",
        "提出代表：王芳",
        "承办单位：市交通运输局（主办）、市民政局（协办）",
        "导出时间：2026-03-20 17:00:00（北京时间）",
        "审计链校验：完整",
        f"  链首哈希：{history[-1].hash}",
        "  经办人签字：________________    日期：________________",
        "  审核人签字：________________    日期：________________",
    ):
        assert line in text.splitlines(), line
    assert "流程定义：代表建议 第 1 版（定义摘要 " + engine.definition("suggestion").digest + "）" in text
    heads = [int(m) for m in re.findall(r"^\[(\d+)\] ", text, re.M)]
    assert heads == [h.seq for h in history] == list(range(1, 10))
    positions = [text.index(f"    哈希：{h.hash}") for h in history]
    assert positions == sorted(positions)
    prev = GENESIS
    for h in history:
        assert f"    前一哈希：{prev}" in text
        prev = h.hash
    assert "[7] 2026-03-20 17:00:00  承办单位 市交通运输局" in text
    assert "    答复代表：办理中 → 已答复" in text
    assert "    答复类别：B（正在解决或列入规划）" in text
    assert "    承诺事项：1. 承诺内容：加密班次；承诺期限：2026-12-31" in text
    assert "    测评结果：满意" in text


def test_notices_sent_for_the_item_are_listed_with_their_status(engine: Engine, tmp_path: Path) -> None:
    """Each notice the item caused is listed: its type in Chinese, the unit and person it went to, its status
    and when it was sent, and the audit row that caused it."""
    engine.settings = Settings(outbox_dir=str(tmp_path / "out"))
    for n, name in enumerate(UNITS):
        engine.add_party("unit", name, handler=f"办理人{n}", contacts={"handler": f"h{n}@unit.example"})
    item_id = walked(engine)
    engine.dispatch()
    notices = collect(engine, item_id)["notices"]
    assert sorted((n["type_label"], n["unit"], n["recipient"], n["status"], n["audit_seq"]) for n in notices) == [
        ("交办通知", "市交通运输局", "办理人0", "sent", 3),
        ("交办通知", "市民政局", "办理人2", "sent", 3),
        ("征询意见表", None, "王芳", "held", 7),  # the deputy has no address yet: held, not lost
    ]
    text = export(engine, item_id, "text")
    assert "交办通知 → 市交通运输局 办理人0（承办人员）  已发送，发送于 2026-03-20 17:00:00，因第 3 条记录" in text


def test_a_tampered_item_exports_with_its_first_broken_link(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An item whose audit was edited in the database still exports, every row as stored, but the verification
    block says the chain is broken at the first broken row, and ``duban audit export`` exits 1 naming it."""
    item_id = walked(engine)
    with engine.db.begin() as conn:
        conn.execute(
            sa.update(AUDIT).where(AUDIT.c.item_id == item_id, AUDIT.c.seq == 7).values(data={"category": "A"})
        )
    data = collect(engine, item_id)
    assert (data["verification"]["intact"], data["verification"]["seq"], len(data["rows"])) == (False, 7, 9)
    text = export(engine, item_id, "text")
    assert (
        "审计链校验：断裂，自第 7 条记录起\n"
        f"  技术说明：item {item_id}: audit row 7: its content was changed after it was written" in text
    )
    assert "完整" not in text
    html = export(engine, item_id, "html")
    assert "<p class=bad>审计链校验：断裂，自第 7 条记录起" in html
    code = main(["--db", db_url, "audit", "export", str(item_id)])
    out, err = capsys.readouterr()
    assert (code, err.strip()) == (
        1,
        f"broken: item {item_id}: audit row 7: its content was changed after it was written",
    )
    assert out.count("[7] ") == 1


def test_html_escapes_a_hostile_title_and_prints_on_a4(engine: Engine) -> None:
    """Item text is public input: a title with ``<script>`` and a reply with an event handler print as text in
    the HTML export, which has no script and no element the text could have opened, and prints on A4."""
    item = engine.submit(
        "suggestion", title="<script>alert(1)</script>", origin="session", proposers=['"><img src=x onerror=alert(2)>']
    )
    html = export(engine, item.id, "html")
    parsed = Tags(html)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert "<script>alert(1)</script>" in parsed.text and '"><img src=x onerror=alert(2)>' in parsed.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "@page { size: A4;" in html and "<meta charset=utf-8>" in html


def test_json_parses_and_its_rows_recompute_the_chain(engine: Engine) -> None:
    """The JSON export holds each row exactly as stored (the instant in UTC, actor, trigger, from, to, data,
    hashes), equal to the engine's history, so that anyone can recompute the chain from the file alone."""
    item_id = walked(engine)
    data = json.loads(export(engine, item_id, "json"))
    assert data["schema"] == "duban.audit-export/1" and data["item"]["id"] == item_id
    history = engine.get(item_id).history
    assert [
        (r["seq"], r["actor"], r["trigger"], r["source"], r["dest"], r["data"], r["hash"]) for r in data["rows"]
    ] == [(h.seq, h.actor, h.trigger, h.source, h.dest, h.data, h.hash) for h in history]
    prev = GENESIS
    for r in data["rows"]:
        at = dt.datetime.fromisoformat(r["at"])
        assert r["prev_hash"] == prev
        assert (
            chain_hash(
                prev, item_id, r["seq"], at, r["actor"], r["trigger"], r["source"], r["dest"], r["data"], r["effects"]
            )
            == r["hash"]
        )
        prev = r["hash"]
    assert data["verification"] | {"message": None} == {
        "intact": True,
        "seq": None,
        "problem": None,
        "message": None,
        "detail": None,
        "rows": 9,
        "head_seq": 9,
        "head_hash": prev,
    }


def test_the_command_prints_writes_files_and_refuses_unknown_items(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``duban audit export ITEM`` prints text; ``--format html|json`` or ``--out FILE`` (format from its
    extension) writes a file; an unknown item or format exits 2 with one line, never a traceback."""
    item_id = str(walked(engine))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", db_url, "audit", "export", *args])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err

    code, out, _ = run(item_id)
    assert code == 0 and out.startswith("督办事项审计记录\n") and "审计链校验：完整" in out
    code, out, _ = run(item_id, "--out", str(tmp_path / "a.html"))
    assert code == 0 and "(html, 9 rows)" in out and (tmp_path / "a.html").read_text().startswith("<!DOCTYPE html>")
    code, out, _ = run(item_id, "--format", "json", "-o", str(tmp_path / "a.txt"))
    assert code == 0 and json.loads((tmp_path / "a.txt").read_text())["verification"]["intact"]
    assert run("999") == (2, "", "error: no item 999\n")
    code, _, err = run(item_id, "--format", "pdf")
    assert code == 2 and err.startswith("error: --format: must be one of text, html, json")
    with pytest.raises(NotFound):
        export(engine, 999)
    with pytest.raises(ValidationError):
        export(engine, int(item_id), "pdf")


def test_invisible_and_control_characters_are_shown_and_cannot_forge_lines(engine: Engine) -> None:
    """Terminal escapes, bidirectional overrides and zero-width characters are shown as marks in the text and
    HTML exports (the JSON keeps them exactly), and a value's own line breaks stay indented under its field,
    so a reply cannot pass itself off as another row, a verification line or a signature."""
    assert visible("红\x1b[31m\x07\r\u202eexe\u200b\n下一行\t制表") == "红␛[31m␇␍⟨U+202E⟩exe⟨U+200B⟩\n下一行\t制表"
    forged = "答复\n[10] 2026-03-20 17:00:00  办公室\n审计链校验：完整\n\x1b[2J"
    item = to_handling(engine)
    engine.fire(item.id, "submit_co_opinion", actor=unit("市民政局"), opinion="同意")
    engine.fire(item.id, "reply", actor=unit("市交通运输局"), category="A", text=forged, signer="局长")
    text = export(engine, item.id, "text")
    assert (
        "    答复内容：答复\n      ┆ [10] 2026-03-20 17:00:00  办公室\n      ┆ 审计链校验：完整\n      ┆ ␛[2J" in text
    )
    assert [line for line in text.splitlines() if line.startswith("审计链校验")] == ["审计链校验：完整"]
    assert "\x1b" not in text and "\x1b" not in export(engine, item.id, "html")
    assert forged in json.loads(export(engine, item.id, "json"))["rows"][-1]["data"].values()


def test_a_signed_export_catches_a_history_rewritten_with_recomputed_hashes(engine: Engine) -> None:
    """The limit of a hash chain, and what the signed export adds: someone with write access who edits a row
    and recomputes every later hash and the item's head leaves a chain that verifies, but the head hash printed
    on an export signed before no longer matches, so the rewrite shows against the paper."""
    item_id = walked(engine)
    signed = collect(engine, item_id)["verification"]["head_hash"]
    with engine.db.begin() as conn:
        rows = [
            dict(r)
            for r in conn.execute(sa.select(AUDIT).where(AUDIT.c.item_id == item_id).order_by(AUDIT.c.seq)).mappings()
        ]
        prev = rows[5]["prev_hash"]
        for row in rows[5:]:
            data = {"opinion": "不同意"} if row["seq"] == 6 else row["data"]
            actor = f"{row['actor_role']}:{row['actor_party']}" if row["actor_party"] else row["actor_role"]
            digest = chain_hash(
                prev,
                item_id,
                row["seq"],
                row["at"],
                actor,
                row["trigger"],
                row["source"],
                row["dest"],
                data,
                row["effects"],
            )
            conn.execute(sa.update(AUDIT).where(AUDIT.c.id == row["id"]).values(data=data, prev_hash=prev, hash=digest))
            prev = digest
        conn.execute(sa.update(ITEM).where(ITEM.c.id == item_id).values(audit_head=prev))
    assert engine.verify_audit(item_id) == []  # a keyless chain cannot see this by itself
    now = collect(engine, item_id)["verification"]
    assert now["intact"] and now["head_hash"] != signed


def test_every_choice_reads_by_its_chinese_label(engine: Engine) -> None:
    """A choice a definition labels per code (办理态度 基本满意) is shown by its label in the text and HTML
    exports, and a grade keeps its letter (B（正在解决或列入规划）); the JSON export keeps the codes."""
    item = to_replied(engine, category="B", promises=[{"what": "加密班次", "by": "2026-12-31"}])
    engine.fire(item.id, "evaluate", actor=Actor("deputy", "王芳"), result="satisfied", attitude="basically_satisfied")
    text = export(engine, item.id, "text")
    assert "办理态度：基本满意" in text and "答复类别：B（正在解决或列入规划）" in text
    assert "basically_satisfied" not in text and "basically_satisfied" not in export(engine, item.id, "html")
    assert '"attitude": "basically_satisfied"' in export(engine, item.id, "json")
