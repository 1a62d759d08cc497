"""The Perseus trust registry: who may issue what, when — entities, their keys and roles over time,
published as signed snapshots that the verifier checks offline, plus a query service.

    perseus registry init --registry https://registry.example --framework sandbox
    perseus registry add https://directory.example/m/edp --name "Example Energy Ltd" --did did:key:z6Mk… --reason onboarding
    perseus registry grant https://directory.example/m/edp energy-data-provider --from 2024-01-01 --reason "membership approved"
    perseus registry snapshot -o snapshot.json
    perseus verify credential.json --registry snapshot.json --trust-anchor did:key:z6Mk…   # the operator's key

Dependencies point one way, ``trust-registry → verifier``: the snapshot format, its verification and the
accreditation decision live in the verifier (``perseus.verifier.registry_snapshot`` and
``perseus.verifier.accreditation``), so a recipient needs neither this package nor a database. This
package is the authoring side: storage (`storage/`), the IB1 Directory import (`ib1_import`), snapshot
diffs (`snapshot_diff`), the CLI (`cli`) and the query service (`service/`, needs the ``registry`` extra).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "RegistryStore": "storage.store",
    "RegistrySettings": "storage.store",
    "RegistryHome": "home",
    "import_members_with_role": "ib1_import",
    "diff_snapshots": "snapshot_diff",
    "generate_operator_key": "operator_key",
    "read_operator_key": "operator_key",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'perseus.registry' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
