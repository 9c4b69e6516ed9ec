"""What the README states about the code stays true."""

from __future__ import annotations

import re
from pathlib import Path

from missionlab.sandbox.routes import api_operations

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_endpoint_count_is_the_number_of_routes() -> None:
    stated = re.findall(r"all (\d+) endpoints", README)
    assert stated, "the README no longer says how many endpoints the client covers"
    assert {int(n) for n in stated} == {len(api_operations())}
