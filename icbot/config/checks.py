"""Checking helpers: each accessor returns a valid value or raises ConfigError with one line.

The line names the dotted key, shows the value the way the user wrote it in YAML and says what is allowed,
so a launchd log or an SSH session tells the whole story without a traceback. Every piece of user input that
is echoed (a value, a key, a path) is cut to a bounded length and has its control characters escaped, so the
line stays one line of reasonable length whatever the file contains.

A `Section` knows its keys and their defaults from the dataclass instance that holds the defaults
(`defaults_of`): a default is written once, in icbot.config.model.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import time
from pathlib import Path
from typing import Any, NoReturn

from icbot.errors import ConfigError

MAX_SHOWN = 60  # characters of an echoed value or key
MAX_SHOWN_PATH = 100  # characters of an echoed file path (middle elided)
MAX_PATH = 1024  # characters of a configured path (macOS PATH_MAX)
MAX_NAME_BYTES = 255  # bytes of one file or folder name (NAME_MAX on macOS and Linux)
PATH_ALLOWED = f"null or a file path of at most {MAX_PATH} characters (relative paths: to the config file)"


@dataclass(frozen=True, slots=True)
class Range:
    """Bounds of a number; `hi_help` names the bound in words when it is a rule, not just a number."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    hi_help: str | None = None

    def admits(self, v: float) -> bool:
        if self.lo is not None and (v < self.lo or (self.lo_open and v == self.lo)):
            return False
        return not (self.hi is not None and (v > self.hi or (self.hi_open and v == self.hi)))

    def describe(self, kind: str) -> str:
        hi = self.hi_help or (num(self.hi) if self.hi is not None else None)
        if self.lo is not None and hi is not None and not self.lo_open and not self.hi_open:
            return f"{kind} from {num(self.lo)} to {hi}"
        parts = [kind]
        if self.lo is not None:
            parts.append(f"above {num(self.lo)}" if self.lo_open else f"at least {num(self.lo)}")
        if hi is not None:
            parts.append(f"below {hi}" if self.hi_open else f"at most {hi}")
        return " ".join(parts[:2]) + (", " + parts[2] if len(parts) > 2 else "")


