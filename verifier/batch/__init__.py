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

from .context import BatchOptions, VerificationContext, context_for
from .driver import ChunkSizer, make_engine, read_results, run_batch, verify_many
from .engines import InlineEngine, PoolEngine, WorkerLost
from .inputs import InputRef, discover
from .records import ERROR, NOT_VERIFIED, VERIFIED, verify_input
from .summary import BatchSummary

__all__ = [
    "ERROR",
    "NOT_VERIFIED",
    "VERIFIED",
    "BatchOptions",
    "BatchSummary",
    "ChunkSizer",
    "InlineEngine",
    "InputRef",
    "PoolEngine",
    "VerificationContext",
    "WorkerLost",
    "context_for",
    "discover",
    "make_engine",
    "read_results",
    "run_batch",
    "verify_input",
    "verify_many",
]
