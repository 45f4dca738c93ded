"""The exceptions duban raises. Every one is a :class:`WorkflowError`.

Each error says what was wrong, where, and (when it can) how to fix it, so that the CLI can
print ``str(err)`` as a one-line message and never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ConflictError",
    "DaemonConflict",
    "DefinitionError",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "ValidationError",
    "WorkflowError",
]


class WorkflowError(Exception):
    """Base class of every error duban raises on purpose."""

    #: CLI exit status: 2 means the input was wrong, 1 that the operation failed at run time.
    exit_code = 2


class DefinitionError(WorkflowError):
    """A lifecycle definition (or a file it depends on) is invalid.

    ``str(err)`` is ``FILE:LINE:COLUMN: message``; line and column are 1-based.
    """

    def __init__(self, message: str, file: str = "<definition>", line: int = 0, column: int = 0):
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        #: Every error found in the same file, this one first (validation reports them all).
        self.errors: list[DefinitionError] = [self]
        super().__init__(f"{file}:{line}:{column}: {message}")


class InvalidTransition(WorkflowError):
    """The trigger cannot fire in the item's current state."""

    def __init__(self, trigger: str, state: str, allowed: Sequence[str], item_id: int | None = None):
        self.trigger = trigger
        self.state = state
        self.allowed = list(allowed)
        self.item_id = item_id
        where = f"item {item_id} is" if item_id is not None else "the item is"
        options = ", ".join(self.allowed) if self.allowed else "none (the state is final)"
        super().__init__(f"cannot fire {trigger!r}: {where} in state {state!r}; triggers allowed there: {options}")


class PermissionDenied(WorkflowError):
    """The actor may not fire this trigger on this item."""


class ConflictError(WorkflowError):
    """The item changed since the caller read it (optimistic locking); reload and retry."""

    exit_code = 1


class DaemonConflict(WorkflowError):
    """A daemon with the same id is already running (its heartbeat is fresh), or took this one's place."""

    exit_code = 1


class ValidationError(WorkflowError):
    """A data field is missing or wrong. ``field`` names it (dotted for nested values)."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class NotFound(WorkflowError):
    """No item (or party, or definition) with that identifier."""
