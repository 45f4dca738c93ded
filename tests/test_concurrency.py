"""Concurrent fires from separate processes: no lost update, no broken chain, conflicts named."""

from __future__ import annotations

import multiprocessing as mp

from conftest import in_processes, to_handling

from workflow import Actor, ConflictError, Engine


def _fire_at_version(url: str, item_id: int, version: int, opinion: str, out: mp.Queue) -> None:
    try:
        eng = Engine(url, migrate=False)
        eng.fire(
            item_id, "submit_co_opinion", actor=Actor("unit", "市民政局"), opinion=opinion, expected_version=version
        )
        out.put(("won", opinion))
        eng.close()
    except ConflictError as exc:
        out.put(("conflict", str(exc)))
    except Exception as exc:  # report, so that the test fails with the reason instead of waiting
        out.put(("error", repr(exc)))


def _hammer(url: str, item_id: int, count: int, out: mp.Queue) -> None:
    done = conflicts = 0
    try:
        eng = Engine(url, migrate=False)
        for _ in range(count):
            try:
                eng.fire(item_id, "record_contact", actor=Actor("unit", "市交通运输局"), stage="during", method="phone")
                done += 1
            except ConflictError:
                conflicts += 1
        eng.close()
    except Exception as exc:  # report, so that the test fails with the reason instead of waiting
        out.put((-1, repr(exc)))
        return
    out.put((done, conflicts))


def test_two_processes_firing_on_the_same_version_one_wins(engine: Engine) -> None:
    """Two processes that read the same version both fire: one wins, the other gets ConflictError."""
    item = to_handling(engine)
    results = sorted(
        in_processes(_fire_at_version, [(engine.url, item.id, item.version, name) for name in ("甲", "乙")])
    )
    assert [r[0] for r in results] == ["conflict", "won"]
    winner = results[1][1]
    detail = engine.get(item.id)
    assert detail.version == item.version + 1
    assert [a["opinion"] for a in detail.assignments if a["role"] == "co"] == [winner]
    assert engine.verify_audit() == []


def test_concurrent_fires_lose_no_update(engine: Engine) -> None:
    """Four processes firing 25 times each on one item: every success is in the version and the chain."""
    item = to_handling(engine)
    results = in_processes(_hammer, [(engine.url, item.id, 25)] * 4, timeout=300)
    assert all(done >= 0 for done, _ in results), results
    succeeded = sum(done for done, _ in results)
    assert succeeded + sum(c for _, c in results) == 100 and succeeded > 0
    detail = engine.get(item.id)
    assert detail.version == item.version + succeeded
    assert len(detail.contacts) == succeeded
    assert [h.seq for h in detail.history] == list(range(1, len(detail.history) + 1))
    assert engine.verify_audit() == []
