"""The notice templates in notifications/: golden files, declared variables, and the sandbox.

Every notice type in ``notifications/notices.yaml`` is rendered with a realistic set of variables and
compared byte for byte with ``tests/golden/notices/<type>.subject.txt``, ``<type>.body.txt`` and, for
the types with an HTML body, ``<type>.body.html``. A mismatch fails with a unified diff.

After changing a template on purpose, rewrite the golden files and review the diff in git::

    UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_templates.py

Templates are rendered the way duban renders them: ``workflow.notify.make_environment`` when it is
there, otherwise an environment configured the same way (an immutable sandbox, ``StrictUndefined``,
autoescape for ``.html`` only, no ``trim_blocks``, the ``cn_date`` and ``cn_datetime`` filters).
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import os
import re
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from jinja2 import meta
from jinja2.exceptions import SecurityError
from markupsafe import escape

from workflow.notify import make_environment

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "notifications"
GOLDEN = Path(__file__).resolve().parent / "golden" / "notices"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
COMMON = ("recipient", "office", "sent_on")
HOSTILE = "<script>alert(1)</script>{{ 7*7 }}{% for x in range(3) %}x{% endfor %}"


ENV = make_environment([FOLDER])
CATALOGUE: dict[str, dict[str, Any]] = yaml.safe_load((FOLDER / "notices.yaml").read_text(encoding="utf-8"))["types"]
TYPES = sorted(CATALOGUE)


def parts(key: str) -> list[str]:
    """The template files of notice type *key*."""
    return ["subject.txt", "body.txt", "body.html"] if CATALOGUE[key].get("html") else ["subject.txt", "body.txt"]


# ---- fixtures: one realistic set of variables per notice type ------------------------------------

OFFICE = "市人大常委会代表工作委员会"
REPLY_EXPLANATION = (
    "交办 2026-03-20 + 3个月 = 2026-06-20 (星期六, 端午节假期) → 顺延至 2026-06-22 (星期一); 截止 2026-06-22 24:00"
)
SUGGESTION: dict[str, Any] = {
    "id": 12,
    "kind": "suggestion",
    "title": "关于增加通勤班车密度的建议",
    "number": "0012",
    "body": (
        "早晚高峰时段，市区至高新区、经开区的通勤班车发车间隔在20分钟以上，群众候车时间长、车厢拥挤。建议：\n"
        "1. 高峰时段加密班次，发车间隔缩短至10分钟以内；\n"
        "2. 开通高新区、经开区方向大站快线；\n"
        "3. 在主要换乘站设置候车亭和实时到站信息屏。"
    ),
    "proposers": ["王芳", "李强"],
    "lead_deputy": "王芳",
    "session": "市十五届人大三次会议",
    "year": 2026,
    "state_label": "已交办",
    "key_supervised": False,
    "supervising_leader": None,
    "case_leader": None,
}
REVIEW: dict[str, Any] = {
    "id": 7,
    "kind": "review_opinion",
    "title": "关于道路交通安全法执法检查报告的审议意见",
    "number": None,
    "body": (
        "市十五届人大常委会第二十次会议听取和审议了市人大常委会执法检查组关于检查《中华人民共和国道路交通安全法》"
        "实施情况的报告。常委会组成人员认为，全市道路交通安全形势总体平稳，但仍存在一些突出问题，需要认真研究解决。"
    ),
    "proposers": [],
    "lead_deputy": None,
    "session": None,
    "year": 2026,
    "state_label": "已交办",
    "key_supervised": False,
    "supervising_leader": None,
    "case_leader": None,
}
UNITS = [{"name": "市交通运输局", "role_label": "主办"}, {"name": "市住房和城乡建设局", "role_label": "协办"}]
PROBLEMS = [  # as handed over: measures, owners and dates come later with the rectification list
    {"number": n, "title": title, "measure": None, "owner": None, "due": None}
    for n, title in enumerate(
        [
            "部分路段交通信号配时不合理，高峰时段拥堵突出",
            "电动自行车违法行为查处不到位，相关事故占比较高",
            "农村道路交通安全设施建设滞后",
            "交通事故处理信息公开不及时",
        ],
        start=1,
    )
]


def person(name: str, role: str, label: str, unit: str | None) -> dict[str, Any]:
    return {"name": name, "role": role, "role_label": label, "unit": unit}


HANDLER = person("张伟", "handler", "承办人员", "市交通运输局")
CO_HANDLER = person("刘静", "handler", "承办人员", "市住房和城乡建设局")
LEADER = person("周志明", "principal_leader", "主要领导", "市交通运输局")
DEPUTY = person("王芳", "deputy", "代表", None)
MEETING = person("主任会议", "office", "办公室", None)
GOVERNMENT = person("孙立新", "principal_leader", "主要领导", "市人民政府")


def deadline(label: str, due: dt.date, explanation: str, level: int = 0, provisional: bool = False) -> dict[str, Any]:
    return {"label": label, "due": due, "explanation": explanation, "level": level, "provisional": provisional}


REPLY = deadline("答复期限", dt.date(2026, 6, 22), REPLY_EXPLANATION)


def variables(key: str) -> dict[str, Any]:
    """A fresh, realistic set of variables for notice type *key* (only the ones it declares)."""
    base: dict[str, Any] = {"item": SUGGESTION, "recipient": HANDLER, "office": OFFICE, "sent_on": dt.date(2026, 3, 20)}
    specific: dict[str, dict[str, Any]] = {
        "assignment": {"units": UNITS, "deadline": REPLY},
        "sign_reminder": {"recipient": CO_HANDLER, "sent_on": dt.date(2026, 3, 25), "deadline": REPLY},
        "co_opinion_due": {
            "recipient": CO_HANDLER,
            "sent_on": dt.date(2026, 4, 13),
            "deadline": deadline(
                "协办意见期限",
                dt.date(2026, 4, 20),
                "交办 2026-03-20 + 1个月 = 2026-04-20 (星期一); 截止 2026-04-20 24:00",
            ),
        },
        "reminder": {"sent_on": dt.date(2026, 6, 7), "deadline": REPLY},
        "overdue": {"sent_on": dt.date(2026, 6, 23), "deadline": {**REPLY, "level": 1}},
        "supervision_letter": {
            "item": {**SUGGESTION, "key_supervised": True, "supervising_leader": "陈建国", "case_leader": "赵磊"},
            "recipient": LEADER,
            "units": UNITS,
            "sent_on": dt.date(2026, 6, 30),
            "deadline": {**REPLY, "level": 2},
        },
        "overdue_report": {
            "recipient": MEETING,
            "sent_on": dt.date(2026, 7, 1),
            "items": [
                {
                    "id": 12,
                    "title": "关于增加通勤班车密度的建议",
                    "unit": "市交通运输局",
                    "due": dt.date(2026, 6, 22),
                    "days_overdue": 9,
                    "level": 2,
                },
                {
                    "id": 15,
                    "title": "关于加快老旧小区加装电梯的建议",
                    "unit": "市住房和城乡建设局",
                    "due": dt.date(2026, 6, 15),
                    "days_overdue": 16,
                    "level": 3,
                },
                {
                    "id": 23,
                    "title": "关于增设学校周边交通安全设施的建议",
                    "unit": "市公安局交通警察支队",
                    "due": dt.date(2026, 6, 26),
                    "days_overdue": 5,
                    "level": 1,
                },
            ],
        },
        "feedback_form": {
            "recipient": DEPUTY,
            "sent_on": dt.date(2026, 6, 18),
            "reply": {
                "category": "B",
                "category_label": "正在解决或列入规划",
                "text": (
                    "王芳代表：\n"
                    "您提出的关于增加通勤班车密度的建议收悉。我局高度重视，会同市住房和城乡建设局实地调研，"
                    "现答复如下：\n"
                    "一、自2026年7月1日起，高峰时段通勤班车发车间隔由20分钟缩短至12分钟。\n"
                    "二、高新区、经开区方向大站快线已列入2026年公交线网优化计划。"
                ),
                "signer": "周志明",
                "promises": [
                    {"what": "开通高新区、经开区方向两条高峰大站快线", "by": dt.date(2026, 9, 30)},
                    {"what": "完成主要换乘站候车亭和实时到站信息屏改造", "by": dt.date(2026, 12, 31)},
                ],
            },
        },
        "rehandle": {
            "sent_on": dt.date(2026, 7, 6),
            "evaluation": {
                "result_label": "不满意",
                "comment": "答复未明确加密班次的时间表，大站快线开通前未征求沿线群众意见。",
            },
            "deadline": deadline(
                "重新办理答复期限",
                dt.date(2026, 8, 6),
                "代表测评 2026-07-06 + 1个月 = 2026-08-06 (星期四); 截止 2026-08-06 24:00",
            ),
        },
        "extension_approved": {
            "sent_on": dt.date(2026, 6, 10),
            "extension": {"period": "1个月", "due": dt.date(2026, 7, 22)},
            "deadline": deadline(
                "答复期限",
                dt.date(2026, 7, 22),
                REPLY_EXPLANATION.replace("; 截止 2026-06-22 24:00", "")
                + "; 延期 1个月 → 2026-07-22 (星期三); 截止 2026-07-22 24:00",
            ),
        },
        "review_assignment": {
            "item": REVIEW,
            "recipient": GOVERNMENT,
            "problems": PROBLEMS,
            "deadline": deadline(
                "书面报告期限",
                dt.date(2026, 9, 20),
                "交办 2026-03-20 + 6个月 = 2026-09-20 (星期日, 调休上班日); 截止 2026-09-20 24:00",
            ),
        },
        "rectification_due": {
            "item": REVIEW,
            "recipient": GOVERNMENT,
            "sent_on": dt.date(2026, 4, 13),
            "deadline": deadline(
                "报送整改清单期限",
                dt.date(2026, 4, 20),
                "交办 2026-03-20 + 1个月 = 2026-04-20 (星期一); 截止 2026-04-20 24:00",
            ),
        },
        "report_due": {
            "item": REVIEW,
            "recipient": GOVERNMENT,
            "sent_on": dt.date(2026, 8, 21),
            "deadline": deadline(
                "书面报告期限",
                dt.date(2026, 9, 20),
                "交办 2026-03-20 + 6个月 = 2026-09-20 (星期日, 调休上班日); 截止 2026-09-20 24:00",
            ),
        },
        "vote_result": {
            "item": REVIEW,
            "recipient": GOVERNMENT,
            "sent_on": dt.date(2026, 10, 28),
            "vote": {
                "satisfied": 6,
                "basically_satisfied": 5,
                "unsatisfied": 17,
                "total": 28,
                "result_label": "不满意",
                "round": 0,
            },
        },
        "second_review": {
            "item": REVIEW,
            "recipient": GOVERNMENT,
            "sent_on": dt.date(2026, 10, 28),
            "reason": (
                "报告对电动自行车违法行为查处、农村道路安全设施建设两项问题的整改措施不具体，测评不满意票超过半数。"
            ),
            "deadline": deadline(
                "二次审议报告期限",
                dt.date(2027, 1, 28),
                "二次审议 2026-10-28 + 3个月 = 2027-01-28 (星期四); 暂定: 2027年放假安排尚未载入, "
                "仅按周末及法定节日计休息日; 截止 2027-01-28 24:00",
                provisional=True,
            ),
        },
    }
    given = {**base, **specific[key]}
    return copy.deepcopy({name: given[name] for name in CATALOGUE[key]["variables"]})


def render(key: str, part: str, values: dict[str, Any] | None = None) -> str:
    """Render one part of notice type *key*, as duban does (by name, in the sandbox)."""
    return ENV.get_template(f"{key}/{part}").render(values if values is not None else variables(key))


def golden_name(key: str, part: str) -> str:
    return f"{key}.{part}"


# ---- the catalogue -------------------------------------------------------------------------------

EXPECTED = {
    "assignment": "交办通知",
    "sign_reminder": "签收提醒",
    "co_opinion_due": "协办意见催交",
    "reminder": "办理提醒",
    "overdue": "催办通知",
    "supervision_letter": "督办函",
    "overdue_report": "逾期通报",
    "feedback_form": "征询意见表",
    "rehandle": "重新办理通知",
    "extension_approved": "延期批复",
    "review_assignment": "审议意见交办函",
    "rectification_due": "整改清单催报",
    "report_due": "研究处理情况报告催报",
    "vote_result": "满意度测评结果通知",
    "second_review": "二次审议通知",
}
HTML_TYPES = {"assignment", "supervision_letter", "overdue_report", "feedback_form", "review_assignment"}


def test_catalogue_names_the_fifteen_notice_types_and_their_files() -> None:
    """notices.yaml lists the 15 notice types with their Chinese names; each gets the common variables,
    has a subject and a text body, and has an HTML body exactly when the catalogue says html: true."""
    assert {k: v["name"] for k, v in CATALOGUE.items()} == EXPECTED
    assert {k for k, v in CATALOGUE.items() if v.get("html")} == HTML_TYPES
    for key, spec in CATALOGUE.items():
        assert set(COMMON) <= set(spec["variables"]), key
        assert len(spec["variables"]) == len(set(spec["variables"])), key
        assert ("item" in spec["variables"]) != (key == "overdue_report"), key
        files = {p.name for p in (FOLDER / key).iterdir()}
        assert files == set(parts(key)), key
    folders = {p.name for p in FOLDER.iterdir() if p.is_dir()}
    assert folders == set(CATALOGUE)


# ---- golden files --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", TYPES)
def test_rendered_notice_matches_its_golden_files(key: str) -> None:
    """Each notice renders exactly as its reviewed golden files, subject, text and HTML body alike, so
    no change to a template's wording or whitespace goes unnoticed (UPDATE_GOLDEN=1 accepts changes)."""
    mismatches = []
    for part in parts(key):
        got = render(key, part)
        path = GOLDEN / golden_name(key, part)
        if UPDATE:
            GOLDEN.mkdir(parents=True, exist_ok=True)
            path.write_bytes(got.encode("utf-8"))
            continue
        want = path.read_bytes().decode("utf-8") if path.exists() else ""
        if got != want:
            diff = difflib.unified_diff(
                want.splitlines(keepends=True), got.splitlines(keepends=True), f"golden/{path.name}", "rendered"
            )
            mismatches.append("".join(diff) or f"{path.name}: differs in line endings only")
    assert not mismatches, "\n".join(mismatches) + "\nRun with UPDATE_GOLDEN=1 to accept the new output."


