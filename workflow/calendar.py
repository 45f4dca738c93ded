"""Periods as the law writes them ("3 months", "3个月", "7 working days", "7个工作日").

Only parsing lives here so far; the period arithmetic of 民法典 201-203 on the official
calendar comes with the statutory clocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Period", "PeriodError", "parse_period"]

Unit = Literal["days", "working_days", "months", "years"]

_UNITS: dict[str, Unit] = {
    "day": "days",
    "days": "days",
    "天": "days",
    "日": "days",
    "working day": "working_days",
    "working days": "working_days",
    "workday": "working_days",
    "workdays": "working_days",
    "工作日": "working_days",
    "个工作日": "working_days",
    "month": "months",
    "months": "months",
    "个月": "months",
    "月": "months",
    "year": "years",
    "years": "years",
    "年": "years",
}
_PATTERN = re.compile(r"^\s*(\d{1,4})\s*([^\d\s].*?)\s*$")
_LABELS: dict[Unit, str] = {"days": "日", "working_days": "个工作日", "months": "个月", "years": "年"}


class PeriodError(ValueError):
    """A period string could not be read."""


@dataclass(frozen=True, slots=True)
class Period:
    """A legal period: a positive whole number of days, working days, months or years."""

    amount: int
    unit: Unit

    def __str__(self) -> str:
        unit = self.unit.replace("_", " ")
        return f"{self.amount} {unit[:-1] if self.amount == 1 else unit}"

    @property
    def chinese(self) -> str:
        return f"{self.amount}{_LABELS[self.unit]}"


def parse_period(text: str) -> Period:
    """Read "3 months", "6个月", "7 working days", "7个工作日", "20 days" or "1 year"."""
    match = _PATTERN.match(str(text))
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise PeriodError(
            f"cannot read the period {text!r}: write a whole number and a unit, e.g. "
            '"3 months", "3个月", "7 working days", "7个工作日", "20 days" or "1 year"'
        )
    amount = int(match.group(1))
    if amount <= 0:
        raise PeriodError(f"the period {text!r} must be a positive number of {unit.replace('_', ' ')}")
    return Period(amount, unit)
