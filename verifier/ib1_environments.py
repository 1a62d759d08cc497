"""IB1 trust-framework environments (core, pilot, sandbox): what an IB1 provenance record is checked against.

Why a data file (``data/ib1_environments.json``) and not constants: the trust framework URL, the pinned IB1
Signing CA roots and the Perseus role URLs differ per environment and change over time (roles were renamed
between registry versions; roots are rotated). A verifier pins roots it was *given*: nothing is fetched.

No real IB1 Signing CA root is bundled (none was available to this project): an environment's roots come from
the data file once added there, or at run time (`Ib1Environment.with_roots`, ``perseus verify --ib1-roots``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

from cryptography import x509

from .errors import MalformedValueError

__all__ = ["ENVIRONMENT_NAMES", "Ib1Environment", "ib1_environment", "load_roots_pem"]

ENVIRONMENT_NAMES = ("core", "pilot", "sandbox")


@dataclass(frozen=True)
class Ib1Environment:
    """One IB1 trust-framework environment: a record must name `trust_framework` and chain to `roots`."""

    name: str
    trust_framework: str
    roots: tuple[x509.Certificate, ...] = ()
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def with_roots(self, roots: Sequence[x509.Certificate] | bytes | str) -> "Ib1Environment":
        """The same environment with extra pinned roots (certificates, or PEM text holding one or more)."""
        extra = load_roots_pem(roots) if isinstance(roots, (bytes, str)) else tuple(roots)
        return replace(self, roots=(*self.roots, *extra))

    def role_urls(self, party: str) -> tuple[str, ...]:
        """Every role URL this environment uses for a party (e.g. ``energy-data-provider``), old and new names."""
        return tuple(self.roles.get(party, ()))


def load_roots_pem(pem: bytes | str) -> tuple[x509.Certificate, ...]:
    """Parse PEM text holding one or more root certificates; an error names what is wrong."""
    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise MalformedValueError(f"the IB1 root certificates are not PEM X.509 certificates ({exc})") from None
    return tuple(certificates)


@cache
def _config() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", "ib1_environments.json").read_text(encoding="utf-8")
    return json.loads(text)


def ib1_environment(name: str = "core") -> Ib1Environment:
    """The named environment as configured in the package's data file."""
    environments = _config()["environments"]
    if name not in environments:
        raise MalformedValueError(f"unknown IB1 environment {name!r}; choose from {', '.join(sorted(environments))}")
    entry = environments[name]
    roots: tuple[x509.Certificate, ...] = ()
    for pem in entry.get("signingRoots", []):
        roots += load_roots_pem(pem)
    roles = {party: tuple(urls) for party, urls in entry.get("roles", {}).items()}
    return Ib1Environment(name=name, trust_framework=entry["trustFramework"], roots=roots, roles=roles)
