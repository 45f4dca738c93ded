"""Words for documents: the Chinese part of a label, and a period as an office writes it.

The definitions' labels carry notes for the people who maintain them beside the Chinese name
(``已办结 (closed)``, ``交办 (主办、协办 or 分办)``, ``会次, e.g. 市十五届人大三次会议``). Reports,
notices and the audit export show only the Chinese name; the codes stay in JSON and the CLI's tables.
"""

from __future__ import annotations

import re

from workflow.calendar import PeriodError, parse_period

__all__ = ["cn_period", "plain"]

#: A parenthetical (half- or full-width) with any Latin letter in it: a note, not part of the name.
_GLOSS = re.compile(r"\s*[(（][^()（）]*[A-Za-z][^()（）]*[)）]")
#: ``, e.g. …`` or ``; e.g. …`` to the end: an example for whoever edits the definition.
_EXAMPLE = re.compile(r"\s*[,;，；]\s*e\.g\..*$")


def plain(label: str | None) -> str:
    """*label* without the English notes beside it: ``已办结 (closed)`` → ``已办结``.

    A label that is nothing but a note is returned as it is (better a code than nothing)."""
    if not label:
        return ""
    text = _EXAMPLE.sub("", _GLOSS.sub("", label)).strip()
    return text or label


def cn_period(period: object) -> str:
    """A period as written in a definition or a fire (``1 month``, ``15 working days``) in Chinese
    (``1个月``, ``15个工作日``); anything that is not a period is returned as text, unchanged."""
    text = "" if period is None else str(period).strip()
    try:
        return parse_period(text).chinese
    except PeriodError:
        return text
