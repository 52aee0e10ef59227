"""`icbot report`'s outputs: the journal read for a report, and the terminal, CSV/JSON and HTML renderings.

The metrics themselves are `icbot.core.metrics` (pure). Nothing on the trading path imports this package.
"""