def test_every_golden_file_belongs_to_a_template() -> None:
    """tests/golden/notices holds exactly one golden file per template part: none missing, none stale
    (UPDATE_GOLDEN=1 deletes the stale ones)."""
    expected = {golden_name(k, p) for k in TYPES for p in parts(k)}
    if UPDATE:
        for stale in {p.name for p in GOLDEN.iterdir()} - expected:
            (GOLDEN / stale).unlink()
        expected &= {p.name for p in GOLDEN.iterdir()}
    assert {p.name for p in GOLDEN.iterdir()} == expected


# ---- what every template may and may not do ----------------------------------------------------


@pytest.mark.parametrize(("key", "part"), [(k, p) for k in TYPES for p in parts(k)])
def test_template_uses_only_its_declared_variables(key: str, part: str) -> None:
    """A template reads only the variables its type declares in notices.yaml, so duban can load it:
    the renderer refuses any other name when the templates are loaded."""
    source = (FOLDER / key / part).read_text(encoding="utf-8")
    used = meta.find_undeclared_variables(ENV.parse(source))
    assert used <= set(CATALOGUE[key]["variables"]), sorted(used - set(CATALOGUE[key]["variables"]))


@pytest.mark.parametrize(("key", "part"), [(k, p) for k in TYPES for p in parts(k)])
def test_template_never_marks_data_safe_nor_includes_by_name(key: str, part: str) -> None:
    """No template bypasses escaping with |safe or Markup, and none includes, imports or extends another
    template: what a notice shows is in its own folder, and deputies' text can never name a template."""
    source = (FOLDER / key / part).read_text(encoding="utf-8")
    assert not re.search(r"\|\s*safe\b|markup|\{%-?\s*(include|import|from|extends)\b", source, re.IGNORECASE)


