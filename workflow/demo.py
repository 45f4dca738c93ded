"""``duban demo``: a simulated year of a city congress's suggestions and review opinions.

Every path of both lifecycles is walked with realistic items: a satisfied reply, a reply rated
unsatisfied and re-handled, a reassignment, an extension, a split item, a rejection, a withdrawal,
a promise found broken in the follow-up review and reopened, and a review opinion whose report
fails the standing committee's vote and passes at the second review.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shlex
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.cells import cell_len, set_cell_size

from workflow.audit_export import ACTOR_LABELS, ENGINE_TRIGGERS
from workflow.channels import Settings
from workflow.engine import SHANGHAI, Engine
from workflow.errors import ValidationError
from workflow.model import Actor, Item
from workflow.store import TABLES
from workflow.wording import plain

UNITS = {
    "市交通运输局": ("赵建国", "钱志明", "孙丽"),
    "市住房和城乡建设局": ("李文华", "周海", "吴倩"),
    "市民政局": ("郑红", "王磊", "冯雪"),
    "市自然资源和规划局": ("陈刚", "褚亮", "卫敏"),
    "市公安局交通警察支队": ("蒋卫东", "沈涛", "韩梅"),
    "市卫生健康委员会": ("杨帆", "朱静", "秦岭"),
    "市应急管理局": ("许峰", "何平", "吕娜"),
    "市人民政府": ("市长", "秘书长", "督查室"),
}
OFFICE, LEADER, COMMITTEE = Actor("office"), Actor("leader"), Actor("committee")
#: The demo's own database, a file in the current folder.
DEMO_DB = "sqlite:///duban-demo.db"
#: Written into the header of a SQLite file the demo made (``PRAGMA application_id``), so that running
#: the demo again may replace that file, and only that one, without --force.
DEMO_MARK = int.from_bytes(b"dDmo", "big")


class _Script:
    """The year's events, queued under item labels and then played in date order."""

    def __init__(self, eng: Engine, echo: Callable[[str], None] | None) -> None:
        self.eng, self.echo, self.steps = eng, echo, 0
        self.ids: dict[str, int] = {}
        self._queue: list[tuple[str, int, Callable[[], Item | None]]] = []

    def __call__(self, when: str, label: str, trigger: str, actor: Actor = OFFICE, **data: Any) -> None:
        def step() -> Item:
            at = dt.datetime.fromisoformat(when).replace(hour=10, tzinfo=SHANGHAI)
            values = {k: v() if callable(v) else v for k, v in data.items()}
            return self.eng.fire(self.ids[label], trigger, actor=actor, at=at, **values)

        self._queue.append((when, len(self._queue), step))

    def submit(self, when: str, label: str, kind: str, actor: Actor = OFFICE, **data: Any) -> None:
        def step() -> Item:
            at = dt.datetime.fromisoformat(when).replace(hour=9, tzinfo=SHANGHAI)
            item = self.eng.submit(kind, actor=actor, at=at, **data)
            self.ids[label] = item.id
            return item

        self._queue.append((when, len(self._queue), step))

    def promise(self, label: str, index: int) -> Callable[[], int]:
        return lambda: int(self.eng.get(self.ids[label]).promises[index]["id"])

    def sweep(self, when: str) -> None:
        """The daemon's pass on *when*: reminders and escalations that have fallen due."""

        def step() -> None:
            at = dt.datetime.fromisoformat(when).replace(hour=8, tzinfo=SHANGHAI)
            counts = self.eng.sweep(at, dispatch=False, worker="demo").counts
            done = {"提醒": counts["reminders"], "督办": counts["escalations"]}
            if self.echo and any(done.values()):
                self.echo(f"{when}  定时检查期限：{'，'.join(f'{k} {n} 次' for k, n in done.items() if n)}")

        self._queue.append((when, len(self._queue), step))

    def play(self) -> None:
        for when, _, step in sorted(self._queue, key=lambda entry: entry[:2]):
            item = step()
            if item is None:
                continue
            self.steps += 1
            if self.echo:
                last = self.eng.get(item.id).history[-1]
                what = f"{_step_label(self.eng, item, last.source, last.trigger)}（{_actor_label(last.actor)}）"
                line = f"{when}  #{item.id:<2} {_fit(item.title, 30)}  {_fit(what, 28)} → "
                self.echo(line + plain(item.state_label))  # padded by display width: a Chinese character is 2 columns


