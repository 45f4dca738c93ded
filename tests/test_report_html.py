"""The follow-up report as HTML: every figure on the page, hostile titles as text, print-ready, self-contained.

The rendering is checked as text first, then opened in headless Chromium (Debian's ``chromium``,
installed by ``.ci/chromium.sh``): the browser's DOM has the four charts, a screenshot shows their
colours, and printing gives a multi-page A4 PDF set in a CJK font. Those tests skip only when the
``chromium`` binary is absent.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from report_data import FORMULA_TITLE, HOSTILE_TITLE, UNITS, empty_report, rate, sample_report

from workflow.report_html import render_html

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="the chromium binary is not installed (.ci/chromium.sh)")
SECTIONS = (
    "一、总体情况",
    "二、承办单位办理情况",
    "三、不满意事项重新办理情况",
    "四、答复承诺解决事项台账",
    "五、重点督办事项",
    "六、审议意见研究处理情况",
    "七、当前逾期事项",
)


def svg(page: str, chart_id: str) -> str:
    """The markup of the chart with id *chart_id*."""
    match = re.search(rf'<svg[^>]*id="{chart_id}".*?</svg>', page, re.S)
    assert match, f"no chart {chart_id}"
    return match.group(0)


def test_every_figure_of_the_summary_is_on_the_page_with_its_footnote() -> None:
    """Each rate appears as its percentage, numerator and denominator, beside the footnote defining it."""
    data = sample_report()
    page = render_html(data)
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>2026年度代表建议和审议意见办理情况回头看报告</title>" in page
    assert "市人大常委会代表工作委员会" in page and "2026年12月31日 10:00" in page  # 02:00 UTC is 10:00 in Beijing
    assert "统计范围：年度 2026<" in page  # unset filters (None, False) are not listed
    assert "本报告共统计事项 <b>89</b> 件" in page
    for label, percent, numerator, denominator in (
        ("按期答复率", "87.50%", 63, 72),
        ("办结率", "74.07%", 60, 81),
        ("见面率", "86.42%", 70, 81),
        ("结果满意率", "81.43%", 57, 70),
        ("承诺落实率", "58.33%", 7, 12),
        ("问题整改率", "55.06%", 49, 89),
    ):
        row = f'<tr><td class="nw">{label}</td><td class="num">{percent}</td><td class="num">{numerator}</td>'
        assert row + f'<td class="num">{denominator}</td>' in page, label
    for footnote in data["footnotes"].values():
        assert footnote in page
    for kind, stage, count in (("代表建议", "办理中", 21), ("代表建议", "已办结", 60), ("审议意见", "整改中", 8)):
        assert f'<tr><td>{kind}</td><td>{stage}</td><td class="num">{count}</td></tr>' in page
    assert all(heading in page for heading in SECTIONS)


def test_units_table_marks_the_flagged_bottom_units_and_their_bars() -> None:
    """The bottom units are shaded and tagged 排名靠后 in the table and drawn red in both unit charts."""
    page = render_html(sample_report())
    rows = re.findall(r"<tr class=\"flagged\">.*?</tr>", page, re.S)
    assert len(rows) == 2
    assert "市自然资源和规划局" in rows[0] and "市公安局交通警察支队" in rows[1]
    assert all('<span class="tag">排名靠后</span>' in r for r in rows)
    assert '<td class="num">96.43%</td>' in page and '<td class="num">200</td>' in page
    on_time = svg(page, "chart-on-time")
    # Plot width 420: 27 of 28 on time is a 405.0-wide bar; the unit with no replies has no bar, it says 无数据.
    assert 'width="405.0"' in on_time
    assert on_time.count('<rect class="bar') == 4 and on_time.count('<rect class="bar flagged"') == 1
    assert "无数据" in on_time
    assert all(name in on_time for name in UNITS)
    satisfaction = svg(page, "chart-satisfaction")
    assert ">92.31%<" in satisfaction and ">55.56%<" in satisfaction


def test_each_footnote_is_printed_in_the_section_whose_figures_it_defines() -> None:
    """Rates' footnotes sit beside the rates; ``units.*`` under the units, ``overdue`` under the overdue list."""
    page = render_html(sample_report())
    sections = dict(re.findall(r'<section class="[^"]*" id="([^"]+)">(.*?)</section>', page, re.S))
    assert "<li>末位提醒 = 排名最后的 2 个单位</li>" in sections["units"]
    assert "<li>逾期清单 = 截止日 24:00 已过、仍在计时的每个期限</li>" in sections["overdue"]
    assert "<li>排名按按期答复率、满意率依次排序，末位两家单位标注为排名靠后</li>" in sections["summary"]
    assert "承诺落实率 = 已核实落实的承诺数 ÷ 到期承诺数" in sections["promises"]


