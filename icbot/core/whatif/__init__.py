"""What-if replays: a recorded trade day walked again under a variant of the live rules (docs/whatif.md).

The live bot trades exactly the configured strategy; this module only answers "what would another rule have
done on the days icbot traded", from the 1-minute bars `check` recorded. It never decides anything live and has
no way to: it is pure (no I/O, no clock) and returns numbers.

Honesty rules that shape every function here:

* the exit rules are the live ones — `core.exits.exit_prices` for the prices and `core.settlement.experiment_exit`
  for the order in which they fire (profit target, stop, time exit) — not a second copy of them;
* a fill is the recorded mid plus a stated slippage per leg, toward the side that costs money;
* where the bars cannot answer (a missing minute, a strike not recorded, bars that end before any exit) the
  result says so in `gaps` and has no P/L, rather than a number filled in from elsewhere.
"""

# The modules, imported by name where they are needed (this file imports none, so that the journal reader and a
# quiet `icbot check` load only `bars`): `variants` (a variant's overrides, parsed and checked), `bars` (the bars
# table's names, a day's bars, whether recording is due), `record_range` (which strikes `check` records), `replay`
# (a day walked again), `blackscholes` (a delta from a recorded price).