def _step_label(eng: Engine, item: Item, source: str | None, trigger: str) -> str:
    """A step as the office names it: the trigger's Chinese label (交办, 答复, …)."""
    spec = eng.definition(item.kind).transition(source, trigger) if source else None
    return plain(spec.label) if spec and spec.label else ENGINE_TRIGGERS.get(trigger, trigger)


def _actor_label(actor: str) -> str:
    role, _, party = actor.partition(":")
    return party or ACTOR_LABELS.get(role, role)


def _fit(text: str, width: int) -> str:
    """*text* padded or cut (ending in …) to *width* terminal columns, a Chinese character counting two."""
    if cell_len(text) > width:
        while cell_len(text) > width - 1:
            text = text[:-1]
        text += "…"
    return set_cell_size(text, width)


def run_demo(
    url: str = DEMO_DB,
    echo: Callable[[str], None] | None = print,
    out: str | Path = "demo-out",
    *,
    force: bool = False,
    program: str = "duban",
) -> dict[str, Any]:
    """Recreate the demo database at *url*, play the year, write its notices to *out*/notices through
    the folder channel, and return a summary. A database that holds items or parties (or, for a SQLite
    file, anything but an earlier demo) is refused with a ValidationError unless *force*: the demo
    never replaces someone else's data unasked. *program* is how the closing hints run duban
    (``.venv/bin/duban`` when it is not on the PATH)."""
    _clear(url, force)
    folder = Path(out) / "notices"
    shutil.rmtree(folder, ignore_errors=True)
    settings = Settings(
        outbox_dir=str(folder), office_address="office@rd.example", office_name="市人大常委会代表工作委员会"
    )
    with Engine(url, settings=settings, allow_future=True) as eng:  # a simulated year runs ahead of the clock
        for n, (name, (principal, head, handler)) in enumerate(UNITS.items()):
            roles = {"handler": handler, "department_head": head, "principal_leader": principal}
            contacts = {role: f"{role}{n}@unit{n}.example" for role in roles}
            eng.add_party("unit", name, contacts=contacts, **roles)
        for deputy in ("王芳", "张伟", "刘洋", "陈静", "赵磊", "孙悦"):
            eng.add_party("deputy", deputy, contacts={"address": f"deputy.{len(deputy)}{ord(deputy[0])}@rd.example"})
        eng.add_party("leader", "刘副主任", contacts={"address": "liu@rd.example"})
        s = _Script(eng, echo)
        _suggestions(s)
        _review_opinions(s)
        for month in range(2, 13):
            s.sweep(f"2026-{month:02d}-01")
        s.play()
        year_end = dt.datetime(2026, 12, 31, 18, tzinfo=SHANGHAI)
        dispatched = eng.dispatch(year_end, limit=10_000)
        summary = _summary(eng, s, echo) | {"notices_written": dispatched["sent"], "notices_folder": str(folder)}
        if echo:
            echo(f"  {dispatched['sent']} 份通知已写入文件夹 {folder}/（演示不发邮件）")
        summary["report_files"] = _write_report(eng, year_end, Path(out), url, echo, program)
        return summary


def _clear(url: str, force: bool) -> None:
    """Make *url* an empty database for the demo, or refuse: see :func:`run_demo`."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        _clear_server(url, force)
        return
    if not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database)
    held = _sqlite_held(path) if path.is_file() and path.stat().st_size else ""
    if held and not force:
        raise ValidationError(
            "--db",
            f"{path} holds {held}, which the demo would delete; give the demo a new file (duban demo --db "
            f"sqlite:///demo.db) or, if {path} may be replaced, pass --force",
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(path)) as conn:  # marked as the demo's own from its first page
        conn.execute(f"PRAGMA application_id = {DEMO_MARK}")
        conn.commit()


def _sqlite_held(path: Path) -> str:
    """What the SQLite file holds that is not an earlier demo's: '' when it is the demo's own."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA application_id").fetchone()[0] == DEMO_MARK:
                return ""
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _HELD if t in tables}
    except sqlite3.DatabaseError:
        return "something that is not a SQLite database"
    if not any(n.startswith("duban_") for n in tables) and tables:
        return f"{len(tables)} table{'s' if len(tables) > 1 else ''} of another application"
    return _held(counts)


