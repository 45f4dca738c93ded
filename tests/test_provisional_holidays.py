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