@pytest.mark.parametrize("key", TYPES)
def test_subject_is_a_single_line(key: str) -> None:
    """The subject is one line with no newline, even when a title was typed with line breaks in it, so it
    can go into a mail header as it is."""
    values = variables(key)
    for record in [values.get("item"), *values.get("items", [])]:
        if record:
            record["title"] = "关于增加通勤班车密度的建议\r\n（第二稿）\u2028修改"
    for subject in (render(key, "subject.txt"), render(key, "subject.txt", values)):
        assert subject and subject == subject.strip()
        assert len(subject.splitlines()) == 1
        assert subject.startswith(f"【{EXPECTED[key]}】")


@pytest.mark.parametrize("key", TYPES)
def test_text_body_contains_no_html(key: str) -> None:
    """The plain-text body carries no HTML tags or entities: mail clients show it as it is."""
    text = render(key, "body.txt")
    assert not re.search(r"<[A-Za-z/!]|&[a-z]+;|&#", text)


@pytest.mark.parametrize("key", sorted(HTML_TYPES))
def test_html_body_is_a_self_contained_document(key: str) -> None:
    """The HTML body is a complete UTF-8 document with inline styles only: no scripts, stylesheets,
    images or other resources fetched from anywhere, and its lists are tables."""
    html = render(key, "body.html")
    assert html.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert html.endswith("</html>\n")
    assert '<meta charset="utf-8">' in html
    assert "<table" in html
    assert not re.search(r"<(script|link|style|img|iframe|object)\b|\bsrc=|\bhref=|url\(|@import|https?:", html)


