"""The Perseus trust registry (not built yet): who may issue what — roles, keys, assurance, validity over
time — published as signed snapshots that verify offline, plus a query service.

Until it exists, issuer accreditation is not checked; the verifier resolves did:key only (did:web will be
resolved through a registry snapshot, see ``perseus.verifier.loader.DocumentLoader.with_did_resolver``).
"""
