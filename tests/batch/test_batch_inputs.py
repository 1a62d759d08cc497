"""Discovery: files, folders, zips and JSON Lines become references with stable names; the worker
reads back exactly the bytes of each input."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from batch_fixtures import book_inputs, make_book
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from perseus.verifier.batch import BatchOptions, VerificationContext, discover
from perseus.verifier.batch.inputs import Discovery, InputPathError, check_paths


def test_a_mixed_book_is_found_with_stable_names_and_skips_counted(tmp_path: Path) -> None:
    expected = make_book(tmp_path)
    found = Discovery()
    refs = list(discover(book_inputs(tmp_path), found))
    assert sorted(r.name for r in refs) == sorted(expected)
    assert str(tmp_path / "book" / "README.txt") in found.skipped
    assert f"{tmp_path / 'month.zip'}!a/notes.md" in found.skipped
    bundle = next(r for r in refs if r.name.endswith("sme-7/"))
    assert sorted(Path(i.path).name for i in bundle.inputs) == sorted(
        ["electricity-halfhourly-2023-10.json", "gas-register-m3-2023-10.json", "tariff-weekend-offpeak-fuelmix.json"]
    )
    # The same paths discovered again give the same names in the same order (what --resume relies on).
    assert [r.name for r in discover(book_inputs(tmp_path))] == [r.name for r in refs]


def test_an_input_named_twice_is_verified_once(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}", encoding="utf-8")
    found = Discovery()
    refs = list(discover([str(tmp_path / "a.json"), str(tmp_path / "a.json")], found))
    assert len(refs) == 1 and found.skipped == [f"{tmp_path / 'a.json'} (named twice)"]


def test_a_zip_folder_with_credential_json_is_one_bundle(tmp_path: Path) -> None:
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("sme/credential.json", "{}")
        zf.writestr("sme/input-1.json", "{}")
        zf.writestr("other/x.json", "{}")
    refs = list(discover([str(archive)]))
    assert [r.name for r in refs] == [f"{archive}!other/x.json", f"{archive}!sme/"]
    assert [i.member for i in refs[1].inputs] == ["sme/input-1.json"] and refs[1].member == "sme/credential.json"


def test_missing_and_broken_inputs_are_one_sentence_errors(tmp_path: Path) -> None:
    with pytest.raises(InputPathError, match="does not exist"):
        check_paths([str(tmp_path / "nope")])
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputPathError, match="not a zip archive"):
        check_paths([str(bad)])
    with pytest.raises(InputPathError, match="does not exist"):
        list(discover([str(tmp_path / "nope")]))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(json_values, max_size=12), blank_every=st.integers(2, 5), crlf=st.booleans(), final_newline=st.booleans())
def test_json_lines_round_trip_through_references(tmp_path: Path, values: list, blank_every: int, crlf: bool, final_newline: bool) -> None:
    """Every non-empty line becomes one reference whose bytes parse back to that line's value, and
    line numbers count the blank lines too (so a name points at the line a person opens)."""
    newline = "\r\n" if crlf else "\n"
    lines: list[str] = []
    expected: dict[int, object] = {}
    for value in values:
        if len(lines) % blank_every == blank_every - 1:
            lines.append("   ")
        lines.append(json.dumps(value))
        expected[len(lines)] = value
    text = newline.join(lines) + (newline if final_newline else "")
    path = tmp_path / "export.jsonl"
    path.write_text(text, encoding="utf-8", newline="")
    context = VerificationContext(BatchOptions.create())
    refs = list(discover([str(path)]))
    assert [r.name for r in refs] == [f"{path}:{n}" for n in expected]
    for ref, (number, value) in zip(refs, expected.items()):
        assert json.loads(context.read(ref)) == value, number


@settings(max_examples=80, deadline=None)
@given(count=st.integers(0, 60), per_input=st.lists(st.floats(1e-5, 2.0), min_size=1, max_size=20), overhead=st.floats(0, 0.05))
def test_chunks_partition_the_inputs_in_order_whatever_the_sizer_learns(count: int, per_input: list[float], overhead: float) -> None:
    from perseus.verifier.batch.driver import MAX_CHUNK, ChunkSizer, chunk_stream
    from perseus.verifier.batch.inputs import InputRef

    refs = [InputRef(name=str(i), path="x") for i in range(count)]
    sizer = ChunkSizer(overhead)
    chunks = []
    for i, chunk in enumerate(chunk_stream(refs, sizer)):
        assert 1 <= len(chunk) <= MAX_CHUNK
        chunks.append(chunk)
        sizer.observe(len(chunk), len(chunk) * per_input[i % len(per_input)])
        # once it has learned, a task reaches the target (unless one input alone is longer, or the cap binds)
        if sizer.per_input and 1 < sizer.size() < MAX_CHUNK:
            assert sizer.size() * sizer.per_input >= sizer.target * 0.99
    assert [r for chunk in chunks for r in chunk] == refs
