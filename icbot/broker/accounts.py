"""Which IB account a run trades, and whether it fits the configured mode (docs/strategy.md §10).

A paper run that finds itself logged into a live account (or the reverse) must stop before it reads a single
quote: that mistake costs real money. IB paper accounts start with "DU"; live runs must name their account.
"""

from __future__ import annotations

from collections.abc import Sequence

from icbot.broker.errors import WrongAccount

PAPER_PREFIX = "DU"


def choose_account(mode: str, configured: str, managed: Sequence[str]) -> str:
    """The account to use, or WrongAccount with one line saying what to change."""
    if mode not in ("paper", "live", "experiment"):
        raise WrongAccount(f"unknown mode {mode!r}; expected paper, live or experiment")
    configured = (configured or "").strip()
    accounts = [a for a in managed if a]
    listing = ", ".join(accounts) or "none"
    if not accounts:
        raise WrongAccount("the gateway reported no managed accounts; is it logged in?")
    if configured and configured not in accounts:
        raise WrongAccount(f"gateway.account {configured} is not an account of this gateway (it has: {listing})")
    if mode == "live" and not configured:
        raise WrongAccount(f"mode live requires gateway.account to be set (the gateway has: {listing})")
    if configured:
        account = configured
    elif len(accounts) == 1 or mode == "experiment":
        account = accounts[0]
    else:
        raise WrongAccount(f"the gateway manages several accounts ({listing}); set gateway.account")
    if mode == "paper" and not account.startswith(PAPER_PREFIX):
        raise WrongAccount(
            f"mode paper needs an IB paper account ({PAPER_PREFIX}…), but the gateway is logged into {account}; "
            "connect to the paper gateway (port 4002) or change mode"
        )
    if mode == "live" and account.startswith(PAPER_PREFIX):
        raise WrongAccount(f"mode live but {account} is a paper account; use the live gateway (port 4001)")
    return account
