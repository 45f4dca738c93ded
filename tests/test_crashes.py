"""Crashes: a process SIGKILLed in the middle of a fire, an import, a sweep and a dispatch (issue 8, part 3).

Each child is killed at a random point, chosen one of two ways in turn: the child's kill switch
(:mod:`chaos`) SIGKILLs it just before its k-th statement or commit, k drawn at random — so kills land
between any two statements of a transaction, right before its COMMIT included — or the parent SIGKILLs
it a random few milliseconds into its work. After every kill the database is checked, and the next run
restarts the work where the killed one left it. On SQLite here, on PostgreSQL when ``DUBAN_TEST_DB`` is set.

The 20,000-item sweeper race and the sweeper killed twenty times mid-sweep are in ``test_scaleout.py``;
the sweep here is a smaller variant with statement-level kill points.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from chaos import (
    CO,
    LEAD,
    Run,
    check_whole,
    dispatch_until_done,
    fire_forever,
    import_sheet,
    outbox_duplicates,
    replay,
    run_child,
    staff,
    stray_deadlines,
    sweep_until_done,
)
from conftest import T0, UNITS
from test_delivery import smtp_server
from test_import import xlsx
from test_scaleout import LEASE, OVERDUE, SETTINGS, _check_exactly_once, _populate

from workflow import Engine
from workflow.channels import Settings
from workflow.importer import import_file
from workflow.store import TABLES, reading
from workflow.testing import FakeClock

SEED = int(os.environ.get("DUBAN_CHAOS_SEED", "20261122"))
KILLS = {"fire": 12, "import": 10, "dispatch": 10, "sweep": 8}
FIGURES: dict[str, int] = {}

_AUDIT, _ITEM = TABLES["duban_audit"], TABLES["duban_item"]


@pytest.fixture(scope="module", autouse=True)
def _figure() -> Iterator[None]:
    """The module's figure, once every crash test has run (each prints its own line as well)."""
    yield
    if FIGURES:
        kills = ", ".join(f"{what} {FIGURES[what]} kills" for what in KILLS if what in FIGURES)
        print(f"\ncrashes: {kills} survived, duplicates {FIGURES.get('duplicates', 0)}, lost {FIGURES.get('lost', 0)}")


def _kill_plan(rng: random.Random, n: int, statements: int, seconds: float) -> dict[str, Any]:
    """Run *n* is killed by its own switch at a random statement (even runs) or by the parent after a
    random delay (odd runs), both drawn over the work an undisturbed run would do."""
    if n % 2 == 0:
        return {"kill_at": rng.randint(1, max(1, statements))}
    return {"kill_after": rng.uniform(0.0, seconds)}


def _killed_until(wanted: int, attempt: Callable[[int], Run], after: Callable[[Run], None]) -> int:
    """Call ``attempt(n)`` for n = 0, 1, … until *wanted* runs were killed, checking the database with
    *after* after every run; a run that finished before its kill point is checked too, not counted."""
    kills = n = 0
    while kills < wanted:
        assert n < 3 * wanted, f"only {kills} of {n} runs were killed: the kill points miss the work"
        run = attempt(n)
        after(run)
        kills += run.killed
        n += 1
    return kills


# ---- fires ----------------------------------------------------------------------------------------


