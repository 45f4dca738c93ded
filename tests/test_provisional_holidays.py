"""Provisional years (no State Council notice loaded) still rest on the statutory holidays."""

import datetime as dt

import pytest

from workflow.calendar import Calendar

D = dt.date


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return Calendar.load()


def test_two_months_from_2026_12_05_skips_chunjie(cal: Calendar) -> None:
    """2026-12-05 + 2 months lands 2027-02-05 (除夕) and rolls past 春节 to 02-09, provisional."""
    due = cal.due(D(2026, 12, 5), "2 months")
    assert due.due == D(2027, 2, 9)
    assert due.provisional
    assert "春节法定假日（农历正月初三，放假安排尚未公布，暂定）" in cal.day(D(2027, 2, 8)).reason


def test_three_months_from_2026_11_30(cal: Calendar) -> None:
    """2026-11-30 + 3 months is 2027-03-01, still provisional."""
    due = cal.due(D(2026, 11, 30), "3 months")
    assert due.due == D(2027, 3, 1)
    assert due.provisional


@pytest.mark.parametrize(
    "date",
    [D(2027, 2, 5), D(2027, 2, 8), D(2027, 4, 5), D(2027, 6, 9), D(2027, 9, 15), D(2030, 2, 4), D(2030, 2, 5)],
)
def test_statutory_days_are_rest(cal: Calendar, date: dt.date) -> None:
    """Each lunar/solar-term statutory day of a provisional year is a rest day."""
    assert not cal.is_working_day(date)
    assert cal.day(date).provisional


def test_cross_check_against_official_years(cal: Calendar) -> None:
    """Every day the law in force that year made statutory is a rest day in the official calendars:
    2025 rules (除夕-初三, 5-01/02) from 2025; 初一-初三 always; 清明/端午/中秋 from 2008."""
    from workflow.calendar import _lunar_holidays

    for year in cal.years:
        for date, name in _lunar_holidays(year).items():
            if year < 2008 and not name.startswith("春节"):
                continue
            if year < 2025 and "除夕" in name:
                continue
            assert not cal.is_working_day(date), (date, name)


def test_far_future_degrades_without_crash(cal: Calendar) -> None:
    """A date far in the future still gets a day (weekends and fixed holidays at least)."""
    assert cal.day(D(9999, 12, 31)).provisional
    assert not cal.is_working_day(D(9999, 1, 1))


def test_provisional_note_mentions_lunar_holidays(cal: Calendar) -> None:
    """The provisional note says statutory (incl. lunar) holidays count, not only weekends/fixed dates."""
    text = cal.due(D(2026, 12, 5), "2 months").explanation
    assert "仅按周末" not in text
    assert "含农历节日" in text
    assert "春节法定假日（农历除夕，放假安排尚未公布，暂定）" in text


def test_working_days_across_chunjie_2027(cal: Calendar) -> None:
    """Working-day periods skip 除夕-初三 in a provisional year: 2027-02-03 + 3 working days = 02-10."""
    due = cal.due(D(2027, 2, 3), "3 working days")
    assert due.due == D(2027, 2, 10)
    assert due.provisional
