"""The one switch for golden files: ``UPDATE_GOLDEN=1 pytest`` rewrites them instead of comparing."""

from __future__ import annotations

import os
from pathlib import Path

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def check_golden(path: Path, actual: str) -> None:
    """Compare ``actual`` with the golden file at ``path``, or rewrite it under ``UPDATE_GOLDEN=1``."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (
        f"{path.name} changed: inspect the difference, then run with UPDATE_GOLDEN=1"
    )
