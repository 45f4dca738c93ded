"""The follow-up review report (回头看): every figure of a hand-built year against the arithmetic done by
hand (see ``report_year.py`` for the year's story), filters, the empty report, bad filters named with
close matches, and the text formats (JSON, Markdown, CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_year import NOW, G, H, M, P, T, W, build_year, year_engine

from workflow import Engine, ValidationError
from workflow.report_defs import rate
from workflow.reports import FollowupReport, format_for

R = dict[str, Any]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict[str, int]]]:
    with year_engine(tmp_path_factory.mktemp("year")) as built:
        yield built


@pytest.fixture
def eng(shared: tuple[Engine, dict[str, int]]) -> Engine:
    """The year's engine, shared by the tests that only read it."""
    return shared[0]


@pytest.fixture
def year(shared: tuple[Engine, dict[str, int]]) -> dict[str, int]:
    return shared[1]


@pytest.fixture(scope="module")
def report(shared: tuple[Engine, dict[str, int]]) -> FollowupReport:
    return shared[0].report("followup", now=NOW)


def r(numerator: int, denominator: int, percent: str) -> R:
    return {
        "value": numerator / denominator if denominator else None,
        "numerator": numerator,
        "denominator": denominator,
        "percent": percent,
    }


def test_rates_print_two_decimals_and_a_dash_for_nothing() -> None:
    """A rate keeps its numerator and denominator; 49 of 89 prints as 55.06%, and a rate over nothing is
    "—" with no value (never a division by zero)."""
    assert rate(49, 89) == {"value": 49 / 89, "numerator": 49, "denominator": 89, "percent": "55.06%"}
    assert rate(0, 0) == {"value": None, "numerator": 0, "denominator": 0, "percent": "—"}
    assert rate(2, 3)["percent"] == "66.67%" and rate(1, 1)["percent"] == "100.00%"


def test_summary_figures_match_the_hand_count(report: FollowupReport, eng: Engine) -> None:
    """The summary's counts, rates and A/B/C/D mix are exactly what the definitions in the footnotes give."""
    d = report.data
    assert d["schema"] == "duban.followup/1" and d["empty"] is False
    assert d["office"] == eng.settings.office_name
    assert d["generated_at"] == "2026-09-01T10:00:00+08:00"
    s = d["summary"]
    assert s["items"] == 11  # S1-S9 and R1, R2
    # Kinds in name order, states in the order the definitions list them.
    assert [(x["kind"], x["state"], x["count"]) for x in s["by_stage"]] == [
        ("review_opinion", "assigned", 1),  # R2
        ("review_opinion", "second_review", 1),  # R1
        ("suggestion", "rejected", 1),  # S8
        ("suggestion", "handling", 2),  # S5, S7
        ("suggestion", "rehandling", 1),  # S6
        ("suggestion", "evaluated", 1),  # S4
        ("suggestion", "closed", 3),  # S1, S2, S3
        ("suggestion", "withdrawn", 1),  # S9
    ]
    assert s["by_stage"][3]["label"] == "办理中"
    rates = s["rates"]
    # Due a response by NOW: replied S1 S2 S3 S4 R1 (report), S6's two split parts (counted one per
    # part), plus S5 unreplied past 08-14 = 8.
    # On time: S1 05-06, S3 04-28, S4 07-20 (due 06-25 + one month's extension = 07-27), S6's parts
    # 06-01 and 06-05, R1 08-15: 6. Late: S2 06-23 10:00 (period ended 06-22 24:00), S5. Not yet due:
    # S7 (09-02), R2. S9 is withdrawn: not counted.
    assert rates["on_time"] == r(6, 8, "75.00%")
    # Assigned = S1-S7, R1, R2 = 9 (S8 rejected, S9 withdrawn); closed S1 S2 S3 = 3.
    assert rates["closed"] == r(3, 9, "33.33%")
    # Assigned suggestions S1-S7 = 7; met before or during: S1 (before), S3 (during), S7 (before) = 3.
    # S2 has only an after-handling contact.
    assert rates["contact"] == r(3, 7, "42.86%")
    # Rated (latest rating): S1 satisfied, S2 basically, S3 satisfied (after unsatisfied), S4 satisfied,
    # S6 unsatisfied = 5; satisfied or basically 4.
    assert rates["satisfaction"] == r(4, 5, "80.00%")
    # Promises: S1 kept; S3's 07-31 broken; S2's 08-31 unverified and past (overdue); S3's 2027 one open.
    # Kept 1 over kept + broken + overdue = 3.
    assert rates["promise_kept"] == r(1, 3, "33.33%")
    # Problems: R1 four (1 closed, 2 rectified, 3 in progress, 4 planned), R2 two open: 2 of 6.
    assert rates["rectified"] == r(2, 6, "33.33%")
    # Latest reply category: S1 B, S2 B, S3 B (its first reply was C), S4 D; S6's two parts A and A.
    assert s["grades"] == {"A": 2, "B": 3, "C": 0, "D": 1}
    assert s["counts"] == {
        "assigned": 9,
        "promises": {"kept": 1, "broken": 1, "overdue": 1, "open": 1},
        "problems": {"total": 6, "rectified": 2},
    }


