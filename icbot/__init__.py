"""icbot — one SPX 0DTE iron condor a day through Interactive Brokers, unattended."""

__version__ = "0.1.0"