def _clear_server(url: str, force: bool) -> None:
    """On a database server: refuse one holding items or parties unless *force*, then empty duban's tables."""
    db = sa.create_engine(url)
    try:
        with db.begin() as conn:
            names = set(sa.inspect(conn).get_table_names())
            counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in _HELD if t in names}
            held = _held(counts)
            if held and not force:
                shown = sa.engine.make_url(url).render_as_string(hide_password=True)
                raise ValidationError(
                    "--db",
                    f"the database {shown} holds {held}, which the demo would delete; give the demo an empty "
                    "database (or leave out --db: it writes its own file, duban-demo.db), or pass --force",
                )
            for table in reversed(TABLES.values()):  # children first
                if table.name in names:
                    conn.execute(table.delete())
    except sa.exc.DBAPIError as exc:
        raise ValidationError("--db", f"cannot open the database: {str(exc.orig).strip().splitlines()[0]}") from None
    finally:
        db.dispose()


_HELD = {"duban_item": "item", "duban_party": "party"}


def _held(counts: dict[str, int]) -> str:
    """'2 items and 7 parties' for the tables that hold rows."""
    words = {"item": "items", "party": "parties"}
    found = [f"{n} {_HELD[t] if n == 1 else words[_HELD[t]]}" for t, n in counts.items() if n]
    return " and ".join(found)


def _write_report(
    eng: Engine, now: dt.datetime, out: Path, url: str, echo: Callable[[str], None] | None, program: str = "duban"
) -> list[str]:
    """The year's follow-up review report (回头看), as the printable HTML page and the Excel ledgers."""
    report = eng.report("followup", year=2026, now=now)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("followup-report.html", "followup-report.xlsx"):
        path = out / name
        try:
            report.write(path)
        except ModuleNotFoundError as exc:  # a renderer not installed: the demo still ends well
            if echo:
                echo(f"  （未生成 {name}：{exc}）")
            continue
        written.append(str(path))
    if echo:
        rates = report.data["summary"]["rates"]
        echo("")
        echo("回头看报告：" + ", ".join(written))
        echo(
            "  按期答复率 {} · 办结率 {} · 满意率 {} · 落实率 {} · 整改率 {}".format(
                *(rates[k]["percent"] for k in ("on_time", "closed", "satisfaction", "promise_kept", "rectified"))
            )
        )
        db = shlex.quote(url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url)
        echo(f"  再出一份或换格式：{program} --db {db} report followup --year 2026 -o report.docx")
        echo(f"  看看数据：{program} --db {db} list; {program} --db {db} show 2; {program} --db {db} deadlines")
    return written