def test_units_are_ranked_and_the_bottom_flagged(report: FollowupReport) -> None:
    """Per lead (or split) unit: items, replies on time, clocks overdue now and the longest, satisfaction,
    re-handled items; ranked by on-time rate, then satisfaction, overdue, longest overdue; the bottom three
    (at most half the ranked units) flagged."""
    rows = {u["unit"]: u for u in report.data["units"]}
    # T: S1 (on time) and S2 (late); S9 withdrawn does not count. Overdue: S2's promise, due 08-31, 1 day.
    # Satisfaction S1 satisfied, S2 basically satisfied: 2 of 2.
    assert rows[T] | {"rank": 0} == {
        "unit": T, "items": 2, "replied": 2, "replied_on_time": 1, "on_time": r(1, 2, "50.00%"),
        "overdue_now": 1, "longest_overdue_days": 1, "satisfaction": r(2, 2, "100.00%"),
        "attitude": r(0, 0, "—"), "rehandled": 0,
        "rank": 0, "flagged": True,
    }  # fmt: skip
    # H: S3 (replied 04-28, on time) and S7 (not due yet); S3 re-handled once, satisfied; nothing overdue.
    assert rows[H] | {"rank": 0} == {
        "unit": H, "items": 2, "replied": 1, "replied_on_time": 1, "on_time": r(1, 1, "100.00%"),
        "overdue_now": 0, "longest_overdue_days": 0, "satisfaction": r(1, 1, "100.00%"),
        "attitude": r(0, 0, "—"), "rehandled": 1,
        "rank": 0, "flagged": False,
    }  # fmt: skip
    # W: S4 (after the reassignment, on time with its extension) and S6 (split, on time). S6's re-handling
    # clock, due 07-20, is 43 days overdue on 09-01 (11 in July + 31 in August + 1). S4 satisfied, S6 not.
    assert rows[W] | {"rank": 0} == {
        "unit": W, "items": 2, "replied": 2, "replied_on_time": 2, "on_time": r(2, 2, "100.00%"),
        "overdue_now": 1, "longest_overdue_days": 43, "satisfaction": r(1, 2, "50.00%"),
        "attitude": r(0, 0, "—"), "rehandled": 1,
        "rank": 0, "flagged": False,
    }  # fmt: skip
    # M: only S6 (its S4 assignment was released by the reassignment; S1 it co-handles).
    assert rows[M] | {"rank": 0} == {
        "unit": M, "items": 1, "replied": 1, "replied_on_time": 1, "on_time": r(1, 1, "100.00%"),
        "overdue_now": 1, "longest_overdue_days": 43, "satisfaction": r(0, 1, "0.00%"),
        "attitude": r(0, 0, "—"), "rehandled": 1,
        "rank": 0, "flagged": False,
    }  # fmt: skip
    # P: S5, due 08-14, unreplied: 0 of 1 on time, 18 days overdue.
    assert rows[P] | {"rank": 0} == {
        "unit": P, "items": 1, "replied": 0, "replied_on_time": 0, "on_time": r(0, 1, "0.00%"),
        "overdue_now": 1, "longest_overdue_days": 18, "satisfaction": r(0, 0, "—"),
        "attitude": r(0, 0, "—"), "rehandled": 0,
        "rank": 0, "flagged": True,
    }  # fmt: skip
    # G: R1's report on time, R2's not due. Overdue: R1's problems 3 and 4 (due 08-31, 1 day) and R2's
    # rectification list (due 08-06, 26 days). R1 went to a second review.
    assert rows[G] | {"rank": 0} == {
        "unit": G, "items": 2, "replied": 1, "replied_on_time": 1, "on_time": r(1, 1, "100.00%"),
        "overdue_now": 3, "longest_overdue_days": 26, "satisfaction": r(0, 0, "—"),
        "attitude": r(0, 0, "—"), "rehandled": 1,
        "rank": 0, "flagged": True,
    }  # fmt: skip
    # Ranking: 100% on time: H (satisfaction 100%), W (50%), M (0%), G (none: after those with one);
    # then T (50% on time), P (0%). Six ranked units: the bottom min(3, 6 // 2) = 3 are flagged.
    assert [(u["rank"], u["unit"]) for u in report.data["units"]] == [(1, H), (2, W), (3, M), (4, G), (5, T), (6, P)]


