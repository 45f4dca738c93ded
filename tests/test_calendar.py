"""Reading legal periods as written in Chinese and English."""

from __future__ import annotations

import pytest

from workflow.calendar import Period, PeriodError, parse_period


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("3 months", Period(3, "months")),
        ("3个月", Period(3, "months")),
        ("6 个月", Period(6, "months")),
        ("7 working days", Period(7, "working_days")),
        ("7个工作日", Period(7, "working_days")),
        ("20 days", Period(20, "days")),
        ("1 year", Period(1, "years")),
        ("1 month", Period(1, "months")),
    ],
)
def test_periods_in_both_languages(text: str, period: Period) -> None:
    """The period forms of the law and of local rules are read into amount and unit."""
    assert parse_period(text) == period


def test_periods_print_back_in_both_languages() -> None:
    """A period prints as English for configs and as Chinese for notices."""
    assert (str(Period(1, "months")), str(Period(7, "working_days"))) == ("1 month", "7 working days")
    assert (Period(3, "months").chinese, Period(7, "working_days").chinese) == ("3个月", "7个工作日")


@pytest.mark.parametrize("text", ["3 fortnights", "months", "0 days", "-1 months", "三个月", ""])
def test_unreadable_periods_say_how_to_write_one(text: str) -> None:
    """Anything else is a PeriodError that shows valid examples or why the number is wrong."""
    with pytest.raises(PeriodError, match=r"3 months|positive"):
        parse_period(text)
