"""Perseus credentials: the consumption, tariff and emissions report credentials, built unsigned.

    from perseus.issuer.credentials import build_consumption_credential, Metadata
    credential = build_consumption_credential(data, issuer="did:web:edp.example", metadata=Metadata("SmartMeterViaDCC"))
    # then: perseus.issuer.signing.sign_document(credential, key)

Every builder returns a VC 2.0 credential (``@context`` = [VC v2, Perseus v1]) that has the shape of its
type (`perseus.verifier.shapes`) and is strict-mode-clean JSON-LD, or raises a `PerseusError` naming the
problem. Vocabulary: ``contexts/perseus/vocab.ttl``; shapes: ``contexts/perseus/shapes/``.
"""

from perseus.verifier.digests import credential_digest

from .claims import DATA_SOURCES, Assurance, Metadata, Provenance, ProvenanceStep, steps_from_ib1
from .consumption import build_consumption_credential
from .emissions import build_emissions_credential
from .envelope import CONTEXT, PERSEUS_V1, VC_V2, CredentialShapeError
from .tariff import build_tariff_credential

__all__ = [
    "CONTEXT",
    "DATA_SOURCES",
    "PERSEUS_V1",
    "VC_V2",
    "Assurance",
    "CredentialShapeError",
    "Metadata",
    "Provenance",
    "ProvenanceStep",
    "build_consumption_credential",
    "build_emissions_credential",
    "build_tariff_credential",
    "credential_digest",
    "steps_from_ib1",
]