def test_flagging_is_a_parameter(eng: Engine, year: dict[str, int]) -> None:
    """flag_bottom sets how many of the bottom units are flagged (never more than half of those ranked);
    flag_below flags every unit whose on-time rate is below it; both are shown in the report."""
    none = eng.report("followup", now=NOW, flag_bottom=0)
    assert not any(u["flagged"] for u in none.data["units"])
    below = eng.report("followup", now=NOW, flag_bottom=0, flag_below=0.6)
    assert {u["unit"] for u in below.data["units"] if u["flagged"]} == {T, P}  # 50% and 0% on time
    assert below.data["parameters"]["flag_below"] == 0.6
    many = eng.report("followup", now=NOW, flag_bottom=10)  # six ranked units: at most three flagged
    assert [u["unit"] for u in many.data["units"] if u["flagged"]] == [G, T, P]
    with pytest.raises(ValidationError) as err:
        eng.report("followup", flag_below=80)
    assert err.value.field == "flag_below"


def test_unsatisfied_items_round_by_round(report: FollowupReport, year: dict[str, int]) -> None:
    """Each suggestion ever rated unsatisfied, with each round's reply date and rating, and where it stands."""
    assert report.data["unsatisfied"] == [
        {
            "item_id": year["S3"],
            "title": "关于在实验中学门前修建过街天桥的建议",
            "units": [H],
            "rounds": [
                {"round": 1, "result": "unsatisfied", "result_label": "不满意", "replied_on": "2026-04-28"},
                {"round": 2, "result": "satisfied", "result_label": "满意", "replied_on": "2026-06-10"},
            ],
            "state": "closed",
            "state_label": "已办结",
        },
        {
            "item_id": year["S6"],
            "title": "关于推进医养结合的建议",
            "units": [M, W],
            "rounds": [
                # The item is replied when the second split unit replies (06-05), not the first (06-01).
                {"round": 1, "result": "unsatisfied", "result_label": "不满意", "replied_on": "2026-06-05"},
                {"round": 2, "result": "awaiting_reply", "result_label": "待答复", "replied_on": None},
            ],
            "state": "rehandling",
            "state_label": "重新办理",
        },
    ]


