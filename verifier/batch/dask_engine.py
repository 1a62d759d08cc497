"""The Dask distributed engine: the scale-out path for `perseus verify-batch --dask [ADDRESS]`.

This is the only module of the project that imports Dask (an optional extra: ``pip install
'perseus-credentials[dask]'``), and it is imported only when Dask is asked for. Without an address
(and without ``DASK_SCHEDULER_ADDRESS``) it starts a LocalCluster on 127.0.0.1 of single-threaded
worker processes — the verifier is CPU-bound Python, so threads would only contend for the GIL — and
with one it connects to an existing scheduler. Workers there need this package installed and must see
the input and status-list paths at the same place (a shared filesystem), as Dask workers usually do.

Each task is `records.run_chunk` on a chunk of input references; a worker builds its verification
context on its first task and keeps it (``context.context_for``). A worker that dies makes Dask
reschedule or fail its tasks: the LocalCluster is configured with ``allowed-failures: 0``, so a task
whose worker died fails at once with `KilledWorker`, reported to the driver as `WorkerLost`, and the
driver retries its inputs once, one per task and one task at a time (an existing cluster keeps its own
``allowed-failures``: Dask then retries a chunk itself before the driver sees it lost).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from .context import BatchOptions
from .engines import Chunk, EngineError, WorkerLost
from .records import ChunkResult, VerifyInput, run_chunk

try:
    import dask
    from distributed import Client, KilledWorker, LocalCluster, as_completed
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise EngineError("--dask needs Dask distributed: pip install 'perseus-credentials[dask]'") from exc

# A LocalCluster's scheduler runs in this process and reads these when it starts.
_LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": 0,  # one death fails the task: the driver's retry is the one retry
    "distributed.worker.daemon": False,
    "distributed.admin.tick.limit": "10s",  # a long chunk holds the GIL; don't warn about it
    "distributed.worker.memory.target": False,  # records are small: never spill them to disk
    "distributed.worker.memory.spill": False,
    # The statistical profiler wakes every 10 ms in every worker: CPU taken from verification, for a
    # dashboard this cluster does not serve.
    "distributed.worker.profile.enabled": False,
}


class DaskEngine:
    """Chunks as Dask tasks, on a LocalCluster it starts or on the cluster at `address`."""

    name = "Dask"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        address = address or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
        self._cluster: Any = None
        self._client: Any = None
        try:
            if address:
                self._client = Client(address, timeout="10s")
                self.name = f"Dask at {address}"
            else:
                with dask.config.set(_LOCAL_CONFIG):
                    self._cluster = LocalCluster(
                        n_workers=max(1, workers or os.cpu_count() or 1),
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,  # no dashboard; its bare HTTP server on a free loopback port
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        # A worker's death is reported in the results (WORKER_LOST), not as log lines.
                        silence_logs=logging.CRITICAL,
                    )
                    self._client = Client(self._cluster)
                self.name = "Dask LocalCluster"
        except Exception as exc:  # Dask raises OSError, TimeoutError, RuntimeError ("Nanny failed to start"), ...
            self.close()
            where = f"reach a Dask scheduler at {address}" if address else "start a Dask LocalCluster"
            raise EngineError(f"cannot {where}: {exc}") from None
        threads = sum(self._client.nthreads().values())
        if threads == 0:
            self.close()
            raise EngineError(f"the Dask cluster at {address} has no workers")
        self.workers = threads
        self._prefix = f"perseus-verify-{uuid.uuid4().hex[:8]}"
        self._count = 0

    def map_chunks(
        self, chunks: Iterable[Chunk], options: BatchOptions, verify: VerifyInput | None, *, isolate: bool = False
    ) -> Iterator[tuple[Chunk, ChunkResult | WorkerLost]]:
        # Retries run one at a time: Dask fails every task on a worker that dies, and while a dead worker
        # restarts the scheduler would put two retries on the survivor, so one poisoned input would
        # cost an innocent one its only retry. Retries are few (the inputs of lost chunks).
        limit = 1 if isolate else 2 * self.workers
        source = iter(chunks)
        pending: dict[str, Chunk] = {}
        running = as_completed()

        def submit() -> bool:
            chunk = next(source, None)
            if chunk is None:
                return False
            self._count += 1
            future = self._client.submit(run_chunk, chunk, options, verify, key=f"{self._prefix}-{self._count}", pure=False)
            pending[future.key] = chunk
            running.add(future)
            return True

        for _ in range(limit):
            if not submit():
                break
        for future in running:
            chunk = pending.pop(future.key)
            try:
                result: ChunkResult = future.result()
            except KilledWorker as exc:
                yield chunk, WorkerLost(f"its Dask worker died while verifying it ({exc})")
            else:
                yield chunk, result
            finally:
                future.release()
            submit()

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
