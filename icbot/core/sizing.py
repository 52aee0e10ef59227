"""How many condors to sell: fixed, or a percent of the account, always under two caps.

The result carries a reason in words because "0 contracts" is a no-trade day the user must be able to
understand from the alert alone. Percent modes divide a budget by IB's what-if margin of the exact order
(one condor), so the size follows the real requirement, not a formula of ours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from icbot.config import SizeConfig

# Hard rule (docs/strategy.md §8): no configuration can ask for more condors than this in one order.
MAX_CONTRACTS_CEILING = 10


@dataclass(frozen=True, slots=True)
class SizeResult:
    contracts: int
    reason: str

    @property
    def is_trade(self) -> bool:
        return self.contracts > 0


def contracts_for(
    cfg: SizeConfig,
    *,
    net_liquidation: float | None,
    available_funds: float | None,
    margin_per_contract: float | None,
) -> SizeResult:
    """The order quantity for today, or 0 with the reason there is no trade."""
    cap = min(cfg.max_contracts, MAX_CONTRACTS_CEILING)
    if cfg.mode == "fixed":
        wanted = cfg.contracts
        basis = f"fixed {wanted}"
    else:
        if cfg.mode == "net_liquidation_pct":
            label, amount = "net liquidation", net_liquidation
        elif cfg.mode == "available_funds_pct":
            label, amount = "available funds", available_funds
        else:
            return SizeResult(0, f"unknown size mode {cfg.mode!r}")
        if amount is None or not math.isfinite(amount) or amount <= 0:
            return SizeResult(0, f"{label} is unknown or not positive ({amount}); cannot size {cfg.percent:g}% of it")
        if margin_per_contract is None or not math.isfinite(margin_per_contract) or margin_per_contract <= 0:
            return SizeResult(0, f"what-if margin per condor is unknown or not positive ({margin_per_contract})")
        budget = amount * cfg.percent / 100.0
        # A tiny epsilon so 3 × 1000.0 / 1000.0 counts as 3 even when the float product lands a hair under.
        wanted = math.floor(budget / margin_per_contract + 1e-9)
        basis = (
            f"{cfg.percent:g}% of {label} {amount:,.2f} = {budget:,.2f}, "
            f"margin {margin_per_contract:,.2f} per condor → {wanted}"
        )
        if wanted < 1:
            return SizeResult(0, f"{basis}: budget below one condor's margin")
    if wanted > cap:
        return SizeResult(
            cap, f"{basis}, capped at {cap} (size.max_contracts {cfg.max_contracts}, ceiling {MAX_CONTRACTS_CEILING})"
        )
    return SizeResult(wanted, basis)