def test_promise_ledger_and_items_to_reopen(report: FollowupReport, year: dict[str, int]) -> None:
    """Every promise by its date with kept / broken / overdue / open; a closed item with a promise found
    broken (and not reopened since) is listed for re-handling with the reason."""
    rows = [
        (p["item_id"], p["what"], p["by"], p["status"], p["status_label"], p["verified_on"])
        for p in report.data["promises"]
    ]
    assert rows == [
        (year["S1"], "调整线路", "2026-06-30", "kept", "已落实", "2026-07-05"),
        (year["S3"], "7月底前开工", "2026-07-31", "broken", "未落实", "2026-08-10"),
        (year["S2"], "加密班次", "2026-08-31", "overdue", "逾期未落实", None),  # its period ended 08-31 24:00
        (year["S3"], "争取列入明年计划", "2027-03-31", "open", "未到期", None),
    ]
    assert [p["unit"] for p in report.data["promises"]] == [T, H, T, H]
    assert report.data["reopen"] == [
        {
            "item_id": year["S3"],
            "title": "关于在实验中学门前修建过街天桥的建议",
            "promise": "7月底前开工",
            "promise_id": report.data["promises"][1]["promise_id"],
            "by": "2026-07-31",
            "verified_on": "2026-08-10",
            "reason": "承诺事项“7月底前开工” (期限 2026-07-31) 于 2026-08-10 核实未落实: 尚未开工",
        }
    ]


def test_a_reopened_item_leaves_the_reopen_list(engine: Engine) -> None:
    """Once the follow-up review reopens the item, its broken promise no longer asks for a reopening."""
    year = build_year(engine)  # its own year: this test changes it
    engine.fire(year["S3"], "reopen", at=NOW, reason="回头看发现承诺未落实")
    data = engine.report("followup", now=NOW).data
    assert data["reopen"] == []
    s3 = next(x for x in data["unsatisfied"] if x["item_id"] == year["S3"])
    assert [x["result"] for x in s3["rounds"]] == ["unsatisfied", "satisfied", "awaiting_reply"]


def test_key_items_with_leaders_and_progress(report: FollowupReport, year: dict[str, int]) -> None:
    """Key supervised items list their supervising and case leaders, units and latest step."""
    assert report.data["key_items"] == [
        {
            "item_id": year["S3"],
            "title": "关于在实验中学门前修建过街天桥的建议",
            "supervising_leader": "刘副主任",
            "case_leader": "李文华",
            "state": "closed",
            "state_label": "已办结",
            "units": [H, P],
            "progress": "2026-08-10 核实承诺事项落实情况; 最近答复 B 类; 重新办理 1 轮",
        }
    ]


def test_review_opinions_with_problems_votes_and_second_reviews(report: FollowupReport, year: dict[str, int]) -> None:
    """Each review opinion: its problem list with each problem's status, the rectified share, the votes
    and whether it went to a second review."""
    r1, r2 = report.data["review_opinions"]
    assert (r1["item_id"], r1["state"], r1["second_review"]) == (year["R1"], "second_review", True)
    assert [(p["number"], p["status"], p["status_label"], p["due"]) for p in r1["problems"]] == [
        (1, "closed", "已销号", "2026-08-31"),
        (2, "rectified", "已整改", "2026-08-31"),
        (3, "in_progress", "整改中", "2026-08-31"),
        (4, "planned", "已制定整改措施", "2026-08-31"),
    ]
    assert (r1["rectified"], r1["total"], r1["rate"]) == (2, 4, r(2, 4, "50.00%"))
    # 21 unsatisfied of 39 votes is more than half: the vote failed.
    assert r1["votes"] == [
        {
            "round": 1,
            "satisfied": 10,
            "basically_satisfied": 8,
            "unsatisfied": 21,
            "result": "unsatisfactory",
            "result_label": "不满意",
            "on": "2026-08-26",
        }
    ]
    assert (r2["item_id"], r2["state"], r2["second_review"], r2["votes"]) == (year["R2"], "assigned", False, [])
    assert [(p["number"], p["status"], p["due"]) for p in r2["problems"]] == [(1, "open", None), (2, "open", None)]
    assert (r2["rectified"], r2["total"], r2["rate"]) == (0, 2, r(0, 2, "0.00%"))