def _lost_fires(eng: Engine, reported: set[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Fires a child reported committed that the audit log does not hold as that item's row of that number."""
    with reading(eng.db) as conn:
        rows = {tuple(r) for r in conn.execute(sa.select(_AUDIT.c.item_id, _AUDIT.c.seq, _AUDIT.c.trigger))}
    return sorted(reported - rows)


def test_fires_killed_at_random_points_lose_nothing_committed_and_leave_nothing_half_written(
    db_url: str, tmp_path: Path
) -> None:
    """A process driving suggestions through their lifecycle (single fires and fire_many batches) is
    SIGKILLed at random points, twelve times, and restarted. A user can rely on: every fire that returned
    is in the audit log; every item's version counts its audit rows and every chain verifies; each item is
    exactly what replaying its log gives — no assignment, promise, contact, deadline or notice of a fire that
    did not commit, none missing from one that did — and the outbox holds each notice once."""
    eng = Engine(db_url, clock=FakeClock(T0))
    staff(eng)
    rng = random.Random(SEED)
    reported: set[tuple[int, int, str]] = set()
    lost: list[tuple[int, int, str]] = []

    def attempt(n: int) -> Run:
        plan = _kill_plan(rng, n, 200, 0.6)  # some twenty fires
        return run_child(fire_forever, (db_url, SEED + n), tmp_path / "fire.log", **plan)

    def after(run: Run) -> None:
        assert run.killed, "the fire loop ends only when killed"
        reported.update((int(i), int(v), t) for i, v, t in run.records("fire"))
        lost.extend(_lost_fires(eng, reported))
        assert lost == [], f"committed fires missing from the audit log: {lost[:5]}"
        check_whole(eng)
        assert outbox_duplicates(eng) == 0
        assert stray_deadlines(eng) == []

    kills = _killed_until(KILLS["fire"], attempt, after)
    whole = check_whole(eng)
    replayed, mismatches = replay(eng, f"sqlite:///{tmp_path / 'replay.db'}")
    assert mismatches == [], "\n".join(mismatches[:5])
    assert replayed == whole["audit_rows"]
    with reading(eng.db) as conn:
        notices = conn.execute(sa.text("SELECT count(*) FROM duban_notice")).scalar_one()
    FIGURES.update(fire=kills, lost=FIGURES.get("lost", 0) + len(lost))
    print(
        f"\ncrashes: fire {kills} kills survived, {len(reported)} fires reported committed, lost {len(lost)}; "
        f"{whole['items']} items, {whole['audit_rows']} audit rows replayed, 0 mismatches; "
        f"{notices} notices, duplicates {outbox_duplicates(eng)}"
    )
    eng.close()


# ---- import ---------------------------------------------------------------------------------------

ROWS = 200


def _sheet(path: Path, session: str) -> Path:
    """A summary sheet of ROWS suggestions of one session."""
    rows = [
        [str(n), f"关于第{n}项民生实事的建议", "王芳、李强", "王芳", session, "内容", UNITS[n % 3]]
        for n in range(1, ROWS + 1)
    ]
    return xlsx(path, rows)


def _of_session(eng: Engine, session: str) -> int:
    with reading(eng.db) as conn:
        query = sa.select(sa.func.count()).where(_ITEM.c.data["session"].as_string() == session)
        return int(conn.execute(query).scalar_one())


def test_an_import_killed_at_random_points_is_wholly_present_or_wholly_absent(db_url: str, tmp_path: Path) -> None:
    """``duban import`` of a 200-row summary sheet SIGKILLed at random points, ten times, each on a new
    sheet. A user can rely on: after a kill the sheet's suggestions are all there or none is (one
    transaction); importing the sheet again then brings exactly its 200, and once more adds nothing."""
    eng = Engine(db_url, clock=FakeClock(T0))
    staff(eng)
    rng = random.Random(SEED)
    sheets: list[tuple[str, Path]] = []
    undisturbed: list[Run] = []

    def attempt(n: int) -> Run:
        session = f"市十五届人大第{len(sheets) + 1}次会议"
        sheets.append((session, _sheet(tmp_path / f"汇总{len(sheets) + 1}.xlsx", session)))
        plan = _kill_plan(rng, n, undisturbed[0].statements, undisturbed[0].seconds) if undisturbed else {}
        return run_child(import_sheet, (db_url, str(sheets[-1][1])), tmp_path / "import.log", **plan)

    def after(run: Run) -> None:
        session, path = sheets[-1]
        assert _of_session(eng, session) in ((0, ROWS) if run.killed else (ROWS,)), "a partial import is visible"
        check_whole(eng, chains=False)  # every chain is verified at the end
        import_file(eng, path)  # the restart
        assert _of_session(eng, session) == ROWS
        assert import_file(eng, path).imported == []
        assert _of_session(eng, session) == ROWS

    undisturbed.append(attempt(-1))  # how many statements, and how long, a whole import takes
    assert not undisturbed[0].killed and undisturbed[0].records("exit") == [["0"]]
    after(undisturbed[0])
    kills = _killed_until(KILLS["import"], attempt, after)
    whole = check_whole(eng)
    assert whole["items"] == ROWS * len(sheets), "an import was doubled"
    FIGURES["import"] = kills
    print(f"\ncrashes: import {kills} kills survived, {len(sheets)} sheets of {ROWS} rows, each imported once")
    eng.close()


# ---- sweep ----------------------------------------------------------------------------------------

SWEPT = 300


def test_a_sweep_killed_at_random_statements_escalates_every_item_once(db_url: str, tmp_path: Path) -> None:
    """A sweeper over 300 overdue items SIGKILLed at random points of its sweep, eight times, each restart
    a lease later. A user can rely on: once a later sweep has run, every item was escalated once per level,
    every reminder and level produced once, no notice queued twice, no deadline left claimed, and every
    audit chain verifies (test_scaleout.py does the same at scale and with several sweepers)."""
    eng = _populate(db_url, SWEPT)
    rng = random.Random(SEED)

    def attempt(n: int) -> Run:
        now = (OVERDUE + dt.timedelta(seconds=(LEASE + 1) * n)).isoformat()
        plan = _kill_plan(rng, n, 40, 0.08)  # a whole sweep of 300 items is some 400 statements
        return run_child(
            sweep_until_done, (db_url, SETTINGS, f"victim-{n}", now, LEASE), tmp_path / "sweep.log", **plan
        )

    def after(run: Run) -> None:
        check_whole(eng)
        assert outbox_duplicates(eng) == 0

    kills = _killed_until(KILLS["sweep"], attempt, after)
    eng.sweep(OVERDUE + dt.timedelta(days=1), dispatch=False, worker="survivor")
    figures = _check_exactly_once(eng, SWEPT)
    check_whole(eng)
    FIGURES["sweep"] = kills
    FIGURES["duplicates"] = FIGURES.get("duplicates", 0) + figures["duplicates"]
    print(f"\ncrashes: sweep {kills} kills survived, {figures}")
    eng.close()


# ---- dispatch -------------------------------------------------------------------------------------


def test_a_dispatch_killed_at_random_points_delivers_each_notice_and_never_doubles_one(
    db_url: str, tmp_path: Path
) -> None:
    """A dispatcher sending the outbox to a real SMTP server on loopback, SIGKILLed at random points ten
    times — before a claim, mid-conversation, after the server took a mail but before it was marked sent —
    while new notices keep being queued. A user can rely on: the outbox never holds a notice twice; a notice
    marked sent was received; and once a dispatch runs to the end every notice was received, under its own
    idempotency key (at least once: a mail taken but not yet marked is sent again, with the same key)."""
    with smtp_server() as box:
        settings = Settings(smtp_url=box.url, mail_from="duban@rd.example", lease_seconds=LEASE)
        clock = FakeClock(T0)
        eng = Engine(db_url, clock=clock, settings=settings)
        staff(eng)
        rng = random.Random(SEED)

        def received() -> list[str]:
            return [str(m["X-Duban-Idempotency-Key"]) for m in list(box.messages)]

        def outbox() -> dict[str, str]:
            return {row["key"]: row["status"] for row in eng.outbox()}

        def attempt(n: int) -> Run:
            now = clock.set(T0 + dt.timedelta(seconds=(LEASE + 1) * (n + 1)))  # what a killed one held is free
            ids = [
                eng.submit("suggestion", title=f"建议{n}-{k}", origin="session", proposers=["王芳"]).id
                for k in range(4)
            ]
            eng.fire_many("register", ids)
            eng.fire_many("assign", ids, lead_unit=LEAD, co_units=[CO])
            due = sum(status != "sent" for status in outbox().values())
            # a claim and its commit per batch of three, an update and its commit per notice
            plan = _kill_plan(rng, n, 2 * due + 2 * -(-due // 3), 0.02 * due)
            return run_child(
                dispatch_until_done, (db_url, settings, now.isoformat()), tmp_path / "dispatch.log", **plan
            )

        def after(run: Run) -> None:
            rows = outbox()
            assert outbox_duplicates(eng) == 0 and len(rows) == len(eng.outbox())
            assert set(rows.values()) <= {"queued", "sending", "sent"}, "a delivery failed on a server that is up"
            got = set(received())
            unsent = [key for key, status in rows.items() if status == "sent" and key not in got]
            assert unsent == [], f"marked sent but never received: {unsent[:3]}"
            check_whole(eng)

        kills = _killed_until(KILLS["dispatch"], attempt, after)
        queued = outbox()
        final = T0 + dt.timedelta(seconds=(LEASE + 1) * 100)
        while eng.dispatch(final)["claimed"]:
            pass
        rows, got = outbox(), received()
        assert set(rows) == set(queued) and set(rows.values()) == {"sent"}
        assert set(got) == set(rows), "every notice reached the server, under its own key"
        assert eng.incidents() == []
        duplicates = outbox_duplicates(eng)
        redelivered = len(got) - len(set(got))
        FIGURES["dispatch"] = kills
        FIGURES["duplicates"] = FIGURES.get("duplicates", 0) + duplicates
        print(
            f"\ncrashes: dispatch {kills} kills survived, {len(rows)} notices each received "
            f"({redelivered} sent again with the same key), duplicates {duplicates}"
        )
        eng.close()