def _suggestions(s: _Script) -> None:
    unit = {name: Actor("unit", name) for name in UNITS}
    session: dict[str, Any] = {"origin": "session", "session": "市十五届人大五次会议"}
    s.submit(
        "2026-01-12",
        "bus",
        "suggestion",
        title="关于增加通勤班车密度的建议",
        proposers=["王芳", "李强", "张敏"],
        lead_deputy="王芳",
        body="早晚高峰通勤班车间隔过长, 建议加密班次。",
        **session,
    )
    s.submit(
        "2026-01-12",
        "bridge",
        "suggestion",
        title="关于在实验中学门前修建过街天桥的建议",
        proposers=["张伟"],
        **session,
    )
    s.submit(
        "2026-01-13",
        "lights",
        "suggestion",
        title="关于在学校路段设置减速慢行信号灯的建议",
        proposers=["刘洋"],
        **session,
    )
    s.submit(
        "2026-03-18",
        "elderly",
        "suggestion",
        title="关于公布社区养老服务清单的建议",
        proposers=["陈静"],
        origin="between_sessions",
        actor=Actor("deputy", "陈静"),
    )
    s.submit(
        "2026-01-13", "personal", "suggestion", title="关于解决本人子女入学问题的建议", proposers=["赵磊"], **session
    )
    s.submit("2026-01-13", "dup", "suggestion", title="关于增设公交站台的建议", proposers=["孙悦"], **session)

    for label in ("bus", "bridge", "lights", "dup"):
        s("2026-02-03", label, "register")
    s("2026-03-25", "elderly", "register")
    s("2026-02-03", "personal", "reject", reason="personal_matter", note="属个人事项, 转信访渠道")
    s("2026-02-05", "dup", "withdraw", Actor("deputy", "孙悦"), reason="已与其他代表建议合并")

    # 交办会: assignments made at the assignment meeting.
    s("2026-02-10", "bus", "assign", lead_unit="市交通运输局", co_units=["市住房和城乡建设局"])
    s(
        "2026-02-10",
        "bridge",
        "assign",
        lead_unit="市住房和城乡建设局",
        co_units=["市公安局交通警察支队", "市自然资源和规划局"],
    )
    s("2026-02-10", "lights", "assign", lead_unit="市交通运输局")
    s("2026-04-01", "elderly", "assign", split_units=["市民政局", "市卫生健康委员会"])
    s("2026-02-20", "bridge", "designate_key", LEADER, supervising_leader="刘副主任", case_leader="李文华")

    # The bus item: co-opinion first, contacts, a B reply with a promise, satisfied, closed, promise kept.
    s("2026-02-11", "bus", "accept", unit["市住房和城乡建设局"])
    s("2026-02-12", "bus", "accept", unit["市交通运输局"])
    s("2026-02-20", "bus", "record_contact", unit["市交通运输局"], stage="before", method="visit", note="走访王芳代表")
    s("2026-03-10", "bus", "submit_co_opinion", unit["市住房和城乡建设局"], opinion="同意在新建小区设置站点")
    s("2026-04-15", "bus", "record_contact", unit["市交通运输局"], stage="during", method="meeting")
    s(
        "2026-05-06",
        "bus",
        "reply",
        unit["市交通运输局"],
        category="B",
        text="已调整3条线路, 其余列入下半年计划",
        signer="赵建国",
        promises=[{"what": "早晚高峰班次加密至10分钟一班", "by": "2026-10-31"}],
    )
    s("2026-05-20", "bus", "evaluate", Actor("deputy", "王芳"), result="satisfied", comment="沟通充分")
    s("2026-05-25", "bus", "close")

    # The lights item: wrong unit, reassigned to the traffic police; an extension; A reply.
    s("2026-02-13", "lights", "request_reassignment", unit["市交通运输局"], reason="信号灯设置属交警部门职责")
    s("2026-02-17", "lights", "reassign", lead_unit="市公安局交通警察支队")
    s("2026-02-18", "lights", "accept", unit["市公安局交通警察支队"])
    s(
        "2026-04-20",
        "lights",
        "request_extension",
        unit["市公安局交通警察支队"],
        reason="需与教育部门联合勘察",
        period="1 month",
    )
    s("2026-04-22", "lights", "approve_extension", period="1 month")
    s(
        "2026-06-10",
        "lights",
        "reply",
        unit["市公安局交通警察支队"],
        category="A",
        text="已在5所学校路段设置信号灯",
        signer="蒋卫东",
    )
    s("2026-06-20", "lights", "evaluate", OFFICE, result="basically_satisfied", comment="征询意见表 (纸质) 录入")
    s("2026-06-21", "lights", "close")

    # The footbridge (key supervised): C reply rated unsatisfied, re-handled, B reply, closed;
    # the follow-up review finds the promise broken and reopens it; finally solved.
    for name in ("市公安局交通警察支队", "市自然资源和规划局", "市住房和城乡建设局"):
        s("2026-02-12", "bridge", "accept", unit[name])
    s("2026-03-01", "bridge", "submit_co_opinion", unit["市公安局交通警察支队"], opinion="支持, 建议同步设置信号灯")
    s("2026-03-05", "bridge", "submit_co_opinion", unit["市自然资源和规划局"], opinion="用地符合规划")
    s(
        "2026-04-28",
        "bridge",
        "reply",
        unit["市住房和城乡建设局"],
        category="C",
        text="受资金限制, 待以后解决",
        signer="李文华",
        promises=[{"what": "争取列入明年城建计划", "by": "2027-03-31"}],
    )
    s("2026-05-12", "bridge", "evaluate", Actor("deputy", "张伟"), result="unsatisfied", comment="学生安全问题紧迫")
    s(
        "2026-05-15",
        "bridge",
        "record_contact",
        unit["市住房和城乡建设局"],
        stage="during",
        method="meeting",
        note="现场会",
    )
    s(
        "2026-06-10",
        "bridge",
        "reply",
        unit["市住房和城乡建设局"],
        category="B",
        text="已纳入年内开工计划",
        signer="李文华",
        promises=[{"what": "9月底前开工建设", "by": "2026-09-30"}],
    )
    s("2026-06-18", "bridge", "evaluate", Actor("deputy", "张伟"), result="basically_satisfied")
    s("2026-06-20", "bridge", "close")
    s(
        "2026-10-15",
        "bridge",
        "verify_commitment",
        promise=s.promise("bridge", -1),
        outcome="broken",
        note="回头看: 尚未开工",
    )
    s("2026-10-16", "bridge", "reopen", LEADER, reason="回头看发现承诺未落实")
    s(
        "2026-11-30",
        "bridge",
        "reply",
        unit["市住房和城乡建设局"],
        category="A",
        text="天桥已开工, 预计春节前通行",
        signer="李文华",
    )
    s("2026-12-10", "bridge", "evaluate", Actor("deputy", "张伟"), result="satisfied")
    s("2026-12-12", "bridge", "close")
    s("2026-12-15", "bus", "verify_commitment", promise=s.promise("bus", 0), outcome="kept", note="回头看: 已加密班次")

    # The split elderly-care item: each unit replies its part.
    for name in ("市民政局", "市卫生健康委员会"):
        s("2026-04-02", "elderly", "accept", unit[name])
    s("2026-06-01", "elderly", "reply", unit["市民政局"], category="A", text="已公布社区养老服务清单", signer="郑红")
    s(
        "2026-06-05",
        "elderly",
        "reply",
        unit["市卫生健康委员会"],
        category="A",
        text="已公布医养结合服务项目",
        signer="杨帆",
    )
    s("2026-06-15", "elderly", "evaluate", Actor("deputy", "陈静"), result="satisfied")
    s("2026-06-16", "elderly", "close")