def test_overdue_now_lists_every_open_clock_past_due(report: FollowupReport, year: dict[str, int]) -> None:
    """Every open clock whose period has ended by the report's instant, oldest first, with days overdue and
    the escalation level reached; a withdrawn item's leftover clock is not chased."""
    rows = [(o["item_id"], o["clock"], o["subject_label"], o["unit"], o["due"], o["days_overdue"], o["level"])
            for o in report.data["overdue"]]  # fmt: skip
    assert rows == [
        # Re-handling (1 month from 06-20): level 1 at 07-21 00:00, 2 after 5 working days (07-27),
        # 3 after 10 (08-03). Counted against both split units.
        (year["S6"], "rehandle_reply", "", f"{W}、{M}", "2026-07-20", 43, 3),
        # Rectification list (1 month from 07-06): level 2 after 5 working days (08-13).
        (year["R2"], "rectification_plan", "", G, "2026-08-06", 26, 2),
        # Reply (3 months from 05-14): level 2 after 5 working days (08-21); level 3 (15 working days,
        # 09-04) not yet.
        (year["S5"], "reply", "", P, "2026-08-14", 18, 2),
        # Due 08-31 (a Monday): level 1 at 09-01 00:00; level 2 is a month (promise) or 10 working days away.
        (year["S2"], "promise", f"承诺事项 {report.data['promises'][2]['promise_id']}", T, "2026-08-31", 1, 1),
        (year["R1"], "problem", "问题 3", G, "2026-08-31", 1, 1),
        (year["R1"], "problem", "问题 4", G, "2026-08-31", 1, 1),
    ]
    assert report.data["overdue"][2]["label"] == "答复期限"


def test_items_ledger(report: FollowupReport, year: dict[str, int]) -> None:
    """One row per item: units, state, reply due date (after extensions), reply date, on time or not (None
    while not yet due), latest category and rating, and the submission fields an import reads back."""
    rows = {i["item_id"]: i for i in report.data["items"]}
    assert len(rows) == 11
    got = {name: (rows[i]["reply_due"], rows[i]["replied_on"], rows[i]["on_time"]) for name, i in year.items()}
    assert got == {
        "S1": ("2026-06-22", "2026-05-06", True),  # 03-20 + 3 months = 06-20, a Saturday in the Dragon Boat holiday
        "S2": ("2026-06-22", "2026-06-23", False),
        "S3": ("2026-06-22", "2026-04-28", True),
        "S4": ("2026-07-27", "2026-07-20", True),  # 03-25 + 3 months = 06-25, + 1 month = 07-25 (Sat) → 07-27
        "S5": ("2026-08-14", None, False),
        "S6": ("2026-07-01", "2026-06-05", True),
        "S7": ("2026-09-02", None, None),
        "S8": (None, None, None),
        "S9": (None, None, None),  # withdrawn: its stopped clock is not a reply
        "R1": ("2026-11-12", "2026-08-15", True),  # the written report, 6 months from 05-12
        "R2": ("2027-01-06", None, None),
    }
    s6 = rows[year["S6"]]
    assert (s6["units"], s6["co_units"], s6["round"], s6["category"], s6["result_label"]) == (
        [M, W],
        [],
        2,
        "A、A",  # a split item: each part's category, in the order of its units
        "不满意",
    )
    s1 = rows[year["S1"]]
    assert (s1["proposers"], s1["session"], s1["units"], s1["co_units"]) == (["王芳"], "市十五届人大五次会议", [T], [M])
    assert rows[year["S3"]]["key_supervised"] is True and rows[year["S7"]]["session"] is None


