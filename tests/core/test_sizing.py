"""Sizing: fixed or percent of the account, always capped, zero with a reason."""

from __future__ import annotations

import pytest

from icbot.config import SizeConfig
from icbot.core.sizing import MAX_CONTRACTS_CEILING, contracts_for


@pytest.mark.parametrize(
    ("cfg", "nlv", "funds", "margin", "contracts", "reason"),
    [
        (SizeConfig(), None, None, None, 1, "fixed 1"),
        (SizeConfig(contracts=3, max_contracts=5), None, None, None, 3, "fixed 3"),
        (SizeConfig("net_liquidation_pct", percent=2, max_contracts=5), 100_000, None, 1_950, 1, "2% of net liq"),
        (SizeConfig("net_liquidation_pct", percent=6, max_contracts=5), 100_000, None, 2_000, 3, "→ 3"),
        (SizeConfig("net_liquidation_pct", percent=50, max_contracts=4), 100_000, None, 2_000, 4, "capped at 4"),
        (SizeConfig("available_funds_pct", percent=10, max_contracts=5), 1e9, 30_000, 1_000, 3, "available funds"),
        (SizeConfig("available_funds_pct", percent=1, max_contracts=5), None, 50_000, 1_000, 0, "below one condor"),
        (SizeConfig("net_liquidation_pct", percent=2, max_contracts=5), None, None, 1_000, 0, "net liquidation is unk"),
        (SizeConfig("net_liquidation_pct", percent=2, max_contracts=5), 100_000, None, None, 0, "margin per condor is"),
        (SizeConfig("net_liquidation_pct", percent=2, max_contracts=5), 100_000, None, 0.0, 0, "not positive"),
        (SizeConfig("available_funds_pct", percent=2, max_contracts=5), 100_000, -5.0, 100, 0, "available funds is"),
    ],
)
def test_contracts_for(cfg, nlv, funds, margin, contracts, reason):
    result = contracts_for(cfg, net_liquidation=nlv, available_funds=funds, margin_per_contract=margin)
    assert result.contracts == contracts
    assert reason in result.reason
    assert result.is_trade == (contracts > 0)


def test_the_hard_ceiling_holds_even_for_a_hand_built_config():
    cfg = SizeConfig(contracts=50, max_contracts=50)  # bypasses load_config's validation on purpose
    assert contracts_for(cfg, net_liquidation=None, available_funds=None, margin_per_contract=None).contracts == (
        MAX_CONTRACTS_CEILING
    )


def test_exact_multiples_are_not_lost_to_float_rounding():
    cfg = SizeConfig("net_liquidation_pct", percent=0.3, max_contracts=10)
    # 0.3% of 100,000 = 300.00000000000006 or 299.99999999999994 depending on the order of operations
    assert contracts_for(cfg, net_liquidation=100_000, available_funds=None, margin_per_contract=100).contracts == 3
