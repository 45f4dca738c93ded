"""A small hand-built year for the report tests: nine suggestions and two review opinions, every
step dated, so that each figure of the follow-up review report can be worked out by hand.

Units (lead unless said): T 市交通运输局, H 市住房和城乡建设局, M 市民政局, W 市卫生健康委员会,
P 市公安局交通警察支队, G 市人民政府. The report is taken at NOW, 2026-09-01 10:00 Asia/Shanghai.

- S1: T (M co), assigned 03-20 (reply due 06-22), met before handling, B reply 05-06 with a promise
  by 06-30 (kept, checked 07-05), satisfied, closed.
- S2: T, assigned 03-20, B reply 06-23 (a day late), promise by 08-31 unverified, only an after-handling
  contact, basically satisfied, closed.
- S3: H (P co), key item, met during handling, C reply 04-28 (promise by 2027-03-31) rated unsatisfied;
  B reply 06-10 (promise by 07-31, found broken 08-10), satisfied, closed.
- S4: M asks for reassignment; reassigned to W 03-25 (due 06-25); one month's extension (due 07-27);
  D reply 07-20; satisfied.
- S5: P, assigned 05-14 (due 08-14), never replied.
- S6: split between M and W, assigned 04-01 (due 07-01); A replies 06-01 and 06-05; unsatisfied 06-20,
  re-handling due 07-20, not replied.
- S7: between sessions, submitted 06-01, H assigned 06-02 (due 09-02), met before handling.
- S8: rejected (personal matter).  S9: T, assigned 03-20, withdrawn 03-22.
- R1: G, four problems due 08-31 (1 rectified then closed, 2 rectified, 3 in progress, 4 planned);
  report 08-15; vote 10/8/21 fails; second review ordered.
- R2: G, two problems, handed over 07-06: the rectification list (due 08-06) never came.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from conftest import T0, UNITS

from workflow import Actor, Engine
from workflow.engine import SHANGHAI
from workflow.testing import FakeClock

T, H, M, W, P, G = (
    "市交通运输局",
    "市住房和城乡建设局",
    "市民政局",
    "市卫生健康委员会",
    "市公安局交通警察支队",
    "市人民政府",
)
SESSION = "市十五届人大五次会议"
NOW = dt.datetime(2026, 9, 1, 10, 0, tzinfo=SHANGHAI)
OFFICE, LEADER, COMMITTEE = Actor("office"), Actor("leader"), Actor("committee")


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


def u(name: str) -> Actor:
    return Actor("unit", name)


def build_year(eng: Engine) -> dict[str, int]:
    """Play the year; returns the item ids by name (S1 … S9, R1, R2)."""
    ids: dict[str, int] = {}

    def submit(name: str, day: str, title: str, deputy: str, **extra: Any) -> int:
        fields = {k: v for k, v in ({"origin": "session", "session": SESSION} | extra).items() if v is not None}
        ids[name] = eng.submit("suggestion", title=title, proposers=[deputy], at=at(day, 9), **fields).id
        return ids[name]

    def fire(name: str, day: str, trigger: str, actor: Actor = OFFICE, hour: int = 10, **data: Any) -> None:
        eng.fire(ids[name], trigger, actor=actor, at=at(day, hour), **data)

    for n, (title, deputy) in enumerate(
        [
            ("关于增加通勤班车密度的建议", "王芳"),
            ("关于优化公交线路的建议", "李强"),
            ("关于在实验中学门前修建过街天桥的建议", "张伟"),
            ("关于公布社区养老服务清单的建议", "陈静"),
            ("关于在学校路段设置减速慢行信号灯的建议", "刘洋"),
            ("关于推进医养结合的建议", "赵磊"),
        ],
        start=1,
    ):
        submit(f"S{n}", "2026-01-12", title, deputy)
    submit("S7", "2026-06-01", "关于增设社区停车位的建议", "孙悦", origin="between_sessions", session=None)
    submit("S8", "2026-01-12", "关于解决本人子女入学问题的建议", "周敏")
    submit("S9", "2026-01-12", "关于增设公交站台的建议", "吴昊")
    for name in ("S1", "S2", "S3", "S4", "S5", "S6", "S9"):
        fire(name, "2026-02-03", "register")
    fire("S8", "2026-02-03", "reject", reason="personal_matter")

    # S1: on time, met before handling, B with a promise kept, satisfied, closed.
    fire("S1", "2026-03-20", "assign", lead_unit=T, co_units=[M])
    fire("S1", "2026-03-21", "accept", u(M))
    fire("S1", "2026-03-21", "accept", u(T), hour=11)
    fire("S1", "2026-03-25", "record_contact", u(T), stage="before", method="visit")
    fire("S1", "2026-04-01", "submit_co_opinion", u(M), opinion="同意")
    fire("S1", "2026-05-06", "reply", u(T), category="B", text="已调整3条线路", signer="局长",
         promises=[{"what": "调整线路", "by": "2026-06-30"}])  # fmt: skip
    fire("S1", "2026-05-20", "evaluate", Actor("deputy", "王芳"), result="satisfied")
    fire("S1", "2026-05-25", "close")
    fire("S1", "2026-07-05", "verify_commitment", promise=eng.get(ids["S1"]).promises[0]["id"], outcome="kept")

    # S2: replied a day late (the period ends at 24:00 on 06-22), a promise past its date, unverified.
    fire("S2", "2026-03-20", "assign", lead_unit=T)
    fire("S2", "2026-03-21", "accept", u(T))
    fire("S2", "2026-06-23", "reply", u(T), category="B", text="列入计划", signer="局长",
         promises=[{"what": "加密班次", "by": "2026-08-31"}])  # fmt: skip
    fire("S2", "2026-06-25", "record_contact", u(T), stage="after", method="phone")
    fire("S2", "2026-06-30", "evaluate", result="basically_satisfied")
    fire("S2", "2026-07-01", "close")

    # S3: key item; C reply rated unsatisfied, re-handled, B reply, closed; its B promise found broken.
    fire("S3", "2026-03-20", "assign", lead_unit=H, co_units=[P])
    fire("S3", "2026-03-21", "accept", u(P))
    fire("S3", "2026-03-21", "accept", u(H), hour=11)
    fire("S3", "2026-03-25", "designate_key", LEADER, supervising_leader="刘副主任", case_leader="李文华")
    fire("S3", "2026-04-10", "record_contact", u(H), stage="during", method="meeting")
    fire("S3", "2026-04-15", "submit_co_opinion", u(P), opinion="支持")
    fire("S3", "2026-04-28", "reply", u(H), category="C", text="受资金限制", signer="局长",
         promises=[{"what": "争取列入明年计划", "by": "2027-03-31"}])  # fmt: skip
    fire("S3", "2026-05-12", "evaluate", Actor("deputy", "张伟"), result="unsatisfied")
    fire("S3", "2026-06-10", "reply", u(H), category="B", text="年内开工", signer="局长",
         promises=[{"what": "7月底前开工", "by": "2026-07-31"}])  # fmt: skip
    fire("S3", "2026-06-20", "evaluate", Actor("deputy", "张伟"), result="satisfied")
    fire("S3", "2026-06-21", "close")
    fire("S3", "2026-08-10", "verify_commitment", promise=eng.get(ids["S3"]).promises[1]["id"], outcome="broken",
         note="尚未开工")  # fmt: skip

    # S4: reassigned from M to W (the reply clock restarts), one month's extension honoured.
    fire("S4", "2026-03-20", "assign", lead_unit=M)
    fire("S4", "2026-03-23", "request_reassignment", u(M), reason="不属本单位职责")
    fire("S4", "2026-03-25", "reassign", lead_unit=W)
    fire("S4", "2026-03-26", "accept", u(W))
    fire("S4", "2026-06-01", "request_extension", u(W), reason="需要调研", period="1 month")
    fire("S4", "2026-06-02", "approve_extension", period="1 month")
    fire("S4", "2026-07-20", "reply", u(W), category="D", text="留作参考", signer="主任")
    fire("S4", "2026-07-30", "evaluate", result="satisfied")

    # S5: never replied.
    fire("S5", "2026-05-14", "assign", lead_unit=P)
    fire("S5", "2026-05-15", "accept", u(P))

    # S6: split between M and W; the item is replied when both have; rated unsatisfied.
    fire("S6", "2026-04-01", "assign", split_units=[M, W])
    fire("S6", "2026-04-02", "accept", u(M))
    fire("S6", "2026-04-02", "accept", u(W), hour=11)
    fire("S6", "2026-06-01", "reply", u(M), category="A", text="已公布清单", signer="局长")
    fire("S6", "2026-06-05", "reply", u(W), category="A", text="已开展医养结合", signer="主任")
    fire("S6", "2026-06-20", "evaluate", Actor("deputy", "赵磊"), result="unsatisfied")

    # S7: between sessions, still within its reply period.
    fire("S7", "2026-06-01", "register", hour=11)
    fire("S7", "2026-06-02", "assign", lead_unit=H)
    fire("S7", "2026-06-03", "accept", u(H))
    fire("S7", "2026-06-05", "record_contact", u(H), stage="before", method="phone")

    # S9: withdrawn two days after assignment (its objection-window clock is left running).
    fire("S9", "2026-03-20", "assign", lead_unit=T)
    fire("S9", "2026-03-22", "withdraw", reason="已与其他建议合并")

    gov = u(G)
    ids["R1"] = eng.submit(
        "review_opinion", title="关于道路交通安全法执法检查报告的审议意见", basis="inspection", at=at("2026-04-28", 9)
    ).id
    fire("R1", "2026-05-08", "approve", LEADER)
    problems = ("酒驾查处不足", "农村道路设施缺失", "重点车辆监管不到位", "宣传覆盖面窄")
    fire("R1", "2026-05-12", "assign", lead_unit=G, problems=[{"title": t} for t in problems])
    measure = {"measure": "专项整治", "owner": "交警支队", "due": "2026-08-31"}
    fire(
        "R1", "2026-06-10", "submit_rectification_plan", gov, measures=[{"problem": n, **measure} for n in range(1, 5)]
    )
    fire("R1", "2026-07-20", "update_problem", gov, problem=1, status="rectified")
    fire("R1", "2026-08-01", "update_problem", gov, problem=3, status="in_progress")
    fire("R1", "2026-08-15", "submit_report", gov, text="研究处理情况的报告", consulted_committee="监察和司法委员会",
         consulted_on="2026-08-10")  # fmt: skip
    fire("R1", "2026-08-20", "update_problem", gov, problem=2, status="rectified")
    fire("R1", "2026-08-25", "close_problem", problem=1)
    fire("R1", "2026-08-26", "deliberate", COMMITTEE)
    fire("R1", "2026-08-26", "vote", COMMITTEE, hour=11, satisfied=10, basically_satisfied=8, unsatisfied=21)
    fire("R1", "2026-08-28", "order_second_review", LEADER, reason="整改不到位")

    ids["R2"] = eng.submit(
        "review_opinion", title="关于国有自然资源资产管理情况的审议意见", basis="work_report", at=at("2026-06-26", 9)
    ).id
    fire("R2", "2026-07-02", "approve", LEADER)
    fire("R2", "2026-07-06", "assign", lead_unit=G, problems=[{"title": "资产底数不清"}, {"title": "收益管理不规范"}])

    eng.due(NOW)  # the daemon's steps up to NOW, so that the overdue clocks carry their escalation levels
    return ids


@contextmanager
def year_engine(folder: Path) -> Iterator[tuple[Engine, dict[str, int]]]:
    """The year built once in its own database (a SQLite file in *folder*, or a new PostgreSQL database
    when DUBAN_TEST_DB is set), for a module of tests that only read it."""
    base = os.environ.get("DUBAN_TEST_DB")
    url, admin, name = f"sqlite:///{folder / 'year.db'}", None, ""
    if base:
        name = f"duban_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    eng = Engine(url, clock=FakeClock(T0))
    try:
        for unit in UNITS:
            eng.add_party("unit", unit, principal_leader="主要领导", department_head="部门负责人", handler="承办人员")
        yield eng, build_year(eng)
    finally:
        eng.close()
        if admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