def test_filters_select_the_items(eng: Engine, year: dict[str, int]) -> None:
    """year, session, date range, kind, unit, key-only and state each narrow the selection, together
    with AND; the filters are shown in the report."""

    def ids(**filters: Any) -> list[int]:
        return [i["item_id"] for i in eng.report("followup", now=NOW, **filters).data["items"]]

    everything = sorted(year.values())
    assert ids(year=2026) == everything
    assert ids(session="市十五届人大五次会议") == sorted(
        year[n] for n in ("S1", "S2", "S3", "S4", "S5", "S6", "S8", "S9")
    )
    assert ids(date_from="2026-06-01") == [year["S7"], year["R2"]]  # submitted 06-01 and 06-26
    assert ids(date_from="2026-04-01", date_to="2026-04-30") == [year["R1"]]  # 04-28
    assert ids(**{"from": "2026-06-26", "to": "2026-06-26"}) == [year["R2"]]
    assert ids(kind="review_opinion") == [year["R1"], year["R2"]]
    assert ids(units=[T]) == [year["S1"], year["S2"], year["S9"]]  # lead of S1, S2 and the withdrawn S9
    assert ids(unit=M) == [year["S1"], year["S6"]]  # co-unit of S1, split unit of S6 (S4's was released)
    assert ids(key_only=True) == [year["S3"]]
    assert ids(state="handling") == [year["S5"], year["S7"]]
    assert ids(kind="suggestion", state="closed", units=[T]) == [year["S1"], year["S2"]]
    data = eng.report("followup", now=NOW, kind="review_opinion", units=[G]).data
    assert data["filters"] == {
        "year": None, "session": None, "from": None, "to": None, "kind": "review_opinion", "units": [G],
        "key_only": False, "state": None,
    }  # fmt: skip
    # Only review opinions: on time R1 1 of 1, closed 0 of 2, no contacts, ratings or promises, 2 of 6.
    rates = data["summary"]["rates"]
    assert rates["on_time"] == r(1, 1, "100.00%") and rates["closed"] == r(0, 2, "0.00%")
    assert rates["contact"] == rates["satisfaction"] == rates["promise_kept"] == r(0, 0, "—")
    assert rates["rectified"] == r(2, 6, "33.33%")
    assert [u["unit"] for u in data["units"]] == [G]  # the unit table keeps to the units asked for


def test_an_empty_selection_is_a_report_that_says_so(eng: Engine, year: dict[str, int]) -> None:
    """Nothing selected: empty is true, every rate is "—" (no division by zero), every ledger is empty,
    and each text format says there is nothing."""
    report = eng.report("followup", now=NOW, year=2025)
    d = report.data
    assert d["empty"] is True and d["summary"]["items"] == 0 and d["summary"]["by_stage"] == []
    assert all(x == r(0, 0, "—") for x in d["summary"]["rates"].values())
    assert d["summary"]["grades"] == {"A": 0, "B": 0, "C": 0, "D": 0}
    for key in ("units", "items", "unsatisfied", "promises", "reopen", "key_items", "review_opinions", "overdue"):
        assert d[key] == [], key
    assert "本次筛选没有任何事项" in str(report.render("md"))
    assert json.loads(report.render("json")) == d
    assert list(csv.reader(io.StringIO(str(report.render("csv"))))) == [[h for _, h in _columns()]]


def test_an_empty_database_reports_nothing(engine: Engine) -> None:
    """A report on a database with no items at all is an empty report, not an error."""
    assert engine.report("followup").data["empty"] is True


