"""How the ``duban`` command line reports a failure: one line on stderr (``error: …``), or with ``--json``
one JSON object ``{"error": {"type", "message", "field"}}``, and the exit status (1 run time, 2 bad input).

A usage error found by the argument parser (a word where a number goes, an unknown option, a missing
argument) is reported the same way, naming the argument and the command's ``--help``, instead of the
parser's own box.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import typer
from typer._click import exceptions as click_errors

from workflow.errors import PermissionDenied, ValidationError, WorkflowError

__all__ = ["CommandFailed", "check_args", "report", "run", "usage_error", "wants_json"]


class CommandFailed(WorkflowError):
    """A command could not go on for a reason of its own (a database that cannot be opened); run time, exit 1
    unless *exit_code* says otherwise. *field* names the option or setting concerned, if any."""

    def __init__(self, message: str, field: str | None = None, exit_code: int = 1) -> None:
        self.message, self.field, self.exit_code = message, field, exit_code
        super().__init__(message)


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asks for JSON output (``--json`` before any ``--``)."""
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def report(as_json: bool, kind: str, message: str, field: str | None = None) -> None:
    """Print one failure on stderr: ``error: message`` or its JSON object."""
    if as_json:
        error = {"type": kind, "message": message, "field": field}
        print(json.dumps({"error": error}, ensure_ascii=False), file=sys.stderr)
    else:
        print(f"error: {message}", file=sys.stderr)


def workflow_error(exc: WorkflowError) -> tuple[str, str, str | None]:
    """(type, message, field) of an error duban raised on purpose; a permission error names who may."""
    field = getattr(exc, "field", None)
    message = str(exc)
    if isinstance(exc, PermissionDenied) and exc.actors:
        message += "; " + " or ".join(f"--actor {a}" for a in exc.actors) + " may"
    return type(exc).__name__, message, field if isinstance(field, str) else None


def _name(param: Any) -> str:
    """An argument as its help writes it (ITEM), an option as typed (--year)."""
    if getattr(param, "param_type_name", "") == "argument":
        return str(param.name or "argument").upper()
    opts = list(getattr(param, "opts", None) or [])
    return max(opts, key=len) if opts else str(getattr(param, "name", "") or "option")


def _problem(exc: click_errors.BadParameter) -> str:
    """What was wrong with the value, in plain words: the parser's validation error, translated."""
    cause: Any = exc.__cause__
    errors = cause.errors(include_url=False) if hasattr(cause, "errors") else []
    if errors:
        first = errors[0]
        kind, given, limits = first.get("type", ""), first.get("input"), first.get("ctx") or {}
        shown = repr(given) if isinstance(given, str) else str(given)
        if kind in ("int_parsing", "int_from_float", "int_type"):
            return f"{shown} is not a whole number"
        if kind in ("float_parsing", "float_type"):
            return f"{shown} is not a number"
        if kind in ("less_than_equal", "less_than"):
            return f"{shown} is too large: at most {limits.get('le', limits.get('lt'))}"
        if kind in ("greater_than_equal", "greater_than"):
            return f"{shown} is too small: at least {limits.get('ge', limits.get('gt'))}"
        if kind == "bool_parsing":
            return f"{shown} is not yes or no"
    message = exc.message.strip().rstrip(".")
    return message[:1].lower() + message[1:]


def usage_error(exc: click_errors.ClickException, command: str) -> tuple[str, str, str | None]:
    """(type, message, field) of the parser's usage error; *command* (``duban fire``) names the --help to read."""
    help_hint = f" ({command} --help)"
    if isinstance(exc, click_errors.MissingParameter) and exc.param is not None:
        name = _name(exc.param)
        what = "argument" if exc.param.param_type_name == "argument" else "option"
        return "UsageError", f"{name}: a required {what} is missing{help_hint}", name
    if isinstance(exc, click_errors.BadParameter) and exc.param is not None:
        name = _name(exc.param)
        return "UsageError", f"{name}: {_problem(exc)}{help_hint}", name
    field = getattr(exc, "option_name", None)
    message = " ".join(exc.format_message().split()).removesuffix(".")  # one line whatever the parser wrote
    message = message[:1].lower() + message[1:]
    return "UsageError", f"{message}{help_hint}", field if isinstance(field, str) else None


def command_of(root: Any, args: Sequence[str]) -> str:
    """The command path (``duban party add``) *args* name in the click tree *root*, as far as it resolves:
    a word is a subcommand unless it is the value of the option before it."""
    path, group, expects_value = ["duban"], root, False
    for arg in args:
        if arg == "--":
            break
        if expects_value:
            expects_value = False
            continue
        commands = getattr(group, "commands", None)
        if arg.startswith("-"):
            option = next(
                (p for p in getattr(group, "params", []) if arg.split("=")[0] in getattr(p, "opts", [])), None
            )
            expects_value = option is not None and "=" not in arg and not getattr(option, "is_flag", False)
            continue
        if not commands or arg not in commands:
            break
        path.append(arg)
        group = commands[arg]
    return " ".join(path)


def check_args(args: list[str]) -> None:
    """Arguments are text: bytes that were not UTF-8 (which Python keeps as lone surrogates) or a NUL
    cannot be stored, printed or looked up, so they are refused before any command sees them."""
    for i, arg in enumerate(args):
        if bad := re.search("[\x00\ud800-\udfff]", arg):
            char = ord(bad.group())
            what = "a NUL character" if char == 0 else f"the byte 0x{char - 0xDC00:02x}, which is not UTF-8"
            if not 0xDC80 <= char <= 0xDCFF and char:
                what = f"\\u{char:04x}, half of a surrogate pair"
            option = args[i - 1] if i and args[i - 1].startswith("-") else ""
            raise ValidationError(option or "argument", f"{ascii(arg)[:80]} holds {what}; arguments are UTF-8 text")


def run(app: typer.Typer, args: list[str]) -> int:
    """Run the command line *args* of *app* and return its exit status, every failure reported by :func:`report`."""
    as_json = wants_json(args)
    try:
        check_args(args)
        code = app(args=args, prog_name="duban", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except click_errors.NoArgsIsHelpError as exc:  # `duban party`: its help, as the parser shows it
        exc.show()
        return exc.exit_code
    except click_errors.ClickException as exc:  # a usage error the parser found: one line naming the argument
        command = command_of(typer.main.get_command(app), args)
        report(as_json, *usage_error(exc, command))
        return exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except WorkflowError as exc:
        report(as_json, *workflow_error(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 1
    except sa.exc.DBAPIError as exc:  # the transaction was rolled back: say so, and why
        from workflow.daemon import one_line

        hint = (
            "; the database is read-only (a read-only file or copy): it can be listed, shown, reported "
            "and verified, not changed"
            if "readonly" in str(exc.orig)
            else ""
        )
        message = f"the database refused the change, nothing was written: {one_line(exc)}{hint}"
        report(as_json, "DatabaseError", message)
        return 1
    except Exception as exc:  # the last line of defence: a message, not a traceback
        if os.environ.get("DUBAN_DEBUG"):
            raise
        report(as_json, type(exc).__name__, f"{type(exc).__name__}: {exc}".splitlines()[0])
        return 1
