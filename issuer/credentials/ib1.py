"""The IB1 Perseus scheme identifiers a credential states, loaded from ``data/ib1.json``.

Why a data file: standards, licences and processes are versioned by date in the IB1 registry
(``.../standard/energy-consumption-data/2026-03-12``); when the scheme publishes a new version, the
identifiers change here and nowhere else. Credentials use them exactly as published.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["dataset_assurance_level_url", "ib1", "missing_data_url", "pcaf_wording"]


@cache
def ib1() -> dict[str, Any]:
    """The parsed identifier file (shared; do not mutate)."""
    text = resources.files(__package__).joinpath("data", "ib1.json").read_text(encoding="utf-8")
    return json.loads(text)


def dataset_assurance_level_url(level: int) -> str:
    """``https://registry.trust.ib1.org/dataset-assurance-level/LevelN`` for N in 1..4."""
    if level not in (1, 2, 3, 4):
        raise ValueError(f"the IB1 dataset assurance level is 1 to 4, got {level!r}")
    return str(ib1()["dataset_assurance_level"]).format(level=level)


def missing_data_url(value: str) -> str:
    """The IB1 Perseus missing-data IRI for Complete, Missing or Substituted."""
    return str(ib1()["missing_data"][value])


def pcaf_wording(score: int) -> str:
    return str(ib1()["pcaf"]["scores"][str(score)])
