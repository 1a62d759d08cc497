"""The one document loader: bundled contexts and locally resolvable DIDs, never the network.

JSON-LD processing asks it for contexts (`loader(url)`); proof verification asks it for verification
methods (`loader.verification_method(did_url)`). Anything it cannot answer from what is on this
machine is a `DocumentLoaderError` naming the URL — there is no fallback that fetches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from perseus import contexts as bundled

from .errors import DidResolutionError, DocumentLoaderError

DidResolver = Callable[[str], dict[str, Any]]


def _default_did_resolvers() -> dict[str, DidResolver]:
    from .did_key import resolve_did_key

    return {"key": resolve_did_key}


class DocumentLoader:
    """Serves the bundled, hash-pinned contexts (plus any `extra_contexts`) and resolves DIDs offline.

    `did_resolvers` maps a DID method name ("key", "web") to a function returning the DID document;
    did:key is always available, did:web only through a trust-registry snapshot that lists the
    issuer's DID document.
    """

    def __init__(
        self,
        extra_contexts: Mapping[str, Any] | None = None,
        did_resolvers: Mapping[str, DidResolver] | None = None,
    ) -> None:
        self._extra = dict(extra_contexts or {})
        self._did_resolvers = _default_did_resolvers()
        self._did_resolvers.update(did_resolvers or {})

    def __call__(self, url: str) -> Any:
        """A JSON-LD remote context document for `url`."""
        if url in self._extra:
            return self._extra[url]
        if bundled.find(url) is not None:
            return bundled.load(url)
        raise DocumentLoaderError(url)

    def with_contexts(self, extra: Mapping[str, Any]) -> "DocumentLoader":
        """A loader that also serves `extra` (URL → parsed context document)."""
        new = DocumentLoader({**self._extra, **extra})
        new._did_resolvers = dict(self._did_resolvers)
        return new

    def with_did_resolver(self, method: str, resolver: DidResolver) -> "DocumentLoader":
        new = DocumentLoader(self._extra)
        new._did_resolvers = {**self._did_resolvers, method: resolver}
        return new

    def resolve_did(self, did: str) -> dict[str, Any]:
        """The DID document of `did` (no fragment), from a local resolver only."""
        if not did.startswith("did:"):
            raise DidResolutionError(f"{did!r} is not a DID")
        method = did.split(":", 2)[1]
        resolver = self._did_resolvers.get(method)
        if resolver is None:
            raise DidResolutionError(
                f"cannot resolve {did!r}: DID method {method!r} cannot be resolved offline "
                f"(resolvable here: {', '.join('did:' + m for m in sorted(self._did_resolvers))})"
            )
        return resolver(did)

    def verification_method(self, url: str) -> dict[str, Any]:
        """The verification method a DID URL (`did:...#fragment`) identifies, with its `controller`."""
        did, _, fragment = url.partition("#")
        document = self.resolve_did(did)
        for relationship in ("verificationMethod", "assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"):
            for method in document.get(relationship, []):
                if not isinstance(method, dict):
                    continue
                method_id = method.get("id", "")
                if method_id == url or (method_id.startswith("#") and did + method_id == url):
                    return method
        raise DidResolutionError(f"the DID document of {did!r} has no verification method {('#' + fragment) if fragment else url!r}")