@pytest.mark.parametrize("key", TYPES)
def test_body_has_salutation_and_is_signed_by_the_office(key: str) -> None:
    """Every body is a formal notice: its name as the heading, the addressee, and at the end the issuing
    office and the date it was issued, written the Chinese way (2026年3月20日)."""
    values = variables(key)
    text = render(key, "body.txt")
    lines = text.splitlines()
    assert lines[0] == EXPECTED[key]
    assert lines[2].endswith("：")
    assert lines[-2:] == [OFFICE, f"{values['sent_on'].year}年{values['sent_on'].month}月{values['sent_on'].day}日"]
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\n\n\n\n" not in text


@pytest.mark.parametrize("key", TYPES)
def test_hostile_text_is_shown_as_data(key: str) -> None:
    """Text typed by deputies or units (titles, bodies, replies, comments, reasons) is output literally in
    the text body and HTML-escaped in the HTML body; Jinja syntax in it is never evaluated."""
    values = variables(key)
    for record in [values.get("item"), *values.get("items", []), *values.get("problems", [])]:
        if record:
            record["title"] = HOSTILE
    if values.get("item"):
        values["item"]["body"] = HOSTILE
    if values.get("reply"):
        values["reply"]["text"] = HOSTILE
        values["reply"]["promises"][0]["what"] = HOSTILE
    if values.get("evaluation"):
        values["evaluation"]["comment"] = HOSTILE
    if "reason" in values:
        values["reason"] = HOSTILE
    for part in parts(key):
        out = render(key, part, values)
        assert "49" not in out and "xxx" not in out
        if part == "body.html":
            assert str(escape(HOSTILE)) in out
            assert "<script>" not in out
        elif part == "body.txt" or "item" in values:
            assert HOSTILE in out


