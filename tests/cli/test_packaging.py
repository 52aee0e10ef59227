"""Installing icbot prints no setuptools deprecation: `license` is an SPDX expression string (PEP 639)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_license_is_an_spdx_string_and_the_build_backend_understands_it():
    data = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    license_ = data["project"]["license"]
    assert isinstance(license_, str), "a TOML table here makes setuptools print a deprecation warning"
    assert re.fullmatch(r"LicenseRef-[A-Za-z0-9.\-]+|[A-Za-z0-9.\-+ ()]+", license_)
    [setuptools] = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    minimum = re.search(r">=\s*(\d+)", setuptools)
    assert minimum and int(minimum.group(1)) >= 77, "SPDX license strings need setuptools >= 77"
