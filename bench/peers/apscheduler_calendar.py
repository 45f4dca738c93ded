"""APScheduler 3.x as a deadline calculator: when would a job scheduled "3 months later" fire?

:class:`CalendarInterval` (the peer, ``apscheduler_calendar``) uses APScheduler's own calendar arithmetic,
``apscheduler.triggers.calendarinterval.CalendarIntervalTrigger`` (in APScheduler since 3.11):
``CalendarIntervalTrigger(months=3, start_date=start, timezone="Asia/Shanghai")`` fires at 00:00 of the start
date, then at the same day of the month 3 months later. The due date is that second fire:
``get_next_fire_time(previous_fire_time=start 00:00, now=start 00:00)``. Its documented rule for a day the
target month lacks is to keep adding months until the date exists (2026-01-31 + 1 month = 2026-03-31).
Day periods are ``days=N``; working days, which APScheduler does not know, are ``days=N`` too.

:class:`DateTrigger` (``apscheduler_date``, a variant) is what a user would write without that trigger:
``DateTrigger(run_date=start 00:00 + dateutil.relativedelta(months=3))``. relativedelta clamps to the month's
last day, as the law does; the arithmetic is dateutil's, APScheduler only fires at it.

Neither knows rest days, so nothing rolls past a weekend or holiday.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.date import DateTrigger as APSDateTrigger
from dateutil.relativedelta import relativedelta

from workflow.calendar import parse_period

__all__ = ["CalendarInterval", "DateTrigger", "interval"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
_FIELDS = {"days": "days", "working_days": "days", "months": "months", "years": "years"}


def interval(period: str) -> dict[str, int]:
    """The keyword a user would pass: "3 months" -> {"months": 3}, "7 working days" -> {"days": 7}."""
    p = parse_period(period)
    return {_FIELDS[p.unit]: p.amount}


class _Peer:
    def __init__(self) -> None:
        self._interval: dict[str, dict[str, int]] = {}

    def keywords(self, period: str) -> dict[str, int]:
        kw = self._interval.get(period)
        if kw is None:
            kw = self._interval[period] = interval(period)
        return kw


class CalendarInterval(_Peer):
    name = "apscheduler_calendar"
    uses = (
        "APScheduler CalendarIntervalTrigger(months|days=N, start_date=start, timezone=Asia/Shanghai)"
        ".get_next_fire_time(start 00:00, start 00:00): the fire after the one at the start; "
        "working days as days=N"
    )

    def due(self, start: dt.date, period: str) -> dt.date:
        trigger = CalendarIntervalTrigger(**self.keywords(period), start_date=start, timezone=SHANGHAI)
        began = dt.datetime.combine(start, dt.time(), SHANGHAI)
        fires = trigger.get_next_fire_time(began, began)
        assert fires is not None  # no end_date
        return fires.date()


class DateTrigger(_Peer):
    name = "apscheduler_date"
    uses = (
        "APScheduler DateTrigger(run_date=start 00:00 Asia/Shanghai + dateutil relativedelta(months|days=N))"
        ".get_next_fire_time(None, start 00:00); working days as days=N"
    )

    def due(self, start: dt.date, period: str) -> dt.date:
        began = dt.datetime.combine(start, dt.time(), SHANGHAI)
        trigger = APSDateTrigger(run_date=began + relativedelta(**self.keywords(period)), timezone=SHANGHAI)
        fires = trigger.get_next_fire_time(None, began)
        return fires.date()