@pytest.mark.parametrize(
    "source",
    [
        "{{ item.__class__ }}",
        "{{ item.title.__class__.__mro__ }}",
        "{{ units.append(1) }}",
        "{{ item.update(title='x') }}",
        "{{ item.proposers.pop() }}",
    ],
)
def test_sandbox_refuses_attribute_tricks_and_mutation(source: str) -> None:
    """Even a template written to escape the sandbox cannot: private attributes and methods that change
    the variables raise SecurityError instead of running."""
    template = ENV.from_string(source)
    values = variables("assignment")
    with pytest.raises(SecurityError):
        template.render(values)
    assert values["units"] == UNITS
    assert values["item"]["proposers"] == ["王芳", "李强"]


def test_unknown_variable_fails_instead_of_rendering_blank() -> None:
    """A template naming a variable it was not given fails loudly (StrictUndefined); a notice never goes
    out with a silently empty field."""
    with pytest.raises(jinja2.UndefinedError):
        ENV.from_string("{{ item.titel }}").render(variables("assignment"))


# ---- content the recipients rely on --------------------------------------------------------------


def test_assignment_lists_units_and_the_reply_deadline_with_its_counting() -> None:
    """The 交办通知 names the item, its proposers, every unit with its role, the reply deadline and how it
    was counted; the lead unit is asked to reply by that date, a co-unit to give its opinion."""
    text = render("assignment", "body.txt")
    assert "《关于增加通勤班车密度的建议》" in text
    assert "领衔代表：王芳" in text and "联名代表：李强" in text
    assert "1. 市交通运输局（主办）" in text and "2. 市住房和城乡建设局（协办）" in text
    assert "答复期限至2026年6月22日届满" in text
    assert REPLY_EXPLANATION in text
    assert "你单位为主办单位" in text and "于2026年6月22日前（含当日）答复代表" in text
    co = render("assignment", "body.txt", {**variables("assignment"), "recipient": CO_HANDLER})
    assert co.splitlines()[2] == "市住房和城乡建设局："
    assert "你单位为协办单位" in co and "你单位为主办单位" not in co
    html = render("assignment", "body.html")
    assert '<td style="border: 1px solid #333333; padding: 4px 8px;">市住房和城乡建设局</td>' in html


