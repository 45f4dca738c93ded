"""The idempotency key of a notice: its cause, type and recipient, so that one cause never queues the
same notice twice and no two different notices share a key.

``<cause>:<type>:<role>:<unit>:<name>``. The cause (``audit:12:3``, ``deadline:7:step:2``,
``overdue_report:2026-03-10``) has colons of its own; the other four parts have none, because in
each ``%`` is written ``%25`` and ``:`` ``%3A``. So the key splits back into its parts at its last
four colons, and unit ``市局:张`` with handler ``三`` no longer has the key of unit ``市局`` with handler
``张:三``. A part without ``%`` or ``:`` (every real unit and name so far) reads as itself, so a notice
queued before the escaping has the key it would be given now: the key's unique index still stops it
from being queued twice (the daily 逾期通报 relies on it alone).

A key longer than the column holds (:data:`MAX`; a handler's name may be long) keeps its beginning and
ends in ``~`` and the SHA-256 of the whole key: still one key per notice, and one that fits.
"""

from __future__ import annotations

import hashlib

__all__ = ["MAX", "notice_key"]

#: The outbox's key column (``duban_notice.key``) holds this many characters.
MAX = 200
_DIGEST = 64


def _part(text: str) -> str:
    return text.replace("%", "%25").replace(":", "%3A")


def notice_key(cause: str, kind: str, role: str, unit: str | None, name: str) -> str:
    key = ":".join([cause, *map(_part, (kind, role, unit or "", name))])
    if len(key) <= MAX:
        return key
    return f"{key[: MAX - _DIGEST - 1]}~{hashlib.sha256(key.encode()).hexdigest()}"