def _review_opinions(s: _Script) -> None:
    gov = Actor("unit", "市人民政府")
    s.submit(
        "2026-04-28",
        "traffic",
        "review_opinion",
        title="关于道路交通安全法执法检查报告的审议意见",
        basis="inspection",
        committee="监察和司法委员会",
        meeting="市十五届人大常委会第二十次会议",
    )
    s.submit(
        "2026-06-26",
        "assets",
        "review_opinion",
        title="关于国有自然资源资产管理情况的审议意见",
        basis="work_report",
        committee="财政经济委员会",
        meeting="市十五届人大常委会第二十二次会议",
    )
    problems = ["酒驾醉驾查处力度不足", "农村道路安全设施缺失", "重点车辆动态监管不到位", "交通安全宣传覆盖面窄"]
    s("2026-05-08", "traffic", "approve", LEADER)
    s("2026-05-12", "traffic", "assign", lead_unit="市人民政府", problems=[{"title": p} for p in problems])
    s(
        "2026-06-10",
        "traffic",
        "submit_rectification_plan",
        gov,
        measures=[
            {
                "problem": n,
                "measure": f"针对“{p}”制定专项整改方案",
                "owner": "市公安局交通警察支队",
                "due": "2026-10-31",
            }
            for n, p in enumerate(problems, start=1)
        ],
    )
    s("2026-08-20", "traffic", "update_problem", gov, problem=1, status="rectified", note="开展夏季专项整治")
    s(
        "2026-09-15",
        "traffic",
        "submit_report",
        gov,
        text="关于研究处理道路交通安全法执法检查报告审议意见情况的报告",
        consulted_committee="监察和司法委员会",
        consulted_on="2026-09-05",
        signer="市长",
    )
    s("2026-10-28", "traffic", "deliberate", COMMITTEE, meeting="市十五届人大常委会第二十四次会议")
    s("2026-10-28", "traffic", "vote", COMMITTEE, satisfied=10, basically_satisfied=8, unsatisfied=21)
    s("2026-10-30", "traffic", "order_second_review", LEADER, reason="农村道路安全设施问题整改不到位")
    s("2026-11-20", "traffic", "update_problem", gov, problem=2, status="rectified")
    s(
        "2026-12-01",
        "traffic",
        "submit_report",
        gov,
        text="关于二次审议意见研究处理情况的报告",
        consulted_committee="监察和司法委员会",
        consulted_on="2026-11-25",
        signer="市长",
    )
    s("2026-12-22", "traffic", "deliberate", COMMITTEE, meeting="市十五届人大常委会第二十六次会议")
    s("2026-12-22", "traffic", "vote", COMMITTEE, satisfied=26, basically_satisfied=9, unsatisfied=4)
    s("2026-12-24", "traffic", "close_problem", problem=1, note="销号")
    s("2026-12-28", "traffic", "close")

    s("2026-07-02", "assets", "approve", LEADER)
    s(
        "2026-07-06",
        "assets",
        "assign",
        lead_unit="市人民政府",
        co_units=["市自然资源和规划局"],
        problems=[{"title": "资产底数不清"}, {"title": "收益管理不规范"}],
    )
    s(
        "2026-08-05",
        "assets",
        "submit_rectification_plan",
        gov,
        measures=[
            {
                "problem": 1,
                "measure": "开展全民所有自然资源资产清查",
                "owner": "市自然资源和规划局",
                "due": "2026-12-31",
            },
            {"problem": 2, "measure": "建立资产收益台账", "owner": "市财政局", "due": "2026-11-30"},
        ],
    )
    s(
        "2026-11-10",
        "assets",
        "submit_report",
        gov,
        text="关于国有自然资源资产管理审议意见研究处理情况的报告",
        consulted_committee="财政经济委员会",
        consulted_on="2026-11-01",
    )
    s("2026-12-22", "assets", "deliberate", COMMITTEE)
    s("2026-12-22", "assets", "vote", COMMITTEE, satisfied=30, basically_satisfied=7, unsatisfied=2)
    s("2026-12-28", "assets", "close")


