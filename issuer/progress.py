"""Progress of long commands on a terminal (a year's build, fetching status lists), with tqdm.

Shown only when standard error is a terminal and the command was not asked for machine output
(``--json``) or silence (``--quiet``): progress is for a person watching, never part of what a script
reads. It goes to standard error, so a credential printed on standard output stays byte-exact, and the bar
is removed when the work ends (``leave=False``). Without tqdm installed (the verifier-only install),
commands run exactly the same, silently.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["Stages", "stages"]


class Stages:
    """A named sequence of steps; ``step(label)`` marks the next one as started."""

    def __init__(self, bar: Any | None) -> None:
        self._bar = bar
        self._started = False

    def step(self, label: str) -> None:
        if self._bar is None:
            return
        if self._started:
            self._bar.update(1)
        self._started = True
        self._bar.set_description_str(label)

    def close(self) -> None:
        if self._bar is not None:
            if self._started:
                self._bar.update(1)
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Stages":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stages(total: int, *, quiet: bool = False, stream: TextIO | None = None) -> Stages:
    """Progress over `total` steps on `stream` (standard error), or a silent stand-in where it must not show."""
    out = stream or sys.stderr
    if quiet or not getattr(out, "isatty", lambda: False)():
        return Stages(None)
    try:
        from tqdm import tqdm
    except ImportError:  # the verifier-only install: no progress, same behaviour
        return Stages(None)
    return Stages(tqdm(total=total, file=out, leave=False, unit="step", bar_format="{desc} {bar} {n_fmt}/{total_fmt} {elapsed}"))