def test_review_assignment_numbers_the_problems_and_shows_measures_once_known() -> None:
    """The 审议意见交办函 lists the problem list as a numbered list (a table in HTML); measures, owners and
    dates appear when they are known and read 待报送 in the HTML table while they are not."""
    text = render("review_assignment", "body.txt")
    assert "问题清单（共4项）" in text
    for p in PROBLEMS:
        assert f"　　{p['number']}. {p['title']}\n" in text
    assert "待报送" in render("review_assignment", "body.html")
    values = variables("review_assignment")
    values["problems"][0] |= {
        "measure": "优化32处路口信号配时",
        "owner": "市公安局交通警察支队",
        "due": dt.date(2026, 8, 31),
    }
    text = render("review_assignment", "body.txt", values)
    assert "整改措施：优化32处路口信号配时" in text
    assert "责任单位（责任人）：市公安局交通警察支队" in text and "整改时限：2026年8月31日" in text


def test_feedback_form_carries_the_reply_its_category_and_dated_promises() -> None:
    """The 征询意见表 sent to the deputy carries the reply's category, its full text, every promise with
    its date, and the boxes to rate the result and the attitude."""
    text = render("feedback_form", "body.txt")
    assert text.splitlines()[2] == "王芳代表："
    assert "您在市十五届人大三次会议期间领衔提出的" in text
    assert "答复类别：B类（正在解决或列入规划）" in text
    assert "自2026年7月1日起" in text
    assert "1. 开通高新区、经开区方向两条高峰大站快线（承诺完成时间：2026年9月30日）" in text
    assert "对办理结果：□满意　□基本满意　□不满意" in text
    office = render("feedback_form", "body.txt", {**variables("feedback_form"), "recipient": MEETING})
    assert "王芳代表尚未反馈测评意见" in office and "您领衔" not in office and "请您" not in office


def test_vote_result_gives_the_counts_and_the_outcome() -> None:
    """The 满意度测评结果通知 gives the vote counts, the total and the outcome; a satisfactory vote asks for
    continued rectification, an unsatisfactory one announces that further handling follows."""
    text = render("vote_result", "body.txt")
    assert "满意：6票" in text and "基本满意：5票" in text and "不满意：17票" in text and "合计：28票" in text
    assert "测评结果为“不满意”" in text
    assert render("vote_result", "subject.txt").endswith("（测评结果：不满意）")
    values = variables("vote_result")
    values["vote"] |= {"satisfied": 18, "basically_satisfied": 7, "unsatisfied": 3, "result_label": "满意", "round": 1}
    text = render("vote_result", "body.txt", values)
    assert "测评结果为“满意”" in text and "继续抓好问题整改落实" in text and "（第2次测评）" in text


