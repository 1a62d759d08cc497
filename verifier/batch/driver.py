"""Running a batch: inputs → chunks → an engine → records, with retries, results file and resume.

    for record in verify_many(["book/"], workers=4):       # records as chunks finish (any order)
        ...
    summary = run_batch(["book/"], "results.jsonl", resume=True)   # the results file and a summary

Chunk sizes come from measurement, not a constant: the driver first times a few empty tasks on the
engine (its per-task overhead: scheduling, pickling, a round trip — about 1 ms on a Dask LocalCluster,
less on the pool) and then learns the time per input from the chunks that come back, so that each task
runs about `OVERHEAD_FACTOR` times the overhead (overhead ≤ 2.5% of the work, under the 5% budget) and
at least `MIN_TASK_SECONDS`. Tiny credentials go many to a task; a year of readings goes a few.

Faults: a chunk whose worker died is retried once, each of its inputs as a task of its own, with at
most one task per worker in flight; an input whose worker dies again is reported as an error record
(``WORKER_LOST``). Nothing is lost: every input gets exactly one record.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from perseus.verifier.errors import PerseusError

from .context import BatchOptions
from .engines import Chunk, Engine, InlineEngine, PoolEngine, WorkerLost
from .inputs import Discovery, InputRef, check_paths, discover
from .records import WORKER_LOST, VerifyInput, error_record
from .summary import BatchSummary

OVERHEAD_FACTOR = 40  # a task runs >= 40x the engine's per-task overhead: overhead <= 2.5%
MIN_TASK_SECONDS = 0.05  # and at least this long, whatever the measurement says
MAX_CHUNK = 500  # inputs per task, whatever the measurement says (bounds memory and retry cost)
_CALIBRATION_TASKS = 8  # empty tasks per worker timed to measure the overhead


class ResultsFileError(PerseusError):
    """The results file cannot be written or resumed."""

    code = "PARSING_ERROR"


class ChunkSizer:
    """How many inputs the next task gets, from the engine's overhead and the observed time per input."""

    def __init__(self, overhead_seconds: float) -> None:
        self.overhead = overhead_seconds
        self.target = max(MIN_TASK_SECONDS, OVERHEAD_FACTOR * overhead_seconds)
        self.per_input: float | None = None

    def observe(self, inputs: int, seconds: float) -> None:
        if inputs <= 0:
            return
        sample = seconds / inputs
        self.per_input = sample if self.per_input is None else 0.8 * self.per_input + 0.2 * sample

    def size(self) -> int:
        if self.per_input is None or self.per_input <= 0:
            return 1
        return max(1, min(MAX_CHUNK, math.ceil(self.target / self.per_input)))


def chunk_stream(refs: Iterable[InputRef], sizer: ChunkSizer) -> Iterator[Chunk]:
    """Cut `refs` into chunks lazily, each as large as the sizer says at the moment it is cut."""
    source = iter(refs)
    while True:
        chunk = tuple(ref for _, ref in zip(range(sizer.size()), source))
        if not chunk:
            return
        yield chunk


def measure_overhead(engine: Engine, options: BatchOptions) -> float:
    """Seconds of engine overhead per task per worker, from timing empty tasks (after one warm-up
    round, which also builds every worker's context)."""
    warm = [()] * engine.workers
    for _ in engine.map_chunks(warm, options, None):
        pass
    count = _CALIBRATION_TASKS * engine.workers
    start = time.perf_counter()
    for _ in engine.map_chunks([()] * count, options, None):
        pass
    return (time.perf_counter() - start) * engine.workers / count


def make_engine(workers: int | None = None, dask: str | bool | None = None) -> Engine:
    """The engine for the options: Dask (``dask=True`` starts a LocalCluster, a string is a scheduler
    address), else a process pool, or the plain in-process loop for one worker."""
    if dask:
        from .dask_engine import DaskEngine  # the only import of Dask, and only when asked for

        return DaskEngine(address=dask if isinstance(dask, str) else None, workers=workers)
    if workers == 1:
        return InlineEngine()
    return PoolEngine(workers)