def test_grade_mix_and_overdue_ageing_charts_count_what_the_data_says() -> None:
    """The A/B/C/D ring has one arc per category with counts and shares; ageing has one column per bucket."""
    page = render_html(sample_report())
    ring = svg(page, "chart-grades")
    assert ring.count("stroke-dasharray") == 4 and "共 72 件" in ring
    for label, value in (
        ("A类", "30 件  41.67%"),
        ("B类", "25 件  34.72%"),
        ("C类", "12 件  16.67%"),
        ("D类", "5 件  6.94%"),
    ):
        assert label in ring and value in ring
    ageing = svg(page, "chart-ageing")
    assert re.findall(r"<title>([^<]*)</title>", ageing) == ["≤30天: 1", "31–90天: 1", "91–180天: 1", "&gt;180天: 1"]
    assert '<td class="num bad">200</td><td>第3级</td>' in page


def test_ledgers_list_rounds_promises_key_items_opinions_and_overdue() -> None:
    """Each ledger row reaches the page: rehandling rounds, promises with 落实率, reopen flags, problems and votes."""
    page = render_html(sample_report())
    assert '第1轮：2026-06-01 答复，<span class="bad">不满意</span>' in page and "第2轮：<span>未测评</span>" in page
    assert "承诺落实率 <b>58.33%</b>（7 / 12）" in page
    assert '<td class="ok">已落实</td><td class="num">2026-10-08</td>' in page
    assert '<td class="bad">逾期未落实<br><span class="remark">仅建成8家</span></td>' in page
    assert "<td>新建养老机构3所</td><td>市民政局</td>" in page  # the measure and owner, as the list gave them
    assert "年内完成50台" in page and "仅完成12台" in page
    assert "刘副主任" in page and "张局长" in page and "市交通运输局、市公安局交通警察支队" in page
    assert "已整改 <b>49</b> 个，共 89 个，整改率 <b>55.06%</b>" in page
    assert '<span class="tag">二次审议</span>' in page
    counts = "".join(f'<td class="num">{n}</td>' for n in ("2026-10-28", 21, 9, 32))
    assert f'<td>第1轮</td>{counts}<td class="bad">不满意</td>' in page
    assert page.count("<td>答复期限</td>") == 3 and "<td>承诺期限 · 承诺事项 9</td>" in page


def test_hostile_titles_are_printed_as_text_never_as_markup_or_template_code() -> None:
    """A title with <script>, a tag or {{ … }} shows literally; nothing the public types becomes markup or runs."""
    data = sample_report()
    data["key_items"][0]["title"] = "{{ 7*7 }}{% for x in range(3) %}x{% endfor %}"
    data["title"] = "</title><script>alert(2)</script>"
    page = render_html(data)
    assert "<script" not in page and "<img" not in page and "<b>加粗" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;关于&lt;b&gt;加粗&lt;/b&gt;的建议 &amp; 其他" in page
    assert "&lt;img src=x onerror=alert(1)&gt;护理人员不足" in page
    assert "<title>&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;</title>" in page
    assert '<span class="id">#1</span> {{ 7*7 }}{% for x in range(3) %}x{% endfor %}</td>' in page
    assert FORMULA_TITLE.replace('"', "&#34;") in page


def test_the_page_is_self_contained_and_print_ready() -> None:
    """No resource is fetched (no link, script, src or url()); A4 pages, section breaks, repeating table headers."""
    page = render_html(sample_report())
    assert not re.search(r"<(link|script|img|iframe|object)\b|<[^>]*\b(src|href)\s*=|url\(|@import", page)
    assert set(re.findall(r"https?://[^\s\"'<&]+", page)) == {"http://www.w3.org/2000/svg", "http://evil.example"}
    assert "size: A4;" in page and "@bottom-center" in page
    assert "section { break-before: page; }" in page and "thead { display: table-header-group; }" in page
    for font in ('"Noto Serif CJK SC"', '"Source Han Serif SC"', '"SimSun"', '"Songti SC"', '"Noto Sans CJK SC"'):
        assert font in page
    assert "serif;" in page and "sans-serif;" in page


def test_an_empty_selection_says_there_is_nothing_and_draws_no_chart() -> None:
    """With no matching item the page names the filters and says 没有符合条件的事项; no section, no chart."""
    page = render_html(empty_report())
    assert '<p class="empty">没有符合条件的事项</p>' in page
    assert "统计范围：承办单位 市民政局；年度 2030" in page
    assert "<svg" not in page and "<section" not in page and "<table" not in page


