"""Progress shows on a terminal only: never on a pipe, never with --quiet or --json."""

from __future__ import annotations

import io

from perseus.issuer.progress import stages


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_names_each_step() -> None:
    tty = _Terminal()
    with stages(2, stream=tty) as progress:
        progress.step("reading input")
        progress.step("building the credential")
    text = tty.getvalue()
    assert "reading input" in text and "building the credential" in text


def test_no_progress_on_a_pipe_or_when_quiet() -> None:
    pipe = io.StringIO()
    with stages(2, stream=pipe) as progress:
        progress.step("reading input")
    assert pipe.getvalue() == ""
    tty = _Terminal()
    with stages(2, stream=tty, quiet=True) as progress:
        progress.step("reading input")
    assert tty.getvalue() == ""