@pytest.mark.parametrize(
    ("filters", "field", "hint"),
    [
        ({"kind": "sugestion"}, "kind", "'suggestion'"),
        ({"units": ["市交通局"]}, "units", f"'{T}'"),
        ({"unit": "市民证局"}, "units", f"'{M}'"),
        ({"state": "handlin"}, "state", "'handling'"),
        ({"kind": "suggestion", "state": "second_review"}, "state", "states: "),
        ({"session": "市十五届人大五次"}, "session", "'市十五届人大五次会议'"),
        ({"date_from": "2026-02-30"}, "from", "YYYY-MM-DD"),
        ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, "from", "after the end"),
        ({"year": "2026"}, "year", "2026"),
        ({"yaer": 2026}, "yaer", "'year'"),
        ({"now": "2026-09-01"}, "now", "timezone-aware"),
        ({"flag_bottom": -1}, "flag_bottom", "0 or more"),
    ],
)
def test_bad_filters_are_named_with_close_matches(eng: Engine, filters: dict[str, Any], field: str, hint: str) -> None:
    """An unknown kind, unit, state, session or option, or a bad date, is a ValidationError naming the
    filter and offering the close matches."""
    with pytest.raises(ValidationError) as err:
        eng.report("followup", **filters)
    assert err.value.field == field
    assert hint in str(err.value)


def test_unknown_report_name(engine: Engine) -> None:
    """Engine.report names the reports it has."""
    with pytest.raises(ValidationError, match="followup"):
        engine.report("annual")


def test_summary_only(eng: Engine, year: dict[str, int]) -> None:
    """ledgers=False computes the same summary and unit table without listing rows."""
    full = eng.report("followup", now=NOW).data
    lean = eng.report("followup", now=NOW, ledgers=False).data
    assert lean["summary"] == full["summary"] and lean["units"] == full["units"]
    assert lean["ledgers"] is False and lean["items"] == lean["overdue"] == lean["promises"] == []


# ---- formats --------------------------------------------------------------------------------

#: The documented schema (docs/followup-report.md): keys at each level.
TOP = {
    "schema", "title", "office", "generated_at", "filters", "parameters", "empty", "ledgers", "summary", "units",
    "items", "unsatisfied", "promises", "reopen", "key_items", "review_opinions", "overdue", "footnotes",
}  # fmt: skip
SUMMARY = {"items", "by_stage", "rates", "grades", "counts"}
RATES = {"on_time", "closed", "contact", "satisfaction", "attitude", "promise_kept", "rectified"}
RATE = {"value", "numerator", "denominator", "percent"}
ROWS = {
    "units": {
        "unit", "items", "replied", "replied_on_time", "on_time", "overdue_now", "longest_overdue_days",
        "satisfaction", "attitude", "rehandled", "rank", "flagged",
    },
    "items": {
        "item_id", "kind", "number", "title", "proposers", "lead_deputy", "session", "body", "suggested_units",
        "submitted_on", "units", "co_units", "state", "state_label", "key_supervised", "round", "reply_due",
        "replied_on", "on_time", "category", "result", "result_label",
    },
    "unsatisfied": {"item_id", "title", "units", "rounds", "state", "state_label"},
    "promises": {
        "promise_id", "item_id", "title", "unit", "what", "by", "round", "status", "status_label", "verified_on",
        "note",
    },
    "reopen": {"item_id", "title", "promise", "promise_id", "by", "verified_on", "reason"},
    "key_items": {"item_id", "title", "supervising_leader", "case_leader", "state", "state_label", "units", "progress"},
    "review_opinions": {
        "item_id", "title", "units", "state", "state_label", "problems", "rectified", "total", "rate", "votes",
        "second_review",
    },
    "overdue": {
        "item_id", "title", "unit", "clock", "label", "subject", "subject_label", "due", "days_overdue", "level",
    },
}  # fmt: skip


