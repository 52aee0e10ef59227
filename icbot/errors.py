"""Errors classified by remedy; each carries the process exit code docs/operations.md documents.

0 done or nothing to do · 1 unexpected · 2 bad configuration or usage · 3 no trade today, safely aborted ·
4 critical: a position without complete exits, or a broker/journal conflict.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_NO_TRADE = 3
EXIT_CRITICAL = 4


class IcbotError(Exception):
    """Base class: a failure icbot understands and can explain in one line."""

    exit_code = EXIT_UNEXPECTED


class ConfigError(IcbotError):
    """The configuration (file, environment or flags) is invalid. One line names key, value and what is allowed."""

    exit_code = EXIT_USAGE


class UsageError(IcbotError):
    """The command line or an input file is wrong."""

    exit_code = EXIT_USAGE


class DayEnded(IcbotError):
    """Ends a trading day's run from inside a phase; `phase` is where (journaled, saved and alerted by the one
    place that catches it, icbot/runner/run_today.py)."""

    def __init__(self, message: str, *, phase: str) -> None:
        super().__init__(message)
        self.phase = phase


class NoTrade(DayEnded):
    """Today's trade was safely not made (no fill, filter, no qualifying strike, gateway down...)."""

    exit_code = EXIT_NO_TRADE


class Critical(DayEnded):
    """Risk is open or unknown: a position without complete exits, or the journal and broker disagree."""

    exit_code = EXIT_CRITICAL


class BrokerError(IcbotError):
    """The gateway answered with an error we cannot work around for this request."""

    exit_code = EXIT_NO_TRADE


class GatewayUnavailable(BrokerError):
    """Could not connect (or stay connected) to IB Gateway / TWS."""


class TransientBrokerError(BrokerError):
    """A read failed in a way worth retrying (timeout, connectivity 1100/1102)."""


class StoreError(IcbotError):
    """The SQLite journal cannot be opened or is not an icbot database."""

    exit_code = EXIT_USAGE


class SchemaOutdated(StoreError):
    """A read-only open found migrations pending: a writing open (which migrates) is what it needs."""
