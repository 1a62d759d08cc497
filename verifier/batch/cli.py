"""`perseus verify-batch`: verify a whole book of credentials into a JSON Lines results file.

    perseus verify-batch book/ export.jsonl archive.zip --out results.jsonl [--workers N]
                         [--dask [ADDRESS]] [--status-list FILE …] [--resume] [--json | --quiet]

Exit codes, like `perseus verify`: 0 every input verified; 1 some input not verified or not
readable (its record says why); 2 the command cannot run (a missing input path, a bad option, an
unreachable cluster) — one sentence on stderr. Progress is shown on stderr only when it is a
terminal and neither --json nor --quiet is given. Heavy imports wait until the command runs, so
registering it costs `perseus verify` nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

_PROGRESS_EVERY = 0.25  # seconds between progress line updates


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of workers")
    return int(text)


def register(commands: Any) -> None:
    """Add `verify-batch` to the `perseus` sub-commands."""
    batch = commands.add_parser(
        "verify-batch",
        help="verify many credentials (files, folders, zips, JSON Lines) into a JSON Lines results file",
        description="Verify many credentials, presentations and bundles at once, on this machine's cores or a Dask "
        "cluster, writing one JSON record per input to --out and printing a summary. Exit 0 when every input "
        "verified, 1 when some did not (their records say why), 2 when the command cannot run.",
    )
    batch.add_argument("inputs", nargs="+", metavar="INPUT", help="a credential file, a folder, a .zip or a .jsonl/.ndjson file")
    batch.add_argument("--out", required=True, metavar="FILE", help="the JSON Lines results file (- for standard output)")
    batch.add_argument("--workers", type=_positive, metavar="N", help="worker processes (default: one per core; 1 runs in this process)")
    batch.add_argument(
        "--dask",
        nargs="?",
        const=True,
        metavar="ADDRESS",
        help="run on Dask: a LocalCluster, or the scheduler at ADDRESS (default: $DASK_SCHEDULER_ADDRESS if set); "
        "needs the 'dask' extra",
    )
    batch.add_argument("--status-list", action="append", metavar="FILE", help="a status list credential, loaded once per worker; repeat for each")
    batch.add_argument("--checks", metavar="LIST", help="comma-separated checks, as for `perseus verify`")
    batch.add_argument("--shapes", action="store_true", help="also check Perseus credentials against their type's shape")
    batch.add_argument("--resume", action="store_true", help="skip inputs already answered in --out and append the rest")
    quiet = batch.add_mutually_exclusive_group()
    quiet.add_argument("--json", action="store_true", help="print the summary as JSON (no progress)")
    quiet.add_argument("--quiet", action="store_true", help="print nothing but errors (no summary, no progress)")
    batch.set_defaults(run=_cmd_verify_batch)


class _Progress:
    """One self-rewriting line on stderr: done so far, rate, and outcome counts."""

    def __init__(self) -> None:
        self.last = 0.0
        self.shown = False

    def __call__(self, summary: Any) -> None:
        now = time.monotonic()
        if now - self.last < _PROGRESS_EVERY:
            return
        self.last = now
        line = f"\r{summary.total:,} done ({summary.rate():,.1f}/s): {summary.outcomes['verified']:,} verified, {summary.outcomes['not-verified']:,} not, {summary.outcomes['error']:,} errors"
        sys.stderr.write(line + "\x1b[K")
        sys.stderr.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _cmd_verify_batch(args: argparse.Namespace) -> int:
    from perseus.verifier.cli import EXIT_BAD_INPUT, EXIT_NOT_VERIFIED, EXIT_OK, UsageError

    from .context import BatchOptions
    from .driver import make_engine, run_batch
    from .inputs import check_paths

    if args.dask and args.workers and args.dask is not True:
        raise UsageError("--workers sets the size of a LocalCluster; an existing Dask cluster has its own workers")
    check_paths(args.inputs)
    options = BatchOptions.create(checks=args.checks, shapes=args.shapes, status_lists=args.status_list or [])
    progress = _Progress() if not (args.json or args.quiet or args.out == "-") and sys.stderr.isatty() else None
    engine = make_engine(args.workers, args.dask)
    try:
        summary = run_batch(args.inputs, args.out, options=options, engine=engine, resume=args.resume, on_record=progress)
    except KeyboardInterrupt:
        if progress:
            progress.end()
        if args.out != "-":
            sys.stderr.write(f"perseus verify-batch: interrupted; the records so far are in {args.out} (run again with --resume to finish)\n")
        raise
    finally:
        engine.close()
    if progress:
        progress.end()
    report = sys.stderr if args.out == "-" else sys.stdout
    if summary.total == 0:
        sys.stderr.write(f"perseus verify-batch: error: found no input in {', '.join(args.inputs)}\n")
        return EXIT_BAD_INPUT
    if args.json:
        report.write(json.dumps(summary.to_json(), indent=2) + "\n")
    elif not args.quiet:
        report.write(summary.report() + "\n")
    return EXIT_OK if summary.all_verified else EXIT_NOT_VERIFIED
