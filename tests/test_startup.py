"""The collector pause of start-up (icbot/startup.py): ended once, by the first step of work (the gateway's part:
tests/broker/test_gateway_sim.py), and by nothing else."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from icbot import startup


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    startup._paused = False
    gc.unfreeze()
    (gc.enable if was else gc.disable)()


def test_started_ends_the_pause_of_starting_once():
    gc.enable()
    startup.starting()
    assert not gc.isenabled()
    frozen = gc.get_freeze_count()
    startup.started()
    assert gc.isenabled()
    assert gc.get_freeze_count() > frozen  # what start-up built is never walked again
    gc.disable()  # run-today pauses collection itself around the entry's send ...
    startup.started()  # ... and a second connection must not resume it
    assert not gc.isenabled()


def test_started_without_a_pause_changes_nothing():
    gc.disable()
    startup.started()
    assert not gc.isenabled()
    gc.enable()
    startup.started()
    assert gc.isenabled()


def test_main_leaves_the_collector_as_it_found_it(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """A command that never reaches a first step of work (here `--help`) still ends the start-up pause on its way
    out, so the entry point called in a longer-lived process does not leave collection off."""
    from icbot.cli.app import main

    gc.enable()
    monkeypatch.setattr(sys, "argv", ["icbot", "--help"])
    with pytest.raises(SystemExit):
        main()
    capsys.readouterr()
    assert gc.isenabled()
