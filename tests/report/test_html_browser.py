"""A short sample of `make report-check` in the normal suite: one small report page in a real headless Chromium
(skipped where no Chromium is installed; `make report-check` installs Debian's and runs the full check)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.report_browser import PROBE, find_chromium, load, verdict, write_page

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="no Chromium (make report-check installs it)")


def test_a_small_page_in_a_real_browser(tmp_path: Path):
    chromium = find_chromium()
    assert chromium is not None
    page = write_page(tmp_path, "small", trades=12, capital=None, odd_days=True)
    probe_page = tmp_path / "small-probe.html"
    probe_page.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    plain, probed = load(chromium, page, tmp_path), load(chromium, probe_page, tmp_path)
    v = verdict("small", plain, probed, trades=14)
    assert not v.problems, "\n".join(v.problems + v.facts)
    shutil.rmtree(tmp_path, ignore_errors=True)
