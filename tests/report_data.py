"""A hand-made follow-up report (schema ``duban.followup/1``) for the renderer tests.

The numbers are chosen so that each can be found in a rendered page: 89 items, 49 of 89 problems
rectified (55.06%), a bottom unit flagged, overdue clocks in every ageing bucket, and titles a hostile
member of the public might type.
"""

from __future__ import annotations

import copy
from typing import Any

HOSTILE_TITLE = '<script>alert("x")</script>关于<b>加粗</b>的建议 & 其他'
FORMULA_TITLE = '=HYPERLINK("http://evil.example","点我")'
UNITS = ["市交通运输局", "市住房和城乡建设局", "市民政局", "市公安局交通警察支队", "市自然资源和规划局"]


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    """A rate as the computation writes it (percent to two places, "—" with nothing to divide)."""
    if not denominator:
        return {"value": None, "numerator": numerator, "denominator": denominator, "percent": "—"}
    value = numerator / denominator
    return {"value": value, "numerator": numerator, "denominator": denominator, "percent": f"{value * 100:.2f}%"}


def sample_report() -> dict[str, Any]:
    """A full report: every section has rows."""
    units = [
        ("市交通运输局", 30, 28, 27, 0, 0, rate(24, 26), 1, 1, False),
        ("市民政局", 20, 20, 18, 1, 12, rate(17, 20), 0, 2, False),
        ("市住房和城乡建设局", 18, 15, 12, 2, 95, rate(11, 15), 2, 3, False),
        ("市自然资源和规划局", 12, 9, 6, 3, 200, rate(5, 9), 2, 4, True),
        ("市公安局交通警察支队", 9, 0, 0, 4, 45, rate(0, 0), 0, 5, True),
    ]
    items = [
        {
            "item_id": 1,
            "kind": "suggestion",
            "number": "第001号",
            "title": "关于增加通勤班车密度的建议",
            "proposers": ["王芳", "李强"],
            "lead_deputy": "王芳",
            "session": "十六届人大三次会议",
            "body": "早晚高峰班车拥挤，建议加密班次。",
            "suggested_units": ["市交通运输局"],
            "units": ["市交通运输局"],
            "state": "closed",
            "state_label": "已办结",
            "category": "B",
            "replied_on": "2026-05-20",
            "result_label": "满意",
            "co_units": ["市公安局交通警察支队"],
            "submitted_on": "2026-01-12",
            "reply_due": "2026-06-22",
            "on_time": True,
            "key_supervised": True,
        },
        {
            "item_id": 2,
            "kind": "suggestion",
            "number": "第002号",
            "title": HOSTILE_TITLE,
            "proposers": ["陈静"],
            "lead_deputy": "陈静",
            "session": "十六届人大三次会议",
            "body": "-1+1 这段内容以减号开头也不应当成公式",
            "suggested_units": ["市民政局", "市卫生健康委员会"],
            "units": ["市民政局"],
            "state": "rehandling",
            "state_label": "重新办理",
            "category": "C",
            "replied_on": "2026-06-01",
            "result_label": "不满意",
        },
        {
            "item_id": 3,
            "kind": "suggestion",
            "number": "第003号",
            "title": FORMULA_TITLE,
            "proposers": ["赵敏"],
            "lead_deputy": "赵敏",
            "session": "十六届人大三次会议",
            "body": "@SUM(A1:A2)",
            "suggested_units": ["市住房和城乡建设局"],
            "units": ["市住房和城乡建设局"],
            "state": "handling",
            "state_label": "办理中",
            "category": None,
            "replied_on": None,
            "result_label": None,
        },
        {
            "item_id": 4,
            "kind": "review_opinion",
            "number": "审2026-1",
            "title": "关于全市养老服务体系建设情况报告的审议意见",
            "proposers": [],
            "lead_deputy": None,
            "session": "第十二次常委会会议",
            "body": "审议意见全文",
            "suggested_units": [],
            "units": ["市民政局"],
            "state": "rectifying",
            "state_label": "整改中",
            "category": None,
            "replied_on": None,
            "result_label": None,
        },
    ]
    return {
        "schema": "duban.followup/1",
        "title": "2026年度代表建议和审议意见办理情况回头看报告",
        "office": "市人大常委会代表工作委员会",
        "generated_at": "2026-12-31T02:00:00+00:00",
        "filters": {"year": 2026, "kind": None, "unit": None, "key_only": False},
        "empty": False,
        "summary": {
            "items": 89,
            "by_stage": [
                {"state": "handling", "label": "办理中", "kind": "suggestion", "count": 21},
                {"state": "closed", "label": "已办结", "kind": "suggestion", "count": 60},
                {"state": "rectifying", "label": "整改中", "kind": "review_opinion", "count": 8},
            ],
            "rates": {
                "on_time": rate(63, 72),
                "closed": rate(60, 81),
                "contact": rate(70, 81),
                "satisfaction": rate(57, 70),
                "promise_kept": rate(7, 12),
                "rectified": rate(49, 89),
            },
            "grades": {"A": 30, "B": 25, "C": 12, "D": 5},
        },
        "units": [
            {
                "unit": name,
                "items": n,
                "replied": replied,
                "replied_on_time": on_time,
                "on_time": rate(on_time, replied),
                "overdue_now": overdue,
                "longest_overdue_days": longest,
                "satisfaction": sat,
                "rehandled": rehandled,
                "rank": rank,
                "flagged": flagged,
            }
            for name, n, replied, on_time, overdue, longest, sat, rehandled, rank, flagged in units
        ],
        "unsatisfied": [
            {
                "item_id": 2,
                "title": HOSTILE_TITLE,
                "units": ["市民政局"],
                "rounds": [
                    {"round": 1, "result": "unsatisfied", "result_label": "不满意", "replied_on": "2026-06-01"},
                    {"round": 2, "result": None, "result_label": None, "replied_on": None},
                ],
                "state": "rehandling",
                "state_label": "重新办理",
            }
        ],
        "promises": [
            {
                "item_id": 1,
                "title": "关于增加通勤班车密度的建议",
                "unit": "市交通运输局",
                "what": "早晚高峰加密班次",
                "by": "2026-09-30",
                "status": "verified",
                "status_label": "已落实",
                "verified_on": "2026-10-08",
            },
            {
                "item_id": 2,
                "title": HOSTILE_TITLE,
                "unit": "市民政局",
                "what": "+新增社区食堂20家",
                "by": "2026-08-31",
                "status": "overdue",
                "status_label": "逾期未落实",
                "verified_on": None,
                "note": "仅建成8家",
            },
        ],
        "reopen": [
            {"item_id": 7, "title": "关于老旧小区加装电梯的建议", "promise": "年内完成50台", "reason": "仅完成12台"}
        ],
        "key_items": [
            {
                "item_id": 1,
                "title": "关于增加通勤班车密度的建议",
                "supervising_leader": "刘副主任",
                "case_leader": "张局长",
                "state": "closed",
                "state_label": "已办结",
                "units": ["市交通运输局", "市公安局交通警察支队"],
                "progress": "已新增班次12个",
            }
        ],
        "review_opinions": [
            {
                "item_id": 4,
                "title": "关于全市养老服务体系建设情况报告的审议意见",
                "state": "rectifying",
                "state_label": "整改中",
                "problems": [
                    {
                        "number": 1,
                        "title": "养老床位结构性短缺",
                        "status": "rectified",
                        "status_label": "已整改",
                        "due": "2026-06-30",
                        "measure": "新建养老机构3所",
                        "owner": "市民政局",
                    },
                    {
                        "number": 2,
                        "title": "<img src=x onerror=alert(1)>护理人员不足",
                        "status": "open",
                        "status_label": "整改中",
                        "due": "2026-12-31",
                    },
                ],
                "rectified": 49,
                "total": 89,
                "rate": rate(49, 89),
                "votes": [
                    {
                        "round": 1,
                        "satisfied": 21,
                        "basically_satisfied": 9,
                        "unsatisfied": 32,
                        "result": "unsatisfactory",
                        "on": "2026-10-28",
                        "result_label": "不满意",
                    },
                ],
                "second_review": True,
            }
        ],
        "overdue": [
            {
                "item_id": 3,
                "title": FORMULA_TITLE,
                "unit": "市住房和城乡建设局",
                "clock": "reply",
                "label": "答复期限",
                "due": "2026-12-20",
                "days_overdue": 11,
                "level": 1,
            },
            {
                "item_id": 5,
                "title": "关于规范共享单车停放的建议",
                "unit": "市公安局交通警察支队",
                "clock": "reply",
                "label": "答复期限",
                "due": "2026-11-16",
                "days_overdue": 45,
                "level": 2,
            },
            {
                "item_id": 6,
                "title": "关于增设社区卫生服务站的建议",
                "unit": "市住房和城乡建设局",
                "clock": "reply",
                "label": "答复期限",
                "due": "2026-09-27",
                "days_overdue": 95,
                "level": 3,
            },
            {
                "item_id": 8,
                "title": "关于加快旧城改造的建议",
                "unit": "市自然资源和规划局",
                "clock": "promise",
                "label": "承诺期限",
                "subject": "promise:9",
                "subject_label": "承诺事项 9",
                "due": "2026-06-14",
                "days_overdue": 200,
                "level": 3,
            },
        ],
        "items": items,
        "footnotes": {
            "on_time": "按期答复率 = 在答复期限内（含批准延期）答复的事项数 ÷ 已答复事项数",
            "closed": "办结率 = 已办结事项数 ÷ 已交办事项数",
            "contact": "见面率 = 办前或办中与代表沟通的事项数 ÷ 已交办事项数",
            "satisfaction": "满意率 = (满意 + 基本满意) ÷ 已测评事项数",
            "promise_kept": "承诺落实率 = 已核实落实的承诺数 ÷ 到期承诺数",
            "rectified": "问题整改率 = 已整改问题数 ÷ 问题总数",
            "ranking": "排名按按期答复率、满意率依次排序，末位两家单位标注为排名靠后",
            "units.flagged": "末位提醒 = 排名最后的 2 个单位",
            "overdue": "逾期清单 = 截止日 24:00 已过、仍在计时的每个期限",
        },
    }


def empty_report() -> dict[str, Any]:
    """A selection with nothing in it: zero counts, rates with no denominator, empty ledgers."""
    data = copy.deepcopy(sample_report())
    data.update(
        empty=True,
        filters={"unit": "市民政局", "year": 2030},
        units=[],
        unsatisfied=[],
        promises=[],
        reopen=[],
        key_items=[],
        review_opinions=[],
        overdue=[],
        items=[],
    )
    data["summary"] = {
        "items": 0,
        "by_stage": [],
        "rates": {k: rate(0, 0) for k in ("on_time", "closed", "contact", "satisfaction", "promise_kept", "rectified")},
        "grades": {"A": 0, "B": 0, "C": 0, "D": 0},
    }
    return data
