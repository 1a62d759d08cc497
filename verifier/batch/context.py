"""What every worker loads once and reuses for every input: the verification context.

A batch of a million credentials must not reload the JSON-LD contexts, re-read the status lists or
re-open a zip archive per credential. `BatchOptions` is the plain, picklable description of a batch
(paths and flags: what crosses a process or machine boundary); `context_for(options)` builds the
`VerificationContext` from it once per worker process and keeps it for every later task with the same
options. Adding the trust-registry snapshot is one more path field here and one more attribute below.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from perseus.verifier.dates import format_datetime, parse_datetime, utc_now
from perseus.verifier.errors import PerseusError
from perseus.verifier.loader import DocumentLoader

from .inputs import InputRef

_OPEN_ZIPS = 8  # archives a worker keeps open at once (each holds its central directory in memory)


class BatchOptionsError(PerseusError):
    """A batch option cannot be used (an unreadable status list file, an unknown check)."""

    code = "PARSING_ERROR"


@dataclass(frozen=True)
class BatchOptions:
    """How to verify every input of a batch; plain values only, so it pickles small and hashes.

    `now` is the batch's clock (an XSD dateTime): every worker verifies "as of" the same instant, so a
    credential expiring during a long run gets the same answer on every worker and on a resumed run
    that passes the same `now`. `status_lists` are paths of status list credentials (a worker reads
    them once). `checks` is None for the defaults of ``perseus verify``.
    """

    now: str
    checks: tuple[str, ...] | None = None
    shapes: bool = False
    status_lists: tuple[str, ...] = ()

    @classmethod
    def create(
        cls,
        *,
        now: datetime | None = None,
        checks: str | tuple[str, ...] | list[str] | None = None,
        shapes: bool = False,
        status_lists: tuple[str | os.PathLike[str], ...] | list[str | os.PathLike[str]] = (),
    ) -> "BatchOptions":
        """Options with the checks validated and paths made absolute (workers may run elsewhere)."""
        from perseus.verifier.verify import parse_checks

        try:
            chosen = None if checks is None else tuple(sorted(parse_checks(checks)))
        except ValueError as exc:
            raise BatchOptionsError(str(exc)) from None
        paths = tuple(str(Path(p).resolve()) for p in status_lists)
        options = cls(now=format_datetime(now or utc_now()), checks=chosen, shapes=shapes, status_lists=paths)
        _read_status_lists(paths)  # an unreadable list is a usage error now, not a failure in every record
        return options


def _read_status_lists(paths: tuple[str, ...]) -> list[Any]:
    lists = []
    for path in paths:
        try:
            lists.append(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise BatchOptionsError(f"status list file {path!r} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BatchOptionsError(f"status list file {path!r} cannot be read: {exc}") from None
        except json.JSONDecodeError as exc:
            raise BatchOptionsError(f"status list file {path!r} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    return lists


class VerificationContext:
    """A worker's long-lived state: the document loader (and its context caches), the status list
    credentials, the batch clock, and a few open zip archives."""

    def __init__(self, options: BatchOptions) -> None:
        self.options = options
        self.loader = DocumentLoader()
        self.now = parse_datetime(options.now, field="now")
        self.status_lists = _read_status_lists(options.status_lists)
        self._zips: OrderedDict[str, zipfile.ZipFile] = OrderedDict()

    def read(self, ref: InputRef) -> bytes:
        """The bytes of one input (raises OSError or zipfile errors; the caller turns them into a record)."""
        if ref.data is not None:
            return ref.data
        if ref.member is not None:
            return self._zip(ref.path).read(ref.member)
        if ref.span is not None:
            offset, length = ref.span
            with open(ref.path, "rb") as handle:
                handle.seek(offset)
                return handle.read(length)
        return Path(ref.path).read_bytes()

    def _zip(self, path: str) -> zipfile.ZipFile:
        archive = self._zips.get(path)
        if archive is None:
            archive = zipfile.ZipFile(path)
            self._zips[path] = archive
            while len(self._zips) > _OPEN_ZIPS:
                self._zips.popitem(last=False)[1].close()
        else:
            self._zips.move_to_end(path)
        return archive

    def close(self) -> None:
        for archive in self._zips.values():
            archive.close()
        self._zips.clear()


_CONTEXTS: dict[BatchOptions, VerificationContext] = {}


def context_for(options: BatchOptions) -> VerificationContext:
    """This process's context for `options`, built on first use (one batch at a time is kept)."""
    context = _CONTEXTS.get(options)
    if context is None:
        for old in _CONTEXTS.values():
            old.close()
        _CONTEXTS.clear()
        context = _CONTEXTS[options] = VerificationContext(options)
    return context
