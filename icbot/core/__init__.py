"""The pure strategy core: calendar arithmetic, strike choice, prices, exits and size.

Nothing in here does I/O, reads the clock or talks to the broker; time, the exchange calendar, quotes and
account figures are arguments. That is what makes every rule of docs/strategy.md testable with plain tables.
"""