def _summary(eng: Engine, s: _Script, echo: Callable[[str], None] | None) -> dict[str, Any]:
    items = eng.items()
    by_state = Counter((i.kind, i.state_label) for i in items)
    rated = [i for i in items if i.kind == "suggestion" and "result" in i.data]
    satisfied = sum(1 for d in rated if d.data["result"] in ("satisfied", "basically_satisfied"))
    breaks = eng.verify_audit()
    summary: dict[str, Any] = {
        "items": len(items),
        "steps": s.steps,
        "by_state": {f"{kind} {label}": n for (kind, label), n in sorted(by_state.items())},
        "suggestions_rated": len(rated),
        "satisfied_or_basically": satisfied,
        "rehandled": sum(1 for i in items if i.kind == "suggestion" and i.round > 0),
        "audit_intact": not breaks,
    }
    if echo:
        echo("")
        echo(f"年度小结：{summary['items']} 件事项，记录 {summary['steps']} 个办理步骤")
        for (kind, label), n in sorted(by_state.items()):
            echo(f"  {plain(eng.definition(kind).label)} {plain(label)}：{n} 件")
        echo(f"  满意率（满意和基本满意 / 已测评）：{satisfied}/{len(rated)}")
        echo(f"  重新办理（至少重新办理一次的事项）：{summary['rehandled']} 件")
        echo(f"  审计链：{'完整' if not breaks else '断裂'}")
        by_type = Counter(n["type"] for n in eng.outbox())
        names = eng.notices.types
        echo(
            f"  通知：{sum(by_type.values())} 份（"
            + "、".join(f"{names[k].name if k in names else k} {v}" for k, v in sorted(by_type.items()))
            + "）"
        )
    return summary
