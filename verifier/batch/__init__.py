"""Bank-scale verification: many credentials at once, on this machine's cores or a Dask cluster.

    from perseus.verifier.batch import verify_many, run_batch
    for record in verify_many(["book/", "export.jsonl"], workers=4):   # one plain record per input
        print(record["input"], record["outcome"])
    summary = run_batch(["book/"], "results.jsonl", resume=True)        # JSON Lines results + counts

The modules, each for one thing: ``inputs`` (files, folders, zips, JSON Lines → references),
``context`` (the options every worker gets and the state it loads once), ``records`` (one input → a
record), ``engines`` (the in-process loop and the local process pool: standard library only),
``driver`` (chunking, retries, results file, resume), ``summary``, ``cli`` (`perseus verify-batch`).
``dask_engine`` is the one module that imports Dask, and only `make_engine(dask=...)` imports it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Loaded on first use, so that registering `perseus verify-batch` costs the other commands nothing.
_EXPORTS = {
    "BatchOptions": "context",
    "VerificationContext": "context",
    "context_for": "context",
    "ChunkSizer": "driver",
    "make_engine": "driver",
    "read_results": "driver",
    "run_batch": "driver",
    "verify_many": "driver",
    "InlineEngine": "engines",
    "PoolEngine": "engines",
    "WorkerLost": "engines",
    "InputRef": "inputs",
    "discover": "inputs",
    "ERROR": "records",
    "NOT_VERIFIED": "records",
    "VERIFIED": "records",
    "verify_input": "records",
    "BatchSummary": "summary",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'perseus.verifier.batch' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
