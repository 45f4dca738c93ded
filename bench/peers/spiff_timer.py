"""SpiffWorkflow's BPMN timer arithmetic as a deadline calculator: an ISO-8601 duration from a start.

A BPMN author would put a duration timer (``timeDuration``) on the step, e.g. ``P3M`` for "3 months".
When the timer task is reached, ``DurationTimerEventDefinition.has_fired`` computes its due instant
as ``datetime.now(timezone.utc) + get_timedelta_from_start(parse_iso_duration(expression))``.
:class:`SpiffTimer` calls those two static methods of
``SpiffWorkflow.bpmn.specs.event_definitions.timer.TimerEventDefinition`` the same way, with the
start at 00:00 Asia/Shanghai of the start date (as an aware UTC datetime, as the engine uses), and
takes the Asia/Shanghai date of the result.

``get_timedelta_from_start`` turns months into days by adding the lengths of the months counted from
the start's month (in UTC): the corresponding day when it exists, an overflow into the next month when
it does not (2026-01-31 + P1M = +31 days = 2026-03-03). ISO-8601 has no working days and SpiffWorkflow
no holiday calendar, so "7 working days" is written ``P7D`` as a BPMN author would, and nothing rolls
past a rest day.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from workflow.calendar import parse_period

__all__ = ["SpiffTimer", "iso_duration"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
_DESIGNATORS = {"days": "D", "working_days": "D", "months": "M", "years": "Y"}


def iso_duration(period: str) -> str:
    """The ISO-8601 duration a BPMN author would write: "3 months" -> P3M, "7 working days" -> P7D."""
    p = parse_period(period)
    return f"P{p.amount}{_DESIGNATORS[p.unit]}"


class SpiffTimer:
    name = "spiff_timer"
    uses = (
        "SpiffWorkflow TimerEventDefinition.parse_iso_duration + get_timedelta_from_start "
        "(what DurationTimerEventDefinition.has_fired does), start 00:00 Asia/Shanghai as UTC; "
        "working days written PnD"
    )

    def __init__(self) -> None:
        self._iso: dict[str, str] = {}

    def expression(self, period: str) -> str:
        iso = self._iso.get(period)
        if iso is None:
            iso = self._iso[period] = iso_duration(period)
        return iso

    def due(self, start: dt.date, period: str) -> dt.date:
        began = dt.datetime.combine(start, dt.time(), SHANGHAI).astimezone(dt.UTC)
        parsed = TimerEventDefinition.parse_iso_duration(self.expression(period))
        fires = began + TimerEventDefinition.get_timedelta_from_start(parsed, began)
        return fires.astimezone(SHANGHAI).date()

    def why(self, start: dt.date, period: str, got: dt.date) -> tuple[str, str] | None:
        """(category, explanation) for a month result that is neither the law's raw date nor an overflow."""
        began = dt.datetime.combine(start, dt.time(), SHANGHAI).astimezone(dt.UTC)
        if began.month != start.month:
            return "month lengths of the UTC month", (
                f"00:00 +08:00 is {began:%Y-%m-%d %H:%M} UTC, so {self.expression(period)} adds the lengths of "
                f"the months from {began:%Y-%m} on ({(got - start).days} days)"
            )
        return None
