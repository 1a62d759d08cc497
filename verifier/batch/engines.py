"""The engines that run chunks of a batch: a plain in-process loop and a local process pool.

Both use only the standard library. An engine takes chunks (tuples of `InputRef`) lazily, keeps a
bounded number in flight, and yields ``(chunk, ChunkResult)`` as chunks finish — or ``(chunk,
WorkerLost)`` for a chunk whose worker process died while running it. It never decides what to do
about a lost chunk: the driver (``driver.py``) retries its inputs once, alone, and reports an input
whose worker dies again as an error. The Dask engine (``dask_engine.py``) follows the same contract.

Why the pool tracks what each worker is running. `concurrent.futures.ProcessPoolExecutor` breaks as a
whole when one worker dies: every pending future fails with `BrokenProcessPool`, and the executor
terminates the other workers. Blaming all of them would charge innocent chunks their one retry. So
each worker writes the id of the task it is running into a shared array and clears it when the task
ends — or when the pool terminates it (SIGTERM). After a break, a slot still holding a task id names
the chunk whose worker died; every other unfinished chunk is resubmitted to a fresh pool unchanged.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

from perseus.verifier.errors import PerseusError

from .context import BatchOptions
from .inputs import InputRef
from .records import ChunkResult, VerifyInput, run_chunk

Chunk = tuple[InputRef, ...]

# How many times a pool may break with no task to blame (a worker killed between tasks, or unable to
# start) before the batch stops with an error instead of restarting workers forever.
MAX_UNEXPLAINED_BREAKS = 3


@dataclass(frozen=True)
class WorkerLost:
    """The worker running a chunk died (killed, out of memory, a crash in native code)."""

    detail: str


class EngineError(PerseusError):
    """The engine itself cannot go on (workers cannot start, the cluster is unreachable)."""

    code = "BATCH_ENGINE_ERROR"


class Engine(Protocol):
    """What the driver needs from an engine."""

    name: str
    workers: int

    def map_chunks(
        self, chunks: Iterable[Chunk], options: BatchOptions, verify: VerifyInput | None, *, isolate: bool = False
    ) -> Iterator[tuple[Chunk, ChunkResult | WorkerLost]]:
        """Run every chunk; ``isolate`` keeps at most one chunk per worker in flight (for retries)."""
        ...

    def close(self) -> None: ...


class InlineEngine:
    """Every chunk in this process, one after another: the reference every other engine must match."""

    name = "in-process"
    workers = 1

    def map_chunks(
        self, chunks: Iterable[Chunk], options: BatchOptions, verify: VerifyInput | None, *, isolate: bool = False
    ) -> Iterator[tuple[Chunk, ChunkResult | WorkerLost]]:
        for chunk in chunks:
            yield chunk, run_chunk(chunk, options, verify)

    def close(self) -> None:
        pass


# -- the process pool ------------------------------------------------------------------------------------

_slot = -1
_running: Any = None


def _start_worker(running: Any, next_slot: Any) -> None:
    """Pool initializer: take a slot in the shared array, and clear it if the pool terminates us."""
    global _slot, _running
    with next_slot.get_lock():
        _slot = next_slot.value
        next_slot.value += 1
    _running = running
    _running[_slot] = -1
    signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum: int, frame: Any) -> None:
    # The pool is stopping us because *another* worker died: whatever we run is not to blame.
    _running[_slot] = -1
    os._exit(128 + signum)


def _run_tracked(task_id: int, chunk: Chunk, options: BatchOptions, verify: VerifyInput | None) -> ChunkResult:
    _running[_slot] = task_id
    try:
        return run_chunk(chunk, options, verify)
    finally:
        _running[_slot] = -1


def _mp_context() -> Any:
    """forkserver where there is one (workers fork from a small clean process with the verifier
    preloaded: fast to start and restart, and safe in a threaded parent); spawn elsewhere."""
    if "forkserver" in multiprocessing.get_all_start_methods() and sys.platform != "darwin":
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["perseus.verifier.batch.records"])
        return context
    return multiprocessing.get_context("spawn")


class PoolEngine:
    """A local pool of single-threaded worker processes (default: one per core)."""

    name = "process pool"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._context = _mp_context()
        self._pool: ProcessPoolExecutor | None = None
        self._running: Any = None
        self._unexplained = 0

    def _new_pool(self) -> ProcessPoolExecutor:
        self._running = self._context.Array("q", [-1] * self.workers, lock=False)
        next_slot = self._context.Value("i", 0)
        try:
            return ProcessPoolExecutor(self.workers, mp_context=self._context, initializer=_start_worker, initargs=(self._running, next_slot))
        except (OSError, ValueError) as exc:
            raise EngineError(f"cannot start {self.workers} worker processes: {exc}") from None

    def map_chunks(
        self, chunks: Iterable[Chunk], options: BatchOptions, verify: VerifyInput | None, *, isolate: bool = False
    ) -> Iterator[tuple[Chunk, ChunkResult | WorkerLost]]:
        limit = self.workers if isolate else 2 * self.workers
        source = iter(chunks)
        waiting: list[tuple[int, Chunk]] = []  # resubmitted after a break, before new chunks
        in_flight: dict[Future[ChunkResult], tuple[int, Chunk]] = {}
        next_id = 0
        exhausted = False
        while True:
            if self._pool is None:
                self._pool = self._new_pool()
            while len(in_flight) < limit:
                if waiting:
                    task_id, chunk = waiting.pop(0)
                else:
                    chunk = next(source, None) if not exhausted else None
                    if chunk is None:
                        exhausted = True
                        break
                    task_id, next_id = next_id, next_id + 1
                try:
                    future = self._pool.submit(_run_tracked, task_id, chunk, options, verify)
                except BrokenProcessPool:
                    waiting.insert(0, (task_id, chunk))
                    break
                in_flight[future] = (task_id, chunk)
            if not in_flight and not waiting:
                return
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED) if in_flight else (set(), set())
            broken = False
            for future in done:
                task_id, chunk = in_flight.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    waiting.append((task_id, chunk))
                    continue
                yield chunk, result
            if broken or (self._pool is not None and getattr(self._pool, "_broken", False)):
                yield from self._recover(in_flight, waiting)

    def _recover(self, in_flight: dict[Future[ChunkResult], tuple[int, Chunk]], waiting: list[tuple[int, Chunk]]) -> Iterator[tuple[Chunk, ChunkResult | WorkerLost]]:
        """After a worker died: finish what finished, blame the task(s) it was running, resubmit the rest."""
        assert self._pool is not None
        self._pool.shutdown(wait=True)  # joins every worker, so the slots are final
        for future, (task_id, chunk) in list(in_flight.items()):
            if future.done() and future.exception() is None:
                yield chunk, future.result()
            else:
                waiting.append((task_id, chunk))
        in_flight.clear()
        blamed = {int(v) for v in self._running if v >= 0}
        self._pool = None
        if not blamed:
            self._unexplained += 1
            if self._unexplained > MAX_UNEXPLAINED_BREAKS:
                raise EngineError("worker processes keep dying outside any input (out of memory at start, or killed from outside); stopping")
        keep = []
        for task_id, chunk in sorted(waiting, key=lambda item: item[0]):
            if task_id in blamed:
                yield chunk, WorkerLost("its worker process died while verifying it")
            else:
                keep.append((task_id, chunk))
        waiting[:] = keep

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