def num(x: float) -> str:
    """A number for a message: 15 not 15.0, 0.05 not 5e-02."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def one_line(text: str) -> str:
    """Text that prints as one line on any terminal: control characters and lone surrogates escaped."""

    def escape(m: re.Match[str]) -> str:
        code = ord(m[0])
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text)


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    """`one_line(text)`, cut to `limit` characters with "..." at the end."""
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def clip_path(path: object, limit: int = MAX_SHOWN_PATH) -> str:
    """A path for a message: one line, at most `limit` characters, the middle elided (the ends say most)."""
    text = one_line(str(path))
    if len(text) <= limit:
        return text
    keep = (limit - 3) // 2
    return text[:keep] + "..." + text[-(limit - 3 - keep) :]


def show(value: Any) -> str:
    """A value as the user wrote it in YAML (strings quoted, null, true/false), kept short and on one line."""
    if isinstance(value, float) and math.isnan(value):
        text = ".nan"
    elif isinstance(value, float) and math.isinf(value):
        text = ".inf" if value > 0 else "-.inf"
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        text = "a number of more than 38 digits"
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return clip(text)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


# What YAML 1.1 would have read as a number but icbot's loader keeps as text (icbot.config.strict_yaml).
_NUMBER_LIKE = re.compile(
    r"[-+]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?)"
)
_PLAIN_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _not_a_number(value: Any, kind: str) -> str:
    """Why a value is not a number: "not a plain decimal number" for 0x1F, 0o17, 66:40, 1_000, 40 digits."""
    if isinstance(value, str):
        text = value.strip()
        too_long = _PLAIN_DECIMAL.fullmatch(text) is not None and sum(c.isdigit() for c in text) > 30
        if too_long or (_NUMBER_LIKE.fullmatch(text) and not _PLAIN_DECIMAL.fullmatch(text)):
            return "is not a plain decimal number"
    return f"is {_kind(value)}, not {kind}"


def defaults_of(instance: Any) -> dict[str, Any]:
    """The config keys of a section dataclass instance and their values (the defaults, for a default instance)."""
    return {f.name: getattr(instance, f.name) for f in fields(instance) if f.metadata.get("config_key", True)}


def resolve_path(text: str, base: Path | None) -> Path:
    """A configured path: `~` expanded, relative to `base`; ValueError saying what is wrong with it.

    Refused: control characters (a NUL cannot be in a file name), text that cannot be a file name on this
    system, ~user of an unknown user, more than MAX_PATH characters, a name longer than MAX_NAME_BYTES.
    """
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise ValueError("contains a control character")
    try:
        os.fsencode(text)
    except UnicodeError:
        raise ValueError("is not a valid file name") from None
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # "Could not determine home directory."
        raise ValueError("starts with ~ but that home directory is unknown") from None
    if not path.is_absolute() and base is not None:
        path = base / path
    if len(str(path)) > MAX_PATH:
        raise ValueError(f"is longer than {MAX_PATH} characters")
    if any(len(os.fsencode(part)) > MAX_NAME_BYTES for part in path.parts):
        raise ValueError(f"has a file or folder name longer than {MAX_NAME_BYTES} bytes")
    return path


class Section:
    """One mapping of the file being read; every accessor either returns a valid value or raises ConfigError.

    `defaults` maps every allowed key to its default; a key missing from the file takes it.
    """

    def __init__(self, name: str, data: Mapping[Any, Any], defaults: Mapping[str, Any], source: Path | None) -> None:
        self.name, self.data, self.defaults, self.source = name, data, defaults, source
        self.known = tuple(defaults)
        for key in data:
            if not isinstance(key, str) or key not in defaults:
                self._unknown(key)

    def dotted(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else str(key)

    def has(self, key: str) -> bool:
        return key in self.data

    def value(self, key: str) -> Any:
        """What the file says for `key`, else its default."""
        return self.data[key] if key in self.data else self.defaults[key]

    def reject(self, key: str, parsed: Any, problem: str, allowed: str) -> NoReturn:
        """Fail a cross-field rule, showing the value as written in the file (or the default if absent)."""
        if key in self.data:
            self.fail(key, self.data[key], problem, allowed)
        shown = int(parsed) if isinstance(parsed, float) and parsed.is_integer() else parsed
        self.fail(key, shown, f"(the default) {problem}", allowed)

    def fail(self, key: str, value: Any, problem: str, allowed: str) -> NoReturn:
        self._raise(key, f"{show(value)} {problem}", allowed)

    def _where(self) -> str:
        return f" [{clip_path(self.source)}]" if self.source is not None else ""

    def _raise(self, key: str, problem: str, allowed: str) -> NoReturn:
        raise ConfigError(f"{self.dotted(key)}: {problem}; allowed: {allowed}{self._where()}")

    def required(self, key: str, why: str, allowed: str) -> NoReturn:
        """Fail because a key that is optional in general must be set in this configuration."""
        self._raise(key, f"must be set {why}", allowed)

    def _unknown(self, key: Any) -> NoReturn:
        name = clip(str(key))
        close = difflib.get_close_matches(str(key)[:100], self.known, n=1, cutoff=0.6)
        hint = f"did you mean {self.dotted(close[0])}? " if close else ""
        raise ConfigError(f"{self.dotted(name)}: unknown key; {hint}known keys: {', '.join(self.known)}{self._where()}")

    def section(self, key: str) -> Section:
        """The sub-section `key`, its keys and defaults taken from the default dataclass instance."""
        default = self.defaults[key]
        assert is_dataclass(default), f"{self.dotted(key)} is not a section"
        sub = defaults_of(default)
        value = self.data.get(key)
        if value is None:  # absent, or a header with every child commented out: the defaults
            value = {}
        if not isinstance(value, Mapping):
            self.fail(key, value, f"is {_kind(value)}", f"a mapping with keys {', '.join(sub)}")
        return Section(self.dotted(key), value, sub, self.source)

    def integer(self, key: str, rng: Range) -> int:
        value = self.value(key)
        allowed = rng.describe("an integer")
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, value, _not_a_number(value, "an integer"), allowed)
        if not rng.admits(value):
            self.fail(key, value, "is out of range", allowed)
        return value

    def number(self, key: str, rng: Range) -> float:
        return self._number(key, self.value(key), rng)

    def _number(self, key: str, value: Any, rng: Range) -> float:
        allowed = rng.describe("a number")
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, value, _not_a_number(value, "a number"), allowed)
        try:
            as_float = float(value)
        except OverflowError:  # an integer beyond the float range is out of every range icbot has
            self.fail(key, value, "is out of range", allowed)
        if not math.isfinite(as_float):
            self.fail(key, value, "is not a finite number", allowed)
        if not rng.admits(value):
            self.fail(key, value, "is out of range", allowed)
        return as_float

    def optional_number(self, key: str, rng: Range) -> float | None:
        value = self.value(key)
        return None if value is None else self._number(key, value, Range(rng.lo, rng.hi, True, rng.hi_open))

    def string(self, key: str, *, nonempty: bool = False, pattern: str = "", pattern_help: str = "") -> str:
        value = self.value(key)
        if not isinstance(value, str):
            self.fail(key, value, f"is {_kind(value)}, not a string", "a string (quote it in YAML)")
        if nonempty and not value.strip():
            self.fail(key, value, "is empty", "a non-empty string")
        if pattern and not re.fullmatch(pattern, value):
            self.fail(key, value, "is malformed", pattern_help)
        return value

    def flag(self, key: str) -> bool:
        value = self.value(key)
        if not isinstance(value, bool):
            self.fail(key, value, f"is {_kind(value)}", "true | false")
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.value(key)
        if not isinstance(value, str) or value not in choices:
            close: list[str] = []
            if isinstance(value, str):
                same = [c for c in choices if c.lower() == value.strip().lower()]
                close = same or difflib.get_close_matches(value[:100], choices, n=1, cutoff=0.6)
            problem = f"is not allowed (did you mean {close[0]}?)" if close else "is not allowed"
            self.fail(key, value, problem, " | ".join(choices))
        return value

    def optional_path(self, key: str, base: Path | None) -> Path | None:
        value = self.value(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, value, f"is {_kind(value)}", PATH_ALLOWED)
        try:
            return resolve_path(value, base)
        except ValueError as exc:
            self.fail(key, value, str(exc), PATH_ALLOWED)

    def wall_time(self, key: str) -> time:
        """A wall time "HH:MM" (New York); quoted or not, 11:30 is half past eleven."""
        value = self.value(key)
        if isinstance(value, time):  # the default
            return value
        allowed = 'a time "HH:MM" (America/New_York)'
        if not isinstance(value, str):
            self.fail(key, value, f"is {_kind(value)}, not a time", allowed)
        m = _HHMM.fullmatch(value.strip())
        if not m or int(m[1]) > 23 or int(m[2]) > 59:
            self.fail(key, value, "is not a time HH:MM", allowed)
        return time(int(m[1]), int(m[2]))


_HHMM = re.compile(r"(\d{1,2}):(\d{2})")
