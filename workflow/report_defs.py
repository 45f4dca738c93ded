"""What the follow-up review report's figures mean: its schema name, labels, and the footnote that
defines each figure. Shared by the computation (:mod:`workflow.reports`) and every renderer."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CATEGORY_LABELS",
    "FOOTNOTES",
    "PROBLEM_LABELS",
    "PROMISE_LABELS",
    "RATE_LABELS",
    "RESULT_LABELS",
    "SCHEMA",
    "TITLE",
    "VOTE_LABELS",
    "rate",
]

SCHEMA = "duban.followup/1"
TITLE = "代表建议和审议意见办理情况回头看报告"

RATE_LABELS = {
    "on_time": "按期答复率",
    "closed": "办结率",
    "contact": "见面率",
    "satisfaction": "结果满意率",
    "attitude": "态度满意率",
    "promise_kept": "落实率",
    "rectified": "整改率",
}
CATEGORY_LABELS = {
    "A": "已解决或基本解决",
    "B": "正在解决或列入规划",
    "C": "因条件限制待以后解决",
    "D": "留作参考",
}
#: A rating round's outcome; the last two name a round still waiting for its reply or its rating.
RESULT_LABELS = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "unsatisfied": "不满意",
    "awaiting_reply": "待答复",
    "awaiting_rating": "待测评",
}
PROMISE_LABELS = {"kept": "已落实", "broken": "未落实", "overdue": "逾期未落实", "open": "未到期"}
PROBLEM_LABELS = {
    "open": "待报整改措施",
    "planned": "已制定整改措施",
    "in_progress": "整改中",
    "rectified": "已整改",
    "closed": "已销号",
}
VOTE_LABELS = {"satisfactory": "满意", "unsatisfactory": "不满意"}

#: The definition of every figure and of every column that needs one; the report carries these and
#: every format prints them. Keys: a rate's name, or ``section.column``.
FOOTNOTES = {
    "items": "事项数 = 按筛选条件选中的代表建议和审议意见件数 (年度、会次、日期范围均按提交日期, 北京时间)。",
    "by_stage": "各阶段件数 = 选中事项按当前状态分组计数。",
    "on_time": (
        "按期答复率 = 在答复期限内 (含批准的延期, 申请调整承办单位期间暂停计算) 答复的件数 ÷ 应答复件数。"
        "应答复件数 = 已答复件数 + 答复期限已届满仍未答复的件数; 期限未满尚未答复的、已撤回的不计入。"
        "代表建议以首次答复 (三个月, 涉及面广的六个月) 计; 审议意见以书面报告研究处理情况的期限计。"
        "分办事项按分办单位逐件计: 每个分办单位的答复各计一件, 以其首次答复日期对照该建议的答复期限。"
    ),
    "closed": "办结率 = 已办结件数 ÷ 交办件数 (已交办承办单位且未撤回、未不予立案的事项)。",
    "contact": "见面率 = 已记录办前沟通或办中见面的代表建议件数 ÷ 交办的代表建议件数 (办后反馈不计)。",
    "satisfaction": (
        "结果满意率 = 办理结果测评为满意或基本满意的件数 ÷ 已测评件数; "
        "每件建议以最近一次测评结果计 (重新办理后再测评的以新结果为准)。"
    ),
    "attitude": (
        "态度满意率 = 办理态度测评为满意或基本满意的件数 ÷ 测评了办理态度的件数; "
        "以最近一次测评了办理态度的结果计; 未测评办理态度的不计入。"
    ),
    "promise_kept": ("落实率 = 已落实的承诺事项数 ÷ (已落实 + 未落实 + 逾期未落实); 未到期且未核实的承诺事项不计入。"),
    "rectified": "整改率 = 已整改 (含已销号) 的问题数 ÷ 问题清单所列问题总数。",
    "grades": (
        "A/B/C/D = 已答复事项按最近一次答复类别计数: A 已解决或基本解决, B 正在解决或列入规划, "
        "C 因条件限制待以后解决, D 留作参考。分办事项按分办单位计: 每个分办单位的答复以其自身类别各计一件。"
    ),
    "units": "承办单位统计 = 该单位担任主办或分办的事项 (协办不计, 已撤回的不计); 分办事项计入每个分办单位。",
    "units.replied_on_time": (
        "按期答复 = 该单位主办 (分办) 事项中在答复期限内答复的件数; 分办事项以全部分办单位答复完毕的日期计。"
    ),
    "units.overdue_now": (
        "逾期未办 = 截至报告时点期限已届满仍在计时的期限数: 协办意见期限计入协办单位, "
        "承诺事项期限计入作出承诺的单位, 其余 (答复、重新办理、报告、整改问题等) 计入主办或分办单位。"
    ),
    "units.longest_overdue_days": "最长逾期天数 = 报告日期 − 该单位最早一个逾期期限的截止日。",
    "units.satisfaction": "结果满意率 = 该单位主办 (分办) 事项中满意和基本满意的件数 ÷ 已测评件数。",
    "units.rehandled": "重新办理 = 该单位主办 (分办) 事项中经过重新办理 (代表建议) 或二次审议 (审议意见) 的件数。",
    "units.rank": (
        "排名 = 按期答复率从高到低; 相同时依次比较满意率 (高者在前)、逾期未办数 (少者在前)、"
        "最长逾期天数 (短者在前); 各项都相同的单位名次并列; 没有应答复事项的单位排在最后。"
    ),
    "units.flagged": (
        "末位提醒 = 名次在 (有按期答复率的单位数 − N) 之后的单位; N 为设定的末位提醒单位数, 默认 3, "
        "且不超过有按期答复率的单位数的一半; 名次并列的单位同进同出。"
        "设定了按期答复率下限时, 按期答复率低于该下限的单位也予标出。"
    ),
    "unsatisfied": "不满意事项 = 曾被代表测评为不满意的代表建议, 逐轮列出答复日期和测评结果, 以及目前所处状态。",
    "promises.status": (
        "承诺事项状态: 已落实、未落实 = 办公室核实的结论; "
        "逾期未落实 = 未核实且承诺期限已届满; 未到期 = 未核实且期限未满。"
    ),
    "reopen": "建议重新办理 = 已办结、但有承诺事项经核实未落实且核实后尚未重新办理的事项。",
    "key_items.progress": "进展 = 最近一个办理环节及其日期, 最近一次答复类别, 重新办理轮数。",
    "review_opinions.rate": "整改率 = 该审议意见问题清单中已整改 (含已销号) 的问题数 ÷ 问题总数。",
    "review_opinions.second_review": "二次审议 = 满意度测评不满意后, 决定二次审议 (再报告) 的审议意见。",
    "overdue": (
        "逾期清单 = 截至报告时点 (生成时间) 截止日 24:00 已过、仍在计时 (含暂停) 的每个期限; "
        "已撤回、不予立案的事项不列入; 逾期天数 = 报告日期 − 截止日; "
        "督办级别 = 已发出的最高一级催办或督办 (0 = 尚未催办)。"
    ),
    "ledger.items": "事项台账 = 每个选中事项一行: 承办单位、状态、答复期限、答复日期、是否按期、答复类别、测评结果。",
}


def rate(numerator: Any, denominator: Any) -> dict[str, Any]:
    """A rate with what it is made of; ``value`` None and ``percent`` "—" when nothing is counted."""
    num, den = int(numerator or 0), int(denominator or 0)
    value = num / den if den else None
    return {
        "value": value,
        "numerator": num,
        "denominator": den,
        "percent": "—" if value is None else f"{value * 100:.2f}%",
    }