def test_zero_counts_without_the_empty_flag_draw_no_bar_instead_of_dividing_by_zero() -> None:
    """Units with nothing replied, no reply graded and nothing overdue: every rate reads — and charts say so."""
    data = empty_report()
    data["empty"] = False
    data["units"] = [
        {"unit": "市民政局", "items": 2, "replied": 0, "on_time": rate(0, 0), "satisfaction": rate(0, 0), "rank": 1}
    ]
    page = render_html(data)
    assert page.count('<td class="num">—</td>') >= 6 + 2  # six rates and the unit's two
    assert "尚无答复，无类别分布。" in page and "当前没有逾期事项。" in page
    assert "chart-grades" not in page and "chart-ageing" not in page
    assert svg(page, "chart-on-time").count('<text class="missing"') == 1
    for message in ("没有不满意事项。", "没有答复承诺事项。", "没有重点督办事项。", "没有审议意见。"):
        assert message in page


def test_a_report_missing_optional_keys_still_renders() -> None:
    """Data from an older or partial computation (no ledgers, no footnotes, no title) renders with defaults."""
    page = render_html({"schema": "duban.followup/1", "summary": {"items": 3}})
    assert "<h1>代表建议和审议意见办理情况报告</h1>" in page and "统计范围：全部事项" in page
    assert "本报告共统计事项 <b>3</b> 件" in page


# ---- in the browser ------------------------------------------------------------------------------


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run headless Chromium on *page* with its own profile folder (parallel runs do not share a lock)."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done


def write(tmp_path: Path, data: dict[str, Any], name: str = "report.html") -> Path:
    path = tmp_path / name
    path.write_text(render_html(data), encoding="utf-8")
    return path


@needs_chromium
def test_chromium_parses_the_page_with_its_four_charts_and_no_injected_element(tmp_path: Path) -> None:
    """In the browser's DOM: four SVG charts with their bars, arcs and columns, the hostile title as text."""
    dom = chromium(tmp_path, write(tmp_path, sample_report()), "--dump-dom").stdout.decode()
    ids = re.findall(r'<svg class="chart" id="([^"]+)"', dom)
    assert ids == ["chart-grades", "chart-on-time", "chart-satisfaction", "chart-ageing"]
    assert dom.count('<rect class="bar') == 8 and dom.count("stroke-dasharray") == 4
    assert len(re.findall(r"<rect x=", svg(dom, "chart-ageing"))) == 4
    assert "<script" not in dom and "&lt;script&gt;" in dom
    assert len(re.findall(r"<section ", dom)) == len(SECTIONS)


@needs_chromium
def test_chromium_screenshot_shows_the_charts_in_their_colours(tmp_path: Path) -> None:
    """A screenshot of the page has the bar blue, the flagged red and the A green: the SVG charts are drawn."""
    out = tmp_path / "shot.png"
    chromium(tmp_path, write(tmp_path, sample_report()), f"--screenshot={out}", "--window-size=1000,2600")
    with Image.open(out) as image:
        assert image.size == (1000, 2600)
        colours = {colour for _count, colour in image.convert("RGB").getcolors(maxcolors=1 << 20) or []}
    for name, rgb in (("bar", (0x2F, 0x5D, 0x8A)), ("flagged", (0xB0, 0x3A, 0x2E)), ("grade A", (0x2E, 0x7D, 0x32))):
        assert rgb in colours, name


@needs_chromium
def test_chromium_prints_an_a4_pdf_a_page_per_section_in_a_cjk_font(tmp_path: Path) -> None:
    """Printed to PDF: A4 pages, each section on a new page, Chinese set in Noto CJK (not boxes); empty prints too."""
    pdf = tmp_path / "report.pdf"
    chromium(tmp_path, write(tmp_path, sample_report()), f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    raw = pdf.read_bytes()
    assert raw.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", raw)
    assert len(pages) >= len(SECTIONS)
    boxes = {
        tuple(round(float(v)) for v in m) for m in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", raw)
    }
    assert boxes == {(595, 842)}  # A4 in points
    assert re.search(rb"\+Noto(Serif|Sans)CJK", raw)

    empty_pdf = tmp_path / "empty.pdf"
    chromium(
        tmp_path, write(tmp_path, empty_report(), "empty.html"), f"--print-to-pdf={empty_pdf}", "--no-pdf-header-footer"
    )
    assert empty_pdf.read_bytes().startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", empty_pdf.read_bytes())) == 1


def test_the_sample_data_is_not_changed_by_rendering() -> None:
    """Rendering reads the data and never changes it: the same dict can go on to DOCX, XLSX and JSON."""
    data = sample_report()
    before = copy.deepcopy(data)
    render_html(data)
    assert data == before
    assert HOSTILE_TITLE in render_html(data).replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"').replace(
        "&amp;", "&"
    )
