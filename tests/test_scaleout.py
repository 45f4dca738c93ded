"""Several sweepers on one database, and sweepers killed mid-sweep: every level once, nothing lost.

Real processes, not threads: on PostgreSQL (``DUBAN_TEST_DB``) four sweepers share the database;
on SQLite two share one file. Each test prints its figure.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import random
from collections import Counter

import sqlalchemy as sa
from conftest import SPAWN, T0, UNITS, in_processes, to_handling

from workflow import Engine
from workflow.channels import Settings
from workflow.store import TABLES, reading
from workflow.testing import FakeClock, clone_items

OVERDUE = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
LEASE = 300.0
ON_POSTGRES = bool(os.environ.get("DUBAN_TEST_DB"))
SETTINGS = Settings(office_address="office@rd.gov.cn")
_AUDIT = TABLES["duban_audit"]
STEPS = 5  # the reply clock at OVERDUE: reminders 15 and 3 days before, escalation levels 1, 2 and 3


def _engine(url: str, clock: FakeClock | None = None) -> Engine:
    return Engine(url, clock=clock, settings=SETTINGS, migrate=clock is not None)


def _populate(url: str, n: int) -> Engine:
    """*n* items assigned to one lead unit on T0, all overdue at OVERDUE with every level earned."""
    eng = _engine(url, FakeClock(T0))
    for name in UNITS:
        contacts = {r: f"{r}@{name}.gov.cn" for r in ("handler", "department_head", "principal_leader")}
        eng.add_party(
            "unit", name, principal_leader="张局长", department_head="李处长", handler="王科员", contacts=contacts
        )
    template = to_handling(eng, co_units=())
    clone_items(eng, template.id, n - 1)
    return eng


def _reference_notices() -> int:
    """How many notices one such item gets when swept once, undisturbed, in a private database."""
    eng = _populate("sqlite://", 1)
    return eng.sweep(OVERDUE, dispatch=False).counts["notices"]


def _sweep_until_done(url: str, worker: str, now: str, batch: int, out: mp.Queue) -> None:
    eng = _engine(url)
    total: Counter[str] = Counter()
    while True:
        counts = eng.sweep(
            dt.datetime.fromisoformat(now), batch=batch, dispatch=False, worker=worker, lease=LEASE
        ).counts
        total.update(counts)
        if counts["claimed"] == 0:
            break
    eng.close()
    out.put((worker, dict(total)))


def _check_exactly_once(eng: Engine, n: int) -> dict[str, int]:
    """Every item escalated once per level in order, every step once, no lease left, notices as
    for an undisturbed sweep; returns the figures."""
    with eng.db.connect() as conn:
        per_item = conn.execute(
            sa.text("SELECT item_id, count(*) FROM duban_audit WHERE \"trigger\" = 'escalate' GROUP BY item_id")
        ).all()
        steps = conn.execute(sa.text("SELECT count(*), count(DISTINCT deadline_id) FROM duban_deadline_step")).one()
        pairs = conn.execute(
            sa.text("SELECT count(*) FROM (SELECT DISTINCT deadline_id, step FROM duban_deadline_step) AS s")
        ).scalar_one()
        leases = conn.execute(sa.text("SELECT count(*) FROM duban_deadline WHERE claimed_by IS NOT NULL")).scalar_one()
        unfinished = conn.execute(
            sa.text("SELECT count(*) FROM duban_deadline WHERE state = 'running' AND next_step <> :n"), {"n": STEPS}
        ).scalar_one()
        # the template item's own assign notice was not cloned: only the sweep's notices count
        notices = conn.execute(
            sa.text("SELECT item_id, count(*) FROM duban_notice WHERE cause LIKE 'deadline:%' GROUP BY item_id")
        ).all()
        keys = conn.execute(
            sa.text("SELECT count(*), count(DISTINCT key) FROM duban_notice WHERE cause LIKE 'deadline:%'")
        ).one()
        order = conn.execute(
            sa.select(_AUDIT.c.item_id, _AUDIT.c.data).where(_AUDIT.c.trigger == "escalate").order_by(_AUDIT.c.seq)
        ).all()
    assert len(per_item) == n and {c for _, c in per_item} == {3}, "each item escalated exactly once per level"
    assert steps[0] == pairs == n * STEPS and steps[1] == n, "each (deadline, step) produced exactly once"
    assert leases == 0 and unfinished == 0, "no deadline left claimed or behind"
    expected = _reference_notices()
    assert len(notices) == n and {c for _, c in notices} == {expected}, "every item told exactly as an undisturbed one"
    assert keys[0] == keys[1] == n * expected
    levels: dict[int, list[int]] = {}
    for item_id, data in order:
        levels.setdefault(item_id, []).append(data["level"])
    assert {tuple(v) for v in levels.values()} == {(1, 2, 3)}, "levels recorded in order"
    return {"items": n, "escalations": 3 * n, "steps": steps[0], "notices": keys[0], "duplicates": keys[0] - keys[1]}


def test_several_sweepers_on_one_database_escalate_every_item_exactly_once_per_level(db_url: str) -> None:
    """Four sweeper processes on PostgreSQL (two on one SQLite file) over 20,000 overdue items:
    each item escalated once per level, in order, no notice queued twice, and the work is shared."""
    n, workers = 20_000, (4 if ON_POSTGRES else 2)
    eng = _populate(db_url, n)
    results = dict(
        in_processes(
            _sweep_until_done, [(db_url, f"daemon-{i}", OVERDUE.isoformat(), 500) for i in range(workers)], timeout=600
        )
    )
    figures = _check_exactly_once(eng, n)
    claimed = {w: r["claimed"] for w, r in results.items()}
    assert sum(claimed.values()) == n, "each deadline claimed once in all"
    assert sum(r["escalations"] for r in results.values()) == 3 * n
    assert all(c > 0 for c in claimed.values()), f"every sweeper took a share: {claimed}"
    print(f"\n{workers} sweepers, {figures}, claimed per sweeper {claimed}")
    eng.close()


def _sweep_forever(url: str, worker: str, now: str, out: mp.Queue) -> None:
    eng = _engine(url)
    out.put(worker)
    while eng.sweep(dt.datetime.fromisoformat(now), batch=25, dispatch=False, worker=worker, lease=LEASE).counts[
        "claimed"
    ]:
        pass
    eng.close()


def _progress(eng: Engine, worker: str) -> tuple[int, int]:
    with reading(eng.db) as conn:
        steps = conn.execute(sa.text("SELECT count(*) FROM duban_deadline_step")).scalar_one()
        held = conn.execute(
            sa.text("SELECT count(*) FROM duban_deadline WHERE claimed_by = :w"), {"w": worker}
        ).scalar_one()
    return steps, held


def test_a_sweeper_killed_at_random_points_twenty_times_loses_and_doubles_nothing(db_url: str) -> None:
    """A sweeper SIGKILLed at random points of a sweep (right after its claim, or mid-batch) and
    restarted 20 times: once the leases it held have expired, a later sweep finishes the work;
    nothing is lost, nothing doubled, nothing left claimed."""
    n = 1_000
    eng = _populate(db_url, n)
    rng = random.Random(20261122)
    kills = 0
    for k in range(20):
        # Each restart sweeps a lease later: what the killed one held has expired by then.
        now = (OVERDUE + dt.timedelta(seconds=(LEASE + 1) * k)).isoformat()
        worker = f"victim-{k}"
        ready: mp.Queue = SPAWN.Queue()
        proc = SPAWN.Process(target=_sweep_forever, args=(db_url, worker, now, ready))
        proc.start()
        ready.get(timeout=120)
        start, _ = _progress(eng, worker)
        wanted = rng.choice([0, 0, rng.randrange(1, 60), rng.randrange(60, 200)])
        while proc.is_alive():
            steps, held = _progress(eng, worker)
            if (wanted == 0 and held) or (wanted and steps - start >= wanted):
                break
        if proc.is_alive():
            proc.kill()
            kills += 1
        proc.join()
    assert kills == 20, "every run was killed in the middle of its sweep"
    final = eng.sweep(OVERDUE + dt.timedelta(seconds=(LEASE + 1) * 21), dispatch=False, worker="survivor")
    figures = _check_exactly_once(eng, n)
    assert eng.verify_audit() == []
    print(f"\nkills survived {kills}, final sweep took over {final.counts['claimed']} deadlines, {figures}")
    eng.close()
