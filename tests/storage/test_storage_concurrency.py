"""Many writers at once — threads sharing one Storage, and processes each with their own, as replicas
would be — never get the same status index (both engines).

Tiny lists (allow_short) make collisions and list roll-overs happen constantly, which is where a
race would show; full-size lists check the ordinary path.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from perseus.issuer.storage import StatusListPolicy, Storage, open_storage
from perseus.issuer.storage.schema import status_allocations, status_lists
from perseus_storage_fixtures import db_url, storage  # noqa: F401 - fixtures
from sqlalchemy import select

ISSUER = "did:web:energy.example"
THREADS = 8
PER_WORKER = 30


def run_threads(count: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def worker(number: int) -> None:
        try:
            barrier.wait()
            work(number)
        except BaseException as exc:  # collected and re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def all_positions(storage: Storage) -> list[tuple[str, int]]:
    with storage._engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(status_allocations.c.list_id, status_allocations.c.idx))]  # type: ignore[misc]


def assert_no_index_twice(storage: Storage, expected: int, length: int) -> None:
    positions = all_positions(storage)
    assert len(positions) == expected
    assert len(set(positions)) == expected, "an index was allocated twice"
    per_list = Counter(list_id for list_id, _ in positions)
    assert all(count <= length for count in per_list.values())
    assert all(0 <= idx < length for _, idx in positions)


@pytest.mark.parametrize("length", [32, 131_072])
def test_threads_sharing_one_storage(db_url: str, length: int) -> None:
    policy = StatusListPolicy(length=length, fill_limit=1.0, allow_short=True)
    with open_storage(db_url, status_policy=policy, pool_size=THREADS) as storage:
        storage.create_profile("p", issuer=ISSUER, suites=["eddsa-rdfc-2022"])

        def work(worker: int) -> None:
            for n in range(PER_WORKER):
                reservation = storage.reserve_status("p", f"urn:t{worker}:{n}")
                storage.save_issued(reservation, {"id": f"urn:t{worker}:{n}"})

        run_threads(THREADS, work)
        assert storage.count_issued() == THREADS * PER_WORKER
        assert_no_index_twice(storage, 2 * THREADS * PER_WORKER, length)
        if length == 32:  # 240 credentials in 32-entry lists: the roll-over raced too
            with storage._engine.connect() as conn:
                sequences = conn.execute(select(status_lists.c.purpose, status_lists.c.seq)).all()
            for purpose in ("revocation", "suspension"):
                seqs = sorted(s for p, s in sequences if p == purpose)
                assert seqs == list(range(1, len(seqs) + 1))  # no gaps, no duplicate list numbers
                assert len(seqs) >= THREADS * PER_WORKER // 32


def test_concurrent_retries_of_one_credential_get_one_set_of_positions(db_url: str) -> None:
    with open_storage(db_url, pool_size=THREADS) as storage:
        storage.create_profile("p", issuer=ISSUER, suites=["eddsa-rdfc-2022"])
        seen = []
        run_threads(THREADS, lambda _: seen.append(storage.reserve_status("p", "urn:same")))
        assert len({r.entries for r in seen}) == 1
        assert len(all_positions(storage)) == 2


def _replica(url: str, replica: int, count: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One replica: its own process, its own Storage, allocating as fast as it can."""
    try:
        storage = open_storage(url, status_policy=StatusListPolicy(length=32, fill_limit=1.0, allow_short=True))
        for n in range(count):
            reservation = storage.reserve_status("p", f"urn:r{replica}:{n}")
            storage.save_issued(reservation, {"id": reservation.credential_id})
        storage.close()
        queue.put(None)
    except BaseException as exc:  # sent back to the test
        queue.put(repr(exc))


def test_replicas_in_separate_processes(db_url: str) -> None:
    with open_storage(db_url) as storage:
        storage.create_profile("p", issuer=ISSUER, suites=["eddsa-rdfc-2022"])
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    replicas = 4
    processes = [context.Process(target=_replica, args=(db_url, n, PER_WORKER, queue)) for n in range(replicas)]
    for p in processes:
        p.start()
    outcomes = [queue.get(timeout=120) for _ in processes]
    for p in processes:
        p.join(timeout=30)
    assert outcomes == [None] * replicas
    with open_storage(db_url, migrate=False) as storage:
        assert storage.count_issued() == replicas * PER_WORKER
        assert_no_index_twice(storage, 2 * replicas * PER_WORKER, 32)
