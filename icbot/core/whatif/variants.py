"""Variants: named overrides of the live rules, parsed from the command line or the config and checked once
(docs/whatif.md, "Variants")."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import time

TOUCH_ACTIONS = ("close", "roll")
_KEYS = {
    "tp": "profit_target_pct",
    "stop": "stop_multiple",
    "time": "time_exit",
    "delta": "target_delta",
    "wing": "wing_width",
    "touch": "touch",
}
_NAME = re.compile(r"^[A-Za-z0-9_.+-]{1,40}$")


class VariantError(ValueError):
    """A variant that cannot be replayed as written; the message names the variant and the key."""


# -- variants --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TouchRule:
    """What to do the first minute SPX reaches a short strike: close that side, or roll it to a delta."""

    action: str  # "close" | "roll"
    delta: float | None = None  # the roll's target delta in points

    def __str__(self) -> str:
        return "close" if self.action == "close" else f"roll:{self.delta:g}"


@dataclass(frozen=True, slots=True)
class Variant:
    """A named set of overrides of the live rules; None keeps the live value."""

    name: str
    profit_target_pct: float | None = None
    stop_multiple: float | None = None
    time_exit: time | None = None
    target_delta: float | None = None
    wing_width: float | None = None
    touch: TouchRule | None = None

    @property
    def changes_entry(self) -> bool:
        return self.target_delta is not None or self.wing_width is not None

    def describe(self) -> str:
        """The overrides as the command line writes them (`tp=50,stop=2`), or `live rules`."""
        parts = []
        for short, attr in _KEYS.items():
            value = getattr(self, attr)
            if value is None:
                continue
            text = value.strftime("%H:%M") if isinstance(value, time) else str(value)
            if isinstance(value, float):
                text = f"{value:g}"
            parts.append(f"{short}={text}")
        return ",".join(parts) or "live rules"


LIVE = Variant("live")


def parse_variant(text: str) -> Variant:
    """`[name:]key=value,...` (keys tp, stop, time, delta, wing, touch) as a Variant; `live` is the live rules.

    Examples: `tp=50`, `late:time=14:00`, `roll30:touch=roll:30`, `close:touch=close,stop=2`.
    """
    text = text.strip()
    if text == "live":
        return LIVE
    name, sep, body = text.partition(":")
    unnamed = not sep or "=" in name
    if unnamed:
        name, body = "unnamed", text
    if not body:
        raise VariantError(f"variant {text!r}: no overrides (write e.g. tp=50,stop=2 or touch=roll:30)")
    values: dict[str, object] = {}
    for item in body.split(","):
        key, eq, value = item.strip().partition("=")
        if not eq or key not in _KEYS:
            raise VariantError(f"variant {name!r}: {item.strip()!r} is not key=value with a key in {', '.join(_KEYS)}")
        values[_KEYS[key]] = value.strip()
    variant = variant_from_mapping(name, values)
    return replace(variant, name=text) if unnamed else variant


def variant_from_mapping(name: str, values: Mapping[str, object]) -> Variant:
    """A Variant from its overrides by their config names (`whatif.variants.<name>` in config.yaml)."""
    if not _NAME.match(name):
        raise VariantError(f"variant name {name!r}: use 1–40 letters, digits, '_', '-', '.', '+'")
    if name == "live":
        raise VariantError("variant name 'live' is reserved for the live rules")
    known = set(_KEYS.values())
    unknown = sorted(set(values) - known)
    if unknown:
        raise VariantError(f"variant {name!r}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(known))})")
    if not values:
        raise VariantError(f"variant {name!r}: no overrides")
    kw: dict[str, object] = {}
    for key, raw in values.items():
        if key == "time_exit":
            kw[key] = _time(name, raw)
        elif key == "touch":
            kw[key] = _touch(name, raw)
        else:
            kw[key] = _number(name, key, raw)
    return Variant(name, **kw)  # type: ignore[arg-type]


_RANGES = {
    "profit_target_pct": (0.0, 100.0, "between 0 and 100 (exclusive)"),
    "stop_multiple": (1.0, 100.0, "above 1 and at most 100"),
    "target_delta": (1.0, 50.0, "between 1 and 50"),
    "wing_width": (0.0, 500.0, "above 0 and at most 500"),
}


def _number(name: str, key: str, raw: object) -> float:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise VariantError(f"variant {name!r}: {key} must be a number, not {raw!r}") from None
    lo, hi, words = _RANGES[key]
    ok = lo < value < hi if key == "profit_target_pct" else lo < value <= hi
    if key == "target_delta":
        ok = lo <= value <= hi
    if not ok or math.isnan(value):
        raise VariantError(f"variant {name!r}: {key} {value:g} must be {words}")
    return value


def _time(name: str, raw: object) -> time:
    if isinstance(raw, time):
        value = raw
    else:
        try:
            value = time.fromisoformat(str(raw))
        except ValueError:
            raise VariantError(f"variant {name!r}: time_exit {raw!r} is not HH:MM") from None
    if not time(9, 31) <= value <= time(16, 0):
        raise VariantError(f"variant {name!r}: time_exit {value:%H:%M} must be between 09:31 and 16:00 ET")
    return value


def _touch(name: str, raw: object) -> TouchRule:
    text = str(raw).strip()
    if text == "close":
        return TouchRule("close")
    action, _, delta = text.partition(":")
    if action == "roll" and delta:
        try:
            value = float(delta)
        except ValueError:
            value = math.nan
        if 5.0 <= value <= 50.0:
            return TouchRule("roll", value)
    raise VariantError(f"variant {name!r}: touch {text!r} must be 'close' or 'roll:N' with N between 5 and 50")


# -- the live rules a variant overrides -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LiveRules:
    """The configuration's rules that a replay needs (config.strikes, config.exits, the combo tick)."""

    profit_target_pct: float
    stop_multiple: float
    time_exit: time
    target_delta: float
    max_delta: float
    min_delta: float
    tie_tolerance: float
    wing_width: float
    tick: float
