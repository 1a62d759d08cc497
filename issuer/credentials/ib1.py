"""The IB1 Perseus scheme identifiers a credential states, loaded from ``data/ib1.json``.

Why a data file: standards, licences and processes are versioned by date in the IB1 registry
(``.../standard/energy-consumption-data/2026-03-12``); when the scheme publishes a new version, the
identifiers change here and nowhere else. Credentials use them exactly as published.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["dataset_assurance_level_url", "ib1", "missing_data_url", "pcaf_wording", "role_url", "trust_framework_environment"]


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


def trust_framework_environment() -> str:
    """The IB1 trust-framework environment whose role URLs credentials cite: ``PERSEUS_TRUST_FRAMEWORK`` or the default."""
    envs = ib1()["trust_framework_environments"]
    name = os.environ.get("PERSEUS_TRUST_FRAMEWORK", envs["default"])
    if name not in envs or name.startswith("_") or name in ("default", "newer_role_names"):
        choices = ", ".join(k for k in envs if not k.startswith("_") and k not in ("default", "newer_role_names"))
        raise ValueError(f"PERSEUS_TRUST_FRAMEWORK must be one of {choices}, got {name!r}")
    return str(name)


def role_url(role: str, environment: str | None = None) -> str:
    """The registry URL of a Perseus role (``energy-data-provider``, ``carbon-accounting-provider``,
    ``financial-service-provider``) in a trust-framework environment (configuration in ``data/ib1.json``)."""
    env = ib1()["trust_framework_environments"][environment or trust_framework_environment()]
    return str(env["roles"][role])
