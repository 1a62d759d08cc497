"""Both engines give exactly the records of a plain in-process loop, and lose nothing when a worker dies.

The Dask tests run a LocalCluster of two single-threaded worker processes bound to 127.0.0.1 (shared
by the module: starting one takes seconds). A worker "dies" through `dying_verify`, which calls
os._exit on an input whose name is marked POISON.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from batch_fixtures import POISON, book_inputs, credential, dying_verify, make_book, write_json
from perseus.issuer.keyfile import KeyFile, generate_key_file
from perseus.verifier.batch import BatchOptions, ChunkSizer, InlineEngine, PoolEngine, verify_many
from perseus.verifier.batch.engines import Engine


@pytest.fixture(scope="module")
def key() -> KeyFile:
    return generate_key_file("Ed25519")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory, key: KeyFile) -> tuple[list[str], dict[str, str]]:
    root = tmp_path_factory.mktemp("book")
    expected = make_book(root, key)
    return book_inputs(root), expected


@pytest.fixture(scope="module")
def options() -> BatchOptions:
    return BatchOptions.create()  # one clock for every engine, so records compare equal


@pytest.fixture(scope="module")
def reference(book: tuple[list[str], dict[str, str]], options: BatchOptions) -> dict[str, dict]:
    inputs, expected = book
    records = {r["input"]: r for r in verify_many(inputs, options=options, engine=InlineEngine())}
    assert {name: r["outcome"] for name, r in records.items()} == expected
    return records


@pytest.fixture(scope="module")
def pool() -> Iterator[PoolEngine]:
    engine = PoolEngine(2)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def dask_engine() -> Iterator[Engine]:
    pytest.importorskip("distributed")
    from perseus.verifier.batch.dask_engine import DaskEngine

    engine = DaskEngine(workers=2)
    yield engine
    engine.close()


@pytest.fixture(params=["pool", "dask"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue("pool" if request.param == "pool" else "dask_engine")


def fixed_chunks(size: int) -> ChunkSizer:
    """A sizer that always cuts `size` inputs per task (so a test controls what shares a chunk)."""
    sizer = ChunkSizer(0.0)
    sizer.per_input = sizer.target / size
    return sizer


def test_engine_records_equal_the_in_process_loop(engine: Engine, book: tuple[list[str], dict[str, str]], options: BatchOptions, reference: dict[str, dict]) -> None:
    inputs, _ = book
    records = list(verify_many(inputs, options=options, engine=engine, sizer=fixed_chunks(3)))
    assert len(records) == len(reference)  # nothing twice
    assert {r["input"]: r for r in records} == reference


def test_engines_measure_their_overhead_and_chunk_from_it(engine: Engine, book: tuple[list[str], dict[str, str]], options: BatchOptions, reference: dict[str, dict]) -> None:
    inputs, _ = book
    records = list(verify_many(inputs, options=options, engine=engine))  # the sizer calibrates itself
    assert {r["input"]: r for r in records} == reference


def test_a_dying_worker_loses_no_result(engine: Engine, tmp_path: Path, key: KeyFile, options: BatchOptions) -> None:
    """The poisoned input kills its worker twice and is reported as an error; every other input —
    including those that shared its chunk — gets its real record, exactly once."""
    folder = tmp_path / "in"
    names = []
    for number in range(10):
        name = f"{number:02d}-{POISON}.json" if number == 4 else f"{number:02d}.json"
        write_json(folder / name, credential(key, number))
        names.append(str(folder / name))
    records = list(verify_many([str(folder)], options=options, engine=engine, verify=dying_verify, sizer=fixed_chunks(3)))
    assert sorted(r["input"] for r in records) == sorted(names)
    by_name = {r["input"]: r for r in records}
    poisoned = by_name.pop(str(folder / f"04-{POISON}.json"))
    assert poisoned["outcome"] == "error" and poisoned["problems"][0]["code"] == "WORKER_LOST"
    assert {r["outcome"] for r in by_name.values()} == {"verified"}


def test_the_engine_is_usable_after_a_worker_died(engine: Engine, tmp_path: Path, key: KeyFile, options: BatchOptions) -> None:
    write_json(tmp_path / "one.json", credential(key, 1))
    (record,) = verify_many([str(tmp_path / "one.json")], options=options, engine=engine)
    assert record["outcome"] == "verified"


def test_the_verifier_and_the_pool_never_import_dask(tmp_path: Path, key: KeyFile) -> None:
    import subprocess

    write_json(tmp_path / "one.json", credential(key, 1))
    code = (
        "import sys\n"
        "from perseus.verifier.batch import verify_many\n"
        "from perseus.verifier.cli import main\n"
        "if __name__ == '__main__':\n"
        f"    records = list(verify_many([{str(tmp_path / 'one.json')!r}], workers=2))\n"
        "    assert records[0]['outcome'] == 'verified', records\n"
        "    assert not any(m == 'dask' or m.startswith(('dask.', 'distributed')) for m in sys.modules), 'dask imported'\n"
        "    print('ok')\n"
    )
    script = tmp_path / "check.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
