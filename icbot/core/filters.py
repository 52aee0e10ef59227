"""The day filters a trade must pass before selection (docs/strategy.md): today only the optional VIX ceiling."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FilterVerdict:
    trade: bool
    applied: bool  # False when no filter is configured (journaled as skipped)
    reason: str


def vix_filter(vix: float | None, max_vix: float | None) -> FilterVerdict:
    """Skip the day when VIX is above `max_vix`; with the filter on, a missing VIX quote is no trade either
    (a filter that cannot be evaluated must not silently pass)."""
    if max_vix is None:
        return FilterVerdict(True, False, "no VIX filter configured")
    if vix is None:
        return FilterVerdict(False, True, f"VIX filter is on (max {max_vix}) but no VIX quote arrived")
    if vix > max_vix:
        return FilterVerdict(False, True, f"VIX {vix:.2f} > max_vix {max_vix}")
    return FilterVerdict(True, True, f"VIX {vix:.2f} ≤ {max_vix}")
