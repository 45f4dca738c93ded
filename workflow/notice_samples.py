"""Sample variables every notice template is rendered against when it is loaded.

A template that passes the sandbox's static checks can still fail when rendered (a filter given the
wrong type, a macro calling itself, a template including itself, a render limit exceeded), and only a
render shows it. Rendering each template once at load against a full set of variables, in the shape
:func:`workflow.notify.item_variables` gives, refuses those where a person can see the file and line,
instead of failing a notice at three in the morning.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["sample_variables"]

_DUE = dt.date(2026, 6, 22)


def sample_variables() -> dict[str, Any]:
    """One of everything a notice may be given, filled in (fresh each call: templates cannot change it)."""
    item = {
        "id": 12,
        "kind": "suggestion",
        "title": "关于增加通勤班车密度的建议",
        "number": "0012",
        "body": "早晚高峰时段通勤班车发车间隔长。建议加密班次。",
        "proposers": ["王芳", "李强"],
        "lead_deputy": "王芳",
        "session": "市十五届人大三次会议",
        "year": 2026,
        "state_label": "办理中",
        "key_supervised": True,
        "supervising_leader": "张主任",
        "case_leader": "李副市长",
    }
    deadline = {
        "label": "答复期限",
        "due": _DUE,
        "explanation": "交办 2026-03-20 + 3个月 = 2026-06-20 → 顺延至 2026-06-22",
        "level": 1,
        "provisional": False,
    }
    problems = [
        {"number": n, "title": f"问题{n}", "measure": "整改措施", "owner": "市民政局", "due": _DUE} for n in (1, 2)
    ]
    return {
        "item": item,
        "recipient": {"name": "赵科长", "role": "handler", "role_label": "承办人员", "unit": "市交通运输局"},
        "office": "市人大常委会办公室",
        "sent_on": dt.date(2026, 6, 1),
        "units": [{"name": "市交通运输局", "role_label": "主办"}, {"name": "市民政局", "role_label": "协办"}],
        "deadline": deadline,
        "reply": {
            "category": "A",
            "category_label": "已解决或基本解决",
            "text": "经研究，已加密高峰班次。",
            "signer": "赵局长",
            "promises": [{"what": "开通大站快线", "by": _DUE}],
        },
        "evaluation": {"result_label": "不满意", "comment": "班次仍不足"},
        "extension": {"period": "1个月", "due": _DUE},
        "problems": problems,
        "vote": {
            "satisfied": 30,
            "basically_satisfied": 5,
            "unsatisfied": 2,
            "total": 37,
            "round": 1,
            "result_label": "满意",
        },
        "reason": "整改不到位",
        "items": [
            {"id": 12, "title": item["title"], "unit": "市交通运输局", "due": _DUE, "days_overdue": 3, "level": 2}
        ],
    }
