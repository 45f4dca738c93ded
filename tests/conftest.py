"""Shared fixtures. Set DUBAN_TEST_DB to a PostgreSQL URL to run the suite there; SQLite otherwise."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from workflow import Actor, Engine, Item, Settings
from workflow.store import TABLES
from workflow.testing import FakeClock

UNITS = [
    "市交通运输局",
    "市住房和城乡建设局",
    "市民政局",
    "市自然资源和规划局",
    "市公安局交通警察支队",
    "市卫生健康委员会",
    "市人民政府",
]
T0 = dt.datetime(2026, 3, 20, 9, 0, tzinfo=dt.UTC)

#: A line a reliability suite prints with its figure (cases tried, races run, kills survived, duplicates found)
#: starts with one of these words; the lines are gathered from the tests' output and shown at the end of the run.
FIGURE = re.compile(r"^\s*(races|crashes|tamper|hostile|migrate|upgrade|backup|permissions|fuzz)\b[^:\n]{0,60}:")
_figures: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    _figures.extend(line.strip() for line in report.capstdout.splitlines() if FIGURE.match(line))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _figures:
        terminalreporter.section("reliability figures")
        for line in dict.fromkeys(_figures):  # in order, each once
            terminalreporter.write_line(line)


def _admin() -> sa.Engine:
    return sa.create_engine(os.environ["DUBAN_TEST_DB"], isolation_level="AUTOCOMMIT")


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """An empty database per test: a new SQLite file, or a new PostgreSQL database dropped afterwards."""
    base = os.environ.get("DUBAN_TEST_DB")
    if not base:
        yield f"sqlite:///{tmp_path / 'duban.db'}"
        return
    name = f"duban_test_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def engine(db_url: str, clock: FakeClock) -> Iterator[Engine]:
    eng = Engine(db_url, clock=clock)
    for unit in UNITS:
        eng.add_party("unit", unit, principal_leader="主要领导", department_head="部门负责人", handler="承办人员")
    yield eng
    eng.close()


@pytest.fixture
def open_engine(db_url: str, clock: Any) -> Iterator[Callable[..., Engine]]:
    """Engines on the test's database with the given delivery settings; closed afterwards."""
    opened: list[Engine] = []

    def make(**settings: Any) -> Engine:
        eng = Engine(db_url, clock=clock, settings=Settings(**settings))
        opened.append(eng)
        return eng

    yield make
    for eng in opened:
        eng.close()


def unit(name: str) -> Actor:
    return Actor("unit", name)


def snapshot(eng: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every duban table, to check that a failed operation changed nothing."""
    with eng.db.connect() as conn:
        return {
            name: sorted(map(tuple, conn.execute(sa.select(table)).all()), key=repr) for name, table in TABLES.items()
        }


def suggestion(eng: Engine, **extra: Any) -> Item:
    data = {"title": "关于增加通勤班车密度的建议", "origin": "session", "proposers": ["王芳"]} | extra
    return eng.submit("suggestion", **data)


def to_handling(eng: Engine, co_units: tuple[str, ...] = ("市民政局",), lead: str = "市交通运输局") -> Item:
    """A suggestion assigned to *lead* (and co-units), signed for by all of them: state handling."""
    item = suggestion(eng)
    eng.fire(item.id, "register")
    eng.fire(item.id, "assign", lead_unit=lead, co_units=list(co_units))
    for name in co_units:
        eng.fire(item.id, "accept", actor=unit(name))
    return eng.fire(item.id, "accept", actor=unit(lead))


def to_replied(eng: Engine, category: str = "A", **reply: Any) -> Item:
    item = to_handling(eng)
    eng.fire(item.id, "submit_co_opinion", actor=unit("市民政局"), opinion="同意")
    return eng.fire(
        item.id, "reply", actor=unit("市交通运输局"), category=category, text="答复", signer="局长", **reply
    )


def review_opinion(eng: Engine, problems: int = 3) -> Item:
    """A review opinion handed over to 市人民政府 with *problems* problems: state assigned."""
    item = eng.submit("review_opinion", title="关于道路交通安全法执法检查报告的审议意见", basis="inspection")
    eng.fire(item.id, "approve", actor=Actor("leader"))
    return eng.fire(
        item.id, "assign", lead_unit="市人民政府", problems=[{"title": f"问题{n}"} for n in range(1, problems + 1)]
    )


SPAWN = mp.get_context("spawn")


def in_processes(target: Callable[..., None], arglists: Sequence[tuple[Any, ...]], timeout: float = 120) -> list[Any]:
    """Run ``target(*args, out)`` in a separate spawned process per argument tuple and return what each
    put on ``out`` (in the order they finished); real processes, not threads sharing a session."""
    out: Any = SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*args, out)) for args in arglists]
    for p in procs:
        p.start()
    results = [out.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join()
    return results
