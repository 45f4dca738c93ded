"""YAML read as plain data, remembering where every key and value stood in the file.

Used for every YAML file duban reads (definitions now, calendars and templates' metadata later),
so that each error can say FILE:LINE:COLUMN. Only plain data is accepted: tags that would build
Python objects are refused, as are duplicate keys and non-string keys (YAML 1.1 reads an
unquoted ``on:`` as ``true``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from workflow.errors import DefinitionError

__all__ = ["LocatedYAML", "YamlPath", "read_text"]

MAX_NODES = 50_000
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}
YamlPath = tuple[str | int, ...]
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_text(path: Path, what: str = "file") -> str:
    """The text of the YAML file at *path*; a file that cannot be read or is not UTF-8 is a DefinitionError naming it
    (*what* says which kind of file it is: "calendar file", "migration file")."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionError(
            f"the {what} is not UTF-8 text ({exc.reason} at byte {exc.start})", str(path), 1, 1
        ) from None
    except OSError as exc:
        raise DefinitionError(f"cannot read the {what}: {exc.strerror}", str(path), 0, 0) from None
    return text


class LocatedYAML:
    """A YAML document as plain Python values plus the line and column of every key and value."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.text = text
        self.values: dict[YamlPath, tuple[int, int]] = {}
        self.keys: dict[YamlPath, tuple[int, int]] = {}
        self._scalars = yaml.SafeLoader("")
        self._count = 0
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.root = self._convert(node, ()) if node is not None else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or "invalid YAML"
            if "'\\t'" in problem:
                problem = "a tab character here; YAML is indented with spaces only"
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            raise DefinitionError(f"YAML syntax error: {problem}", file, line, col) from None
        except yaml.reader.ReaderError as exc:  # a control character (NUL, ESC, ...): unmarked, only a position
            before = text[: exc.position]
            line, col = before.count("\n") + 1, exc.position - before.rfind("\n")
            what = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
            raise DefinitionError(f"the character {what} is not allowed in YAML", file, line, col) from None
        except RecursionError:
            raise DefinitionError("the YAML is nested too deeply", file, 1, 1) from None

    def _convert(self, node: yaml.Node, path: YamlPath) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            raise DefinitionError(
                f"the document has more than {MAX_NODES} values (aliases included)",
                self.file,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
            )
        self.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if node.tag not in _PLAIN_TAGS:
            raise DefinitionError(
                f"YAML tag {node.tag!r} is not allowed; definitions hold plain data only", self.file, *self.values[path]
            )
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalars.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else None
                where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                if not isinstance(key, str):
                    raise DefinitionError(f"keys must be plain names, not {key!r}", self.file, *where)
                self._text(key, where)
                if key in out:
                    raise DefinitionError(f"duplicate key {key!r}", self.file, *where)
                self.keys[(*path, key)] = where
                out[key] = self._convert(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._convert(v, (*path, i)) for i, v in enumerate(node.value)]
        try:
            value = self._scalars.construct_object(node)
        except ValueError as exc:  # e.g. a date like 2026-02-30: PyYAML's constructor raises a bare ValueError
            raise DefinitionError(
                f"{node.value!r} is not a valid value: {exc}", self.file, *self.values[path]
            ) from None
        self._text(value, self.values[path])
        return value

    def _text(self, value: Any, where: tuple[int, int]) -> None:
        """Text must be characters: an escaped lone surrogate (``"\\ud800"``) is half of one, which no file,
        database or digest can store."""
        if isinstance(value, str) and (found := _SURROGATE.search(value)):
            half = f"\\u{ord(found.group()):04x}"
            raise DefinitionError(f"{half} is half of a surrogate pair, not a character", self.file, *where)

    def where(self, path: YamlPath, key: bool = False) -> tuple[int, int]:
        table = self.keys if key else self.values
        while path and path not in table:
            path = path[:-1]
        return table.get(path, self.values.get(path, (1, 1)))