def test_supervision_letter_names_the_supervising_and_case_leaders() -> None:
    """The 督办函 names the escalation level, the days overdue, and the supervising and case leaders of a
    key item; sent to the supervising leader it asks them to press the unit instead of addressing it."""
    text = render("supervision_letter", "body.txt")
    assert "已逾期8日" in text and "（第2级）" in text
    assert "该件为常委会确定的重点督办建议，督办领导为陈建国同志，包案领导为赵磊同志。" in text
    assert "主要负责同志亲自过问" in text
    values = variables("supervision_letter")
    values["recipient"] = person("陈建国", "supervising_leader", "督办领导", None)
    values["deadline"]["level"] = 3
    text = render("supervision_letter", "body.txt", values)
    assert text.splitlines()[2] == "陈建国同志："
    assert "由您督办的" in text and "现报请督办（第3级）" in text and "建议督促承办单位" in text
    assert "由市交通运输局承办" in text and "你单位" not in text


def test_provisional_deadline_is_flagged() -> None:
    """A deadline in a year whose official holiday calendar is not yet loaded is marked as provisional."""
    assert "暂按周末和法定节日推算" in render("second_review", "body.txt")
    assert "暂按周末和法定节日推算" not in render("assignment", "body.txt")


def test_overdue_report_counts_items_and_escalations() -> None:
    """The 逾期通报 counts the overdue items and those escalated to level 2 or more, lists each with its unit,
    due date, days overdue and level, and says plainly when nothing is overdue."""
    text = render("overdue_report", "body.txt")
    assert "共有3件事项超过办理期限未办结，其中已提级督办（第2级及以上）2件" in text
    assert "承办单位：市住房和城乡建设局；期限：2026年6月15日；已逾期16日；督办级别：第3级。" in text
    assert render("overdue_report", "subject.txt") == "【逾期通报】截至2026年7月1日逾期未办结事项3件"
    empty = {**variables("overdue_report"), "items": []}
    assert "没有超过办理期限未办结的事项" in render("overdue_report", "body.txt", empty)
    assert "没有超过办理期限未办结的事项" in render("overdue_report", "body.html", empty)


def test_extension_period_is_written_in_chinese() -> None:
    """The 延期批复 writes the granted period in Chinese (1个月, 10个工作日) and the new due date."""
    text = render("extension_approved", "body.txt")
    assert "同意延期1个月，答复期限延至2026年7月22日" in text
    values = variables("extension_approved")
    values["extension"]["period"] = "10 working days"
    assert "同意延期10个工作日" in render("extension_approved", "body.txt", values)


@pytest.mark.parametrize("key", ["sign_reminder", "reminder", "overdue", "supervision_letter"])
def test_generic_notices_name_a_review_opinion_as_such(key: str) -> None:
    """The notices shared by both lifecycles work for a review opinion too: they name it by its title and
    never call it a 代表建议, show a suggestion number, or ask for a reply to deputies."""
    values = {**variables(key), "item": copy.deepcopy(REVIEW), "recipient": GOVERNMENT}
    values["deadline"] = deadline("书面报告期限", dt.date(2026, 9, 20), "…", level=1)
    text = render(key, "body.txt", values)
    assert "《关于道路交通安全法执法检查报告的审议意见》" in text
    assert "代表建议" not in text and "建议编号" not in text and "答复代表" not in text


@pytest.mark.parametrize("key", TYPES)
def test_notice_renders_when_optional_facts_are_missing(key: str) -> None:
    """Every notice still renders when what may be missing is missing: no number, session or deputies, an
    empty body, no deadline or vote or reply, no units or problems; it never leaves a 'None' behind."""
    values = variables(key)
    sparse: dict[str, Any] = {
        "item": {**REVIEW, "body": "", "state_label": ""},
        "deadline": None,
        "units": [],
        "problems": [],
        "reply": None,
        "vote": None,
        "evaluation": {"result_label": "", "comment": None},
        "extension": {"period": "", "due": None},
        "reason": "",
        "items": [],
    }
    values |= {k: v for k, v in sparse.items() if k in values}
    for part in parts(key):
        out = render(key, part, values)
        assert "None" not in out and EXPECTED[key] in out
