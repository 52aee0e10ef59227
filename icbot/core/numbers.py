"""Exact decimal arithmetic for prices and deltas that arrive as binary floats.

A float like 16.900000000000002 (0.169 × 100) or a credit of 4.999999999 summed from leg fills must compare
and round as the decimal the human means. Every float entering the core is therefore snapped to a micro
grid (6 decimals) as a Decimal first; all comparisons and tick rounding happen on Decimals; results leave as
floats that are the nearest double to an exact tick multiple.
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

MICRO = Decimal("0.000001")


def dec(value: float | int | Decimal) -> Decimal:
    """`value` as a Decimal on the 1e-6 grid; NaN and infinities are refused."""
    if isinstance(value, Decimal):
        d = value
    else:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        d = Decimal(value)
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value}")
    return d.quantize(MICRO, rounding=ROUND_HALF_EVEN)


def floor_to(value: Decimal, tick: Decimal) -> Decimal:
    """The largest multiple of `tick` that is ≤ value (toward −∞)."""
    return (value / tick).to_integral_value(rounding=ROUND_FLOOR) * tick


def is_multiple(value: Decimal, tick: Decimal) -> bool:
    return (value / tick) == (value / tick).to_integral_value()


def to_float(value: Decimal) -> float:
    """A Decimal price as a float; never returns −0.0 (it would print as "-0.00")."""
    f = float(value)
    return 0.0 if f == 0 else f
