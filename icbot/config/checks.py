"""Checking helpers: each accessor returns a valid value or raises ConfigError with one line.

The line names the dotted key, shows the value the way the user wrote it in YAML and says what is allowed,
so a launchd log or an SSH session tells the whole story without a traceback.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any, NoReturn

from icbot.errors import ConfigError


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


def show(value: Any) -> str:
    """A value as the user wrote it in YAML (strings quoted, null, true/false), kept short."""
    if isinstance(value, float) and math.isnan(value):
        text = ".nan"
    elif isinstance(value, float) and math.isinf(value):
        text = ".inf" if value > 0 else "-.inf"
    elif isinstance(value, float):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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


class Section:
    """One mapping of the file being read; every accessor either returns a valid value or raises ConfigError."""

    def __init__(self, name: str, data: Mapping[str, Any], known: tuple[str, ...], source: Path | None) -> None:
        self.name, self.data, self.known, self.source = name, data, known, source
        for key in data:
            if key not in known:
                self._unknown(key)

    def dotted(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else str(key)

    def reject(self, key: str, parsed: Any, problem: str, allowed: str) -> NoReturn:
        """Fail a cross-field rule, showing the value as written in the file (or the default if absent)."""
        if key in self.data:
            self.fail(key, self.data[key], problem, allowed)
        shown = int(parsed) if isinstance(parsed, float) and parsed.is_integer() else parsed
        self.fail(key, shown, f"(the default) {problem}", allowed)

    def fail(self, key: str, value: Any, problem: str, allowed: str) -> NoReturn:
        self._raise(key, f"{show(value)} {problem}", allowed)

    def _raise(self, key: str, problem: str, allowed: str) -> NoReturn:
        where = f" [{self.source}]" if self.source is not None else ""
        raise ConfigError(f"{self.dotted(key)}: {problem}; allowed: {allowed}{where}")

    def required(self, key: str, why: str, allowed: str) -> NoReturn:
        """Fail because a key that is optional in general must be set in this configuration."""
        self._raise(key, f"must be set {why}", allowed)

    def _unknown(self, key: Any) -> NoReturn:
        close = difflib.get_close_matches(str(key), self.known, n=1, cutoff=0.6)
        hint = f"did you mean {self.dotted(close[0])}? " if close else ""
        where = f" [{self.source}]" if self.source is not None else ""
        raise ConfigError(f"{self.dotted(str(key))}: unknown key; {hint}known keys: {', '.join(self.known)}{where}")

    def raw(self, key: str, default: Any) -> Any:
        return self.data.get(key, default)

    def section(self, key: str, known: tuple[str, ...]) -> Section:
        value = self.data.get(key)
        if value is None:  # absent, or a header with every child commented out: the defaults
            value = {}
        if not isinstance(value, Mapping):
            self.fail(key, value, f"is {_kind(value)}", f"a mapping with keys {', '.join(known)}")
        return Section(self.dotted(key), value, known, self.source)

    def integer(self, key: str, default: int, rng: Range) -> int:
        value = self.data.get(key, default)
        allowed = rng.describe("an integer")
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, value, f"is {_kind(value)}, not an integer", allowed)
        if not rng.admits(value):
            self.fail(key, value, "is out of range", allowed)
        return value

    def number(self, key: str, default: float, rng: Range) -> float:
        value = self.data.get(key, default)
        return self._number(key, value, rng)

    def _number(self, key: str, value: Any, rng: Range) -> float:
        allowed = rng.describe("a number")
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, value, f"is {_kind(value)}, not a number", allowed)
        if not math.isfinite(value):
            self.fail(key, value, "is not a finite number", allowed)
        if not rng.admits(value):
            self.fail(key, value, "is out of range", allowed)
        return float(value)

    def optional_number(self, key: str, rng: Range) -> float | None:
        value = self.data.get(key)
        return None if value is None else self._number(key, value, Range(rng.lo, rng.hi, True, rng.hi_open))

    def string(
        self, key: str, default: str, *, nonempty: bool = False, pattern: str = "", pattern_help: str = ""
    ) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            self.fail(key, value, f"is {_kind(value)}, not a string", "a string (quote it in YAML)")
        if nonempty and not value.strip():
            self.fail(key, value, "is empty", "a non-empty string")
        if pattern and not re.fullmatch(pattern, value):
            self.fail(key, value, "is malformed", pattern_help)
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or value not in choices:
            close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6) if isinstance(value, str) else []
            problem = f"is not allowed (did you mean {close[0]}?)" if close else "is not allowed"
            self.fail(key, value, problem, " | ".join(choices))
        return value

    def optional_path(self, key: str, base: Path | None) -> Path | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, value, f"is {_kind(value)}", "null or a file path (relative paths: to the config file)")
        path = Path(value).expanduser()
        return path if path.is_absolute() or base is None else base / path


_HHMM = re.compile(r"(\d{1,2}):(\d{2})")


def parse_hhmm(s: Section, key: str, value: Any) -> time:
    """A wall time "HH:MM" (New York). YAML 1.1 reads an unquoted 11:30 as the base-60 integer 690: say so."""
    allowed = 'a quoted time "HH:MM" (America/New_York)'
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        hh, mm = divmod(value, 60)
        s.fail(
            key,
            value,
            f'is a number (YAML reads an unquoted {hh}:{mm:02d} as base 60); write "{hh:02d}:{mm:02d}"',
            allowed,
        )
    if not isinstance(value, str):
        s.fail(key, value, f"is {_kind(value)}, not a time", allowed)
    m = _HHMM.fullmatch(value.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        s.fail(key, value, "is not a time HH:MM", allowed)
    return time(int(m[1]), int(m[2]))
