"""The Perseus issuer: what a data provider runs — keys, signing, the Perseus credential builders, the
energy arithmetic and input adapters, storage, status lists and the W3C VC API service.

    from perseus.issuer import generate_key_file, sign_document
    key = generate_key_file("Ed25519")
    signed = sign_document(credential, key)

The service (`perseus serve`) needs the ``issuer`` extra (FastAPI, uvicorn, SQLAlchemy, psycopg); the
rest needs only the verifier's dependencies. Names are loaded on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "KeyFile": "keyfile",
    "generate_key_file": "keyfile",
    "read_key_file": "keyfile",
    "write_key_file": "keyfile",
    "sign_document": "signing",
    "build_consumption_credential": "credentials",
    "build_tariff_credential": "credentials",
    "build_emissions_credential": "credentials",
    "open_storage": "storage",
    "create_app": "service",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'perseus.issuer' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