def test_json_round_trips_with_the_documented_keys(report: FollowupReport) -> None:
    """The JSON is the data, keys exactly as documented, dates as ISO strings; reading it back gives the data."""
    text = report.render("json")
    assert isinstance(text, str)
    back = json.loads(text)
    assert back == report.data and set(back) == TOP
    assert set(back["summary"]) == SUMMARY and set(back["summary"]["rates"]) == RATES
    assert all(set(x) == RATE for x in back["summary"]["rates"].values())
    assert set(back["filters"]) == {"year", "session", "from", "to", "kind", "units", "key_only", "state"}
    for key, columns in ROWS.items():
        assert back[key], key
        assert all(set(row) == columns for row in back[key]), key
    ro = back["review_opinions"][0]
    assert set(ro["problems"][0]) == {"number", "title", "status", "status_label", "due", "measure", "owner"}
    assert set(ro["votes"][0]) == {
        "round", "satisfied", "basically_satisfied", "unsatisfied", "result", "result_label", "on",
    }  # fmt: skip
    assert set(back["unsatisfied"][0]["rounds"][0]) == {"round", "result", "result_label", "replied_on"}
    for name in ("on_time", "closed", "contact", "satisfaction", "promise_kept", "rectified", "units.rank"):
        assert back["footnotes"][name], name


def test_docs_describe_every_key() -> None:
    """docs/followup-report.md names every key of the schema, so integrators can rely on it."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "followup-report.md").read_text(encoding="utf-8")
    for key in TOP | SUMMARY | RATES | RATE | set().union(*ROWS.values()):
        assert f"`{key}`" in doc, key


def _columns() -> tuple[tuple[str, str], ...]:
    from workflow.report_text import ITEM_COLUMNS

    return ITEM_COLUMNS


def test_csv_is_the_items_ledger(report: FollowupReport, year: dict[str, int], tmp_path: Path) -> None:
    """CSV is the items ledger, one row per item under Chinese headings; the file starts with a BOM so
    that Excel reads the Chinese, lists are joined with 、 and booleans are 是/否."""
    path = tmp_path / "ledger.csv"
    assert report.write(path) == "csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [h for _, h in _columns()] and len(rows) == 12
    by_id = {int(row[0]): dict(zip([k for k, _ in _columns()], row, strict=True)) for row in rows[1:]}
    s6 = by_id[year["S6"]]
    assert (s6["units"], s6["state_label"], s6["on_time"], s6["category"], s6["result_label"]) == (
        f"{M}、{W}", "重新办理", "是", "A、A", "不满意"
    )  # fmt: skip
    assert (by_id[year["S2"]]["on_time"], by_id[year["S7"]]["on_time"], by_id[year["S3"]]["key_supervised"]) == (
        "否", "", "是"
    )  # fmt: skip


def test_markdown_has_every_section_and_the_definitions(report: FollowupReport) -> None:
    """The Markdown report carries the figures, the unit ranking, each ledger and every footnote."""
    text = report.render("md")
    assert isinstance(text, str)
    for needle in (
        "# 代表建议和审议意见办理情况回头看报告",
        "| 按期答复率 | 75.00% | 6 | 8 |",
        "| 整改率 | 33.33% | 2 | 6 |",
        f"| 6 | {P} | 1 | 0 | 0 | 0.00% | 1 | 18 | — | — | 0 | ⚑ |",
        "第1轮 答复 2026-04-28 不满意; 第2轮 答复 2026-06-10 满意",
        "问题整改 2/4 = 50.00%; 二次审议",
        "## 逾期未办",
        "重新办理答复期限",
    ):
        assert needle in text, needle
    assert all(f"- {note}" in text.splitlines() for note in report.data["footnotes"].values())


def test_format_follows_the_extension() -> None:
    """The format is the one given, else the file's extension; an unknown one is named."""
    assert format_for(Path("r.HTML")) == "html" and format_for(Path("r.xlsx")) == "xlsx"
    assert format_for(Path("r.md"), "json") == "json" and format_for(None) == "md"
    with pytest.raises(ValidationError, match="cannot tell the format"):
        format_for(Path("r.txt"))
    with pytest.raises(ValidationError, match="'docx'"):
        format_for(None, "docxx")
