"""The exceptions duban raises. Every one is a :class:`WorkflowError`.

Each error says what was wrong, where, and (when it can) how to fix it, so that the CLI can
print ``str(err)`` as a one-line message and never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BatchError",
    "ConflictError",
    "DaemonConflict",
    "DefinitionError",
    "ImportRejected",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "RowProblem",
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
        if state == "voided":  # workflow.model.VOIDED
            options += "; a voided item (已作废) stays voided and nothing more is recorded on it"
        super().__init__(f"cannot fire {trigger!r}: {where} in state {state!r}; triggers allowed there: {options}")


class PermissionDenied(WorkflowError):
    """The actor may not fire this trigger on this item. ``actors`` lists, as ``ROLE[:PARTY]``, who may
    (``["unit:市民政局"]``: the item's assigned units, its proposers, or the roles), when that is known."""

    def __init__(self, message: str, actors: Sequence[str] = ()) -> None:
        self.actors = list(actors)
        super().__init__(message)


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


class BatchError(WorkflowError):
    """One item of a batch (:meth:`Engine.fire_many`) could not fire, so none of the batch was written.

    ``item_id`` names the item, ``error`` is what that item's own fire raised (a ValidationError,
    InvalidTransition, ...), and the exit status is that error's.
    """

    def __init__(self, item_id: int, error: WorkflowError, size: int):
        self.item_id = item_id
        self.error = error
        self.exit_code = error.exit_code
        where = "" if f"item {item_id}" in str(error) else f"item {item_id}: "
        super().__init__(f"{where}{error} (nothing of the batch of {size} was written)")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One problem with an import file, where the office will look for it.

    ``row`` is the row number Excel shows (the header is usually row 1); ``row`` and ``column`` are
    None for a problem with the whole file (not a spreadsheet at all).
    """

    file: str
    row: int | None
    column: str | None
    message: str
    severity: str = "error"  # "error" (the row is not imported) or "warning" (it is)

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}:{self.column or ''}"
        return f"{where}: {'warning: ' if self.severity == 'warning' else ''}{self.message}"


class ImportRejected(ValidationError):
    """An import file has bad rows, or is not a spreadsheet at all; nothing was imported.

    ``problems`` lists every error found (each row checked), each with its row and column.
    """

    def __init__(self, file: str, problems: Sequence[RowProblem]):
        self.problems = list(problems)
        more = len(self.problems) - 1
        text = (str(self.problems[0]) if self.problems else f"{file}: rejected") + (
            f" (and {more} more)" if more else ""
        )
        self.field, self.message = file, text
        WorkflowError.__init__(self, text)  # str() is FILE:ROW:COLUMN: message, not ValidationError's "field: …"
