"""The JSON-LD contexts Perseus trusts, bundled as files and pinned by SHA-256 in ``manifest.json``.

Why bundled and pinned: a verifier that fetches contexts at run time stops working when w3.org or
w3id.org is down, and trusts whatever those servers return. Ours loads only these files, and refuses a
file whose bytes no longer match its pin (a tampered installation), so the set of terms a signature
covers is exactly what an auditor can read here (`perseus contexts`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

CONTEXTS_DIR = Path(__file__).resolve().parent
MANIFEST_PATH = CONTEXTS_DIR / "manifest.json"


class ContextIntegrityError(Exception):
    """A bundled context file does not match its pinned SHA-256 (the installation was altered)."""


@dataclass(frozen=True)
class BundledContext:
    url: str
    path: str  # relative to this folder, e.g. "w3c/credentials-v2.jsonld"
    sha256: str
    title: str

    @property
    def file(self) -> Path:
        return CONTEXTS_DIR / self.path

    @property
    def project_path(self) -> str:
        """The file's path relative to the project root (as `perseus contexts` prints it)."""
        return f"contexts/{self.path}"


@lru_cache(maxsize=1)
def bundled_contexts() -> tuple[BundledContext, ...]:
    """Every bundled context, in manifest order."""
    manifest = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return tuple(BundledContext(e["url"], e["path"], e["sha256"], e.get("title", "")) for e in manifest["contexts"])


@lru_cache(maxsize=1)
def _by_url() -> dict[str, BundledContext]:
    return {c.url: c for c in bundled_contexts()}


def find(url: str) -> BundledContext | None:
    return _by_url().get(url)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=None)
def load(url: str) -> Any:
    """The parsed JSON of the bundled context for `url`, after checking its pin.

    Raises KeyError for a URL that is not bundled and ContextIntegrityError for a file that changed.
    The result is cached and shared: callers must not mutate it.
    """
    entry = _by_url()[url]
    data = entry.file.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise ContextIntegrityError(
            f"{entry.project_path} has sha256 {digest}, but manifest.json pins {entry.sha256}; "
            "the installation has been altered — reinstall perseus-credentials"
        )
    return json.loads(data)
