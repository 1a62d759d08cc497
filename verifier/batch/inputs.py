"""Finding the inputs of a batch: files, folders, zip archives and JSON Lines, as small references.

A bank hands over a lender's book as whatever it has: a folder per SME, a zip of a month's credentials,
a JSON Lines export of millions. Discovery turns all of these into `InputRef`s — a name and where the
bytes are, never the bytes themselves (except where re-reading would be costly: lines of a JSON Lines
file *inside* a zip) — so the parent process stays small and each worker reads its own inputs.

Rules (the same for a real folder and a folder inside a zip):

* a file named on the command line is one input, whatever its name (a JSON Lines file — ``.jsonl`` or
  ``.ndjson`` — is one input per non-empty line; a ``.zip`` is opened);
* in a folder, ``.json`` and ``.jsonld`` files are inputs, ``.jsonl``/``.ndjson`` files are read line by
  line and ``.zip`` files are opened; anything else (a README, hidden files) is skipped and counted;
* a folder that holds a ``credential.json`` is one *bundle*: that credential, verified with the folder's
  other JSON files as the credentials it links to (connectedness).

Names are stable across runs (they are what ``--resume`` matches on): the path as given, ``!member`` for
a zip member, ``:LINE`` (1-based) for a JSON Lines record.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from perseus.verifier.errors import PerseusError

JSON_SUFFIXES = (".json", ".jsonld")
LINES_SUFFIXES = (".jsonl", ".ndjson")
ZIP_SUFFIXES = (".zip",)
BUNDLE_MAIN = "credential.json"

# A JSON Lines record larger than this is not read by the parent (it is reported by the worker).
_READ_BLOCK = 1 << 20


class InputPathError(PerseusError):
    """An input named on the command line cannot be used (missing, unreadable, a broken zip)."""

    code = "PARSING_ERROR"


@dataclass(frozen=True, slots=True)
class InputRef:
    """One input: its stable `name` and where its bytes are.

    `path` is a file or, with `member`, a zip archive; `span` is the (offset, length) of one JSON Lines
    record in `path`; `data` carries the bytes themselves when they were read already; `inputs` are a
    folder bundle's linked credentials. `size` (bytes) guides chunking.
    """

    name: str
    path: str
    member: str | None = None
    span: tuple[int, int] | None = None
    data: bytes | None = None
    inputs: tuple["InputRef", ...] = ()
    size: int = 0


@dataclass
class Discovery:
    """What discovery skipped, for the summary (files that are not credentials, duplicates); `exclude`
    holds resolved paths never to read (the results file being written, which may sit among the inputs)."""

    skipped: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    exclude: set[str] = field(default_factory=set)


def discover(paths: Iterable[str | os.PathLike[str]], found: Discovery | None = None) -> Iterator[InputRef]:
    """Every input under `paths`, lazily and in a stable order (sorted names within each folder).

    A path that does not exist or cannot be opened raises `InputPathError` when it is reached; a file
    whose *content* is bad is an input like any other (its record says what is wrong).
    """
    found = found if found is not None else Discovery()
    for raw in paths:
        given = os.fspath(raw)
        path = Path(given)
        if not path.exists():
            raise InputPathError(f"input {given!r} does not exist")
        if str(path.resolve()) in found.exclude:
            found.skipped.append(f"{given} (the results file)")
            continue
        if path.is_dir():
            refs: Iterator[InputRef] = _folder(path, given, found)
        elif given.lower().endswith(ZIP_SUFFIXES):
            refs = _zip(path, given, found)
        elif given.lower().endswith(LINES_SUFFIXES):
            refs = _lines_file(path, given)
        else:
            refs = iter([_file_ref(path, given)])
        for ref in refs:
            if ref.name in found.seen:
                found.skipped.append(f"{ref.name} (named twice)")
                continue
            found.seen.add(ref.name)
            yield ref


def check_paths(paths: Iterable[str | os.PathLike[str]]) -> None:
    """Fail early, with one sentence, for an input path that does not exist or cannot be read."""
    for raw in paths:
        given = os.fspath(raw)
        path = Path(given)
        if not path.exists():
            raise InputPathError(f"input {given!r} does not exist")
        if not os.access(path, os.R_OK):
            raise InputPathError(f"input {given!r} cannot be read (permission denied)")
        if path.is_file() and given.lower().endswith(ZIP_SUFFIXES) and not zipfile.is_zipfile(path):
            raise InputPathError(f"input {given!r} is not a zip archive")


def _file_ref(path: Path, name: str) -> InputRef:
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return InputRef(name=name, path=str(path.resolve()), size=size)


def _join(parent: str, child: str) -> str:
    return child if parent in ("", ".") else f"{parent.rstrip('/')}/{child}"


def _folder(root: Path, given: str, found: Discovery) -> Iterator[InputRef]:
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        relative = Path(directory).relative_to(root).as_posix()
        shown = given if relative == "." else _join(given, relative)
        here = Path(directory)
        names = sorted(files)
        if BUNDLE_MAIN in names:
            # The whole folder is one bundle; its subfolders are still walked on their own.
            inputs = tuple(_file_ref(here / n, _join(shown, n)) for n in names if n != BUNDLE_MAIN and n.lower().endswith(JSON_SUFFIXES))
            main = _file_ref(here / BUNDLE_MAIN, _join(shown, BUNDLE_MAIN))
            yield InputRef(name=shown.rstrip("/") + "/", path=main.path, inputs=inputs, size=main.size + sum(i.size for i in inputs))
            found.skipped.extend(_join(shown, n) for n in names if n != BUNDLE_MAIN and not n.lower().endswith(JSON_SUFFIXES))
            continue
        for n in names:
            lower = n.lower()
            if str((here / n).resolve()) in found.exclude:
                found.skipped.append(f"{_join(shown, n)} (the results file)")
            elif n.startswith("."):
                found.skipped.append(_join(shown, n))
            elif lower.endswith(JSON_SUFFIXES):
                yield _file_ref(here / n, _join(shown, n))
            elif lower.endswith(LINES_SUFFIXES):
                yield from _lines_file(here / n, _join(shown, n))
            elif lower.endswith(ZIP_SUFFIXES):
                yield from _zip(here / n, _join(shown, n), found)
            else:
                found.skipped.append(_join(shown, n))


def _lines_file(path: Path, given: str) -> Iterator[InputRef]:
    """One reference per non-empty line: (offset, length) into the file, read by the worker."""
    resolved = str(path.resolve())
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputPathError(f"input {given!r} cannot be read: {exc.strerror}") from None
    with handle:
        offset, number, pending = 0, 0, b""
        while True:
            block = handle.read(_READ_BLOCK)
            if not block:
                break
            pending += block
            start = 0
            while True:
                end = pending.find(b"\n", start)
                if end < 0:
                    break
                number += 1
                line = pending[start:end]
                if line.strip():
                    yield InputRef(name=f"{given}:{number}", path=resolved, span=(offset + start, end - start), size=end - start)
                start = end + 1
            offset += start
            pending = pending[start:]
        if pending.strip():
            number += 1
            yield InputRef(name=f"{given}:{number}", path=resolved, span=(offset, len(pending)), size=len(pending))


def _zip(path: Path, given: str, found: Discovery) -> Iterator[InputRef]:
    resolved = str(path.resolve())
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputPathError(f"input {given!r} cannot be opened as a zip archive: {exc}") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        by_folder: dict[str, list[zipfile.ZipInfo]] = {}
        for info in infos:
            by_folder.setdefault(str(PurePosixPath(info.filename).parent), []).append(info)
        for folder in sorted(by_folder):
            members = sorted(by_folder[folder], key=lambda i: i.filename)
            names = {PurePosixPath(i.filename).name: i for i in members}
            if BUNDLE_MAIN in names:
                main = names[BUNDLE_MAIN]
                inputs = tuple(
                    InputRef(name=f"{given}!{i.filename}", path=resolved, member=i.filename, size=i.file_size)
                    for n, i in sorted(names.items())
                    if n != BUNDLE_MAIN and n.lower().endswith(JSON_SUFFIXES)
                )
                label = f"{given}!{folder}/" if folder != "." else f"{given}!/"
                yield InputRef(name=label, path=resolved, member=main.filename, inputs=inputs, size=main.file_size + sum(i.size for i in inputs))
                continue
            for info in members:
                base = PurePosixPath(info.filename).name
                lower = base.lower()
                name = f"{given}!{info.filename}"
                if base.startswith(".") or info.filename.startswith("__MACOSX/"):
                    found.skipped.append(name)
                elif lower.endswith(JSON_SUFFIXES):
                    yield InputRef(name=name, path=resolved, member=info.filename, size=info.file_size)
                elif lower.endswith(LINES_SUFFIXES):
                    # Re-reading one line would mean decompressing the member again: carry the bytes.
                    with archive.open(info) as handle:
                        for number, line in enumerate(handle, start=1):
                            if line.strip():
                                data = line.rstrip(b"\r\n")
                                yield InputRef(name=f"{name}:{number}", path=resolved, member=info.filename, data=data, size=len(data))
                else:
                    found.skipped.append(name)
