"""Fixtures: one throwaway IB1-shaped PKI per test session (keys made in memory, never stored)."""

from __future__ import annotations

import pytest
from ib1_pki import CAP_ROLE, Party, Pki, make_pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki()


@pytest.fixture(scope="session")
def edp(pki: Pki) -> Party:
    return pki.leaf("Honest Dave's Accurate Meter Reading Co")


@pytest.fixture(scope="session")
def cap(pki: Pki) -> Party:
    return pki.leaf("Emission Calculations 4 U", roles=[CAP_ROLE])
