"""Files shipped beside the package: hook shims and templates (force-included in the wheel)."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def resource(name: str) -> Path:
    """`hooks/…` or `templates/…`: from the wheel's gitml/_data, or the source checkout."""
    for base in (_PKG / "_data", _PKG.parent):
        candidate = base / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"gitml resource {name!r} is missing from this installation")
