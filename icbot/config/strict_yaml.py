"""YAML read the way a trader reads it: PyYAML's safe loader without YAML 1.1's surprises.

PyYAML implements YAML 1.1, which reads ``port: 66:40`` as 4000 (base 60), ``017`` as 15 (octal), ``0x1F`` as 31,
``0b1010`` as 10, ``1_000`` as 1000, lets a duplicate key silently replace the first one and merges mappings with
``<<:``. In a file that moves real money every one of those is a way to trade something other than what was
written. This loader changes exactly that:

* numbers are plain decimal: ``017`` is 17, ``1.5``, ``.5``, ``1e3`` and ``-2`` are numbers; ``0x1F``, ``0o17``,
  ``0b1010``, ``66:40``, ``1_000`` and integers of more than 30 digits stay strings, so a numeric key refuses
  them by name ("is not a plain decimal number") and a text key keeps them as written;
* ``11:30`` is the string "11:30" (a time reads as a time), and dates stay strings;
* a key written twice, a merge key ``<<`` and an alias ``*name`` are refused with the dotted key and the line;
* nesting deeper than MAX_DEPTH is refused before Python's recursion limit is anywhere near.

`true/false/yes/no/on/off` and `null/~` keep their YAML meaning. Refusals raise `Refusal` (path, problem,
allowed, line); everything else a malformed file can do raises PyYAML's own YAMLError.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode

MAX_DEPTH = 16  # a config is 3 levels deep; lists of lists of lists have no business here either
MAX_INT_DIGITS = 30

INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
BOOL_TAG = "tag:yaml.org,2002:bool"
NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

DECIMAL_INT = re.compile(rf"[-+]?[0-9]{{1,{MAX_INT_DIGITS}}}\Z")
DECIMAL_FLOAT = re.compile(
    r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?\Z"
    r"|[-+]?\.(?:inf|Inf|INF)\Z"
    r"|\.(?:nan|NaN|NAN)\Z"
)
_TRUE = frozenset({"yes", "true", "on"})


class Refusal(Exception):
    """Something YAML allows but icbot will not guess at, located by its key path and line."""

    def __init__(self, path: list[str], problem: str, allowed: str, line: int | None) -> None:
        super().__init__(problem)
        self.path, self.problem, self.allowed, self.line = path, problem, allowed, line


class StrictLoader(yaml.SafeLoader):
    """SafeLoader with decimal-only numbers, no implicit timestamps, and no duplicates, merges or aliases."""

    yaml_implicit_resolvers = {  # noqa: RUF012 (PyYAML's class-level registry, copied)
        first: [(tag, rx) for tag, rx in resolvers if tag not in (INT_TAG, FLOAT_TAG, TIMESTAMP_TAG)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str] = []
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        pushed = parent is not None and index is not None  # a mapping's value or a list's item (not a key)
        if pushed:
            self._path.append(_label(index))
        self._depth += 1  # keys count too: `? ? ? …` nests through keys alone
        try:
            mark = self.peek_event().start_mark
            line = mark.line + 1 if mark is not None else None
            if self._depth > MAX_DEPTH + 1:
                raise Refusal(list(self._path), f"is nested more than {MAX_DEPTH} levels deep", "a flat file", line)
            if self.check_event(AliasEvent):
                anchor = self.peek_event().anchor
                raise Refusal(list(self._path), f"is a YAML alias (*{anchor})", "the value written out", line)
            node = super().compose_node(parent, index)
            if isinstance(node, MappingNode):
                self._check_keys(node)
            assert node is not None
            return node
        finally:
            self._depth -= 1
            if pushed:
                self._path.pop()

    def _check_keys(self, node: MappingNode) -> None:
        first_line: dict[tuple[str, Hashable], int] = {}
        for key_node, _ in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == MERGE_TAG:
                raise Refusal([*self._path, "<<"], "is a YAML merge key", "each key written out", line)
            if not isinstance(key_node, ScalarNode):
                continue
            ident = (key_node.tag, _canonical(key_node))
            if ident in first_line:
                where = f"lines {first_line[ident]} and {line}"
                raise Refusal([*self._path, str(key_node.value)], f"is written twice ({where})", "each key once", line)
            first_line[ident] = line


def _label(index: Any) -> str:
    if isinstance(index, int):
        return f"[{index}]"
    return str(index.value) if isinstance(index, ScalarNode) else "?"


def _canonical(node: ScalarNode) -> Hashable:
    text = str(node.value)
    if node.tag == INT_TAG and DECIMAL_INT.match(text):
        return int(text)
    if node.tag == BOOL_TAG:
        return text.lower() in _TRUE
    if node.tag == NULL_TAG:
        return None
    return text


def _construct_int(loader: yaml.SafeLoader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).strip()
    if not DECIMAL_INT.match(text):
        raise yaml.constructor.ConstructorError(
            None, None, f"{text[:40]!r} is not a plain decimal integer", node.start_mark
        )
    return int(text)


def _construct_float(loader: yaml.SafeLoader, node: ScalarNode) -> float:
    text = str(loader.construct_scalar(node)).strip()
    if not DECIMAL_FLOAT.match(text):
        raise yaml.constructor.ConstructorError(
            None, None, f"{text[:40]!r} is not a plain decimal number", node.start_mark
        )
    low = text.lower()
    if low.endswith(".inf"):
        return -math.inf if low.startswith("-") else math.inf
    if low == ".nan":
        return math.nan
    return float(text)


StrictLoader.add_implicit_resolver(INT_TAG, DECIMAL_INT, list("-+0123456789"))
StrictLoader.add_implicit_resolver(FLOAT_TAG, DECIMAL_FLOAT, list("-+0123456789."))
StrictLoader.add_constructor(INT_TAG, _construct_int)
StrictLoader.add_constructor(FLOAT_TAG, _construct_float)


def load(text: str) -> Any:
    """The one document in `text` (None if empty); raises Refusal or yaml.YAMLError."""
    loader = StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
