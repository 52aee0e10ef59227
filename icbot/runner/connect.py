"""Opening a gateway session as one of icbot's client ids (docs/operations.md: run-today `client_id`, check
`+1`, status `+2`, kill `+3`, doctor `+4`; kill and check's repairs also connect as the id that placed an order,
since only that client may cancel it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from icbot.broker.gateway import Gateway
from icbot.runner.context import RunContext

CHECK_OFFSET = 1
KILL_OFFSET = 3


async def connect_as(ctx: RunContext, client_id: int, *, within: timedelta) -> Gateway:
    """A session as `client_id` for the configured gateway, account check and product, retried until `within`."""
    return await Gateway.connect(
        replace(ctx.config.gateway, client_id=client_id),
        clock=ctx.clock,
        deadline=ctx.now() + within,
        mode=ctx.mode,
        strategy=ctx.config.strategy,
    )