def verify_many(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    options: BatchOptions | None = None,
    engine: Engine | None = None,
    workers: int | None = None,
    skip: set[str] | frozenset[str] = frozenset(),
    verify: VerifyInput | None = None,
    discovery: Discovery | None = None,
    sizer: ChunkSizer | None = None,
) -> Iterator[dict[str, Any]]:
    """One record per input under `inputs` (except those named in `skip`), as chunks finish.

    `engine` defaults to a process pool of `workers` (all cores); it is closed at the end only if this
    function made it. `verify` replaces `records.verify_input` (a picklable function).
    """
    options = options or BatchOptions.create()
    own = engine is None
    engine = engine or make_engine(workers)
    try:
        if sizer is None:
            sizer = ChunkSizer(measure_overhead(engine, options) if not isinstance(engine, InlineEngine) else 0.0)
        refs = (ref for ref in discover(inputs, discovery) if ref.name not in skip)
        lost: list[InputRef] = []
        for chunk, outcome in engine.map_chunks(chunk_stream(refs, sizer), options, verify):
            if isinstance(outcome, WorkerLost):
                lost.extend(chunk)
                continue
            sizer.observe(len(chunk), outcome.seconds)
            yield from outcome.records
        if lost:
            for chunk, outcome in engine.map_chunks([(ref,) for ref in lost], options, verify, isolate=True):
                if isinstance(outcome, WorkerLost):
                    yield error_record(
                        chunk[0], WORKER_LOST, f"the worker verifying {chunk[0].name} died, and died again when it was retried alone ({outcome.detail})"
                    )
                else:
                    yield from outcome.records
    finally:
        if own:
            engine.close()


# -- the results file ---------------------------------------------------------------------------------


def read_results(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], int]:
    """The complete records of a results file, and the byte length they fill.

    A run that was stopped can leave half a line at the end; it is not a record, and resuming cuts
    it off before appending. A complete line that is not a record means the file is not ours.
    """
    records: list[dict[str, Any]] = []
    good = 0
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise ResultsFileError(f"results file {os.fspath(path)!r} cannot be read: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                break  # the unfinished last line of an interrupted run
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or not isinstance(record.get("input"), str):
                raise ResultsFileError(f"{os.fspath(path)!r} line {number} is not a verify-batch record; is this the right results file?")
            records.append(record)
            good += len(line)
    return records, good


def run_batch(
    inputs: list[str],
    out: str,
    *,
    options: BatchOptions | None = None,
    engine: Engine | None = None,
    workers: int | None = None,
    resume: bool = False,
    verify: VerifyInput | None = None,
    on_record: Callable[[BatchSummary], None] | None = None,
    sizer: ChunkSizer | None = None,
) -> BatchSummary:
    """Verify everything under `inputs` into the JSON Lines file `out` ("-": standard output).

    With `resume`, inputs already answered in `out` are skipped and new records are appended; the
    summary counts both.
    """
    check_paths(inputs)
    options = options or BatchOptions.create()
    summary = BatchSummary()
    done: set[str] = set()
    if out == "-":
        if resume:
            raise ResultsFileError("--resume needs a results file, not standard output")
        sink: IO[str] = sys.stdout
        close = False
    else:
        target = Path(out)
        if target.is_dir():
            raise ResultsFileError(f"results file {out!r} is a directory")
        if resume and target.exists():
            earlier, length = read_results(target)
            for record in earlier:
                if record["input"] not in done:
                    done.add(record["input"])
                    summary.add(record, earlier=True)
            try:
                with open(target, "r+b") as handle:
                    handle.truncate(length)
            except OSError as exc:
                raise ResultsFileError(f"results file {out!r} cannot be resumed: {exc.strerror}") from None
        try:
            sink = open(target, "a" if resume else "w", encoding="utf-8")
        except OSError as exc:
            raise ResultsFileError(f"results file {out!r} cannot be written: {exc.strerror}") from None
        close = True
    discovery = Discovery()
    if out != "-":
        discovery.exclude.add(str(Path(out).resolve()))  # never verify the file being written
    own = engine is None
    engine = engine or make_engine(workers)
    summary.engine = f"{engine.name}, {engine.workers} worker{'s' if engine.workers != 1 else ''}"
    try:
        for record in verify_many(inputs, options=options, engine=engine, skip=done, verify=verify, discovery=discovery, sizer=sizer):
            sink.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            sink.flush()
            summary.add(record)
            if on_record is not None:
                on_record(summary)
    finally:
        summary.skipped = list(discovery.skipped)
        summary.finish()
        if close:
            sink.close()
        if own:
            engine.close()
    return summary
