"""The `perseus` command line.

The verifier owns the entry point and its own commands (`verify`, `contexts`); the issuer, the trust
registry and the credential builders add theirs through the ``perseus.commands`` entry-point group, so
the verifier never imports them (a wallet can ship the verifier alone).

Exit codes, which scripts rely on: 0 success / verified; 1 verified == false; 2 the input could not be
read, parsed or used (one line on stderr says why — never a traceback).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .errors import ParsingError, PerseusError

EXIT_OK = 0
EXIT_NOT_VERIFIED = 1
EXIT_BAD_INPUT = 2

ENTRY_POINT_GROUP = "perseus.commands"


class UsageError(PerseusError):
    """Bad command-line input: a missing file, an invalid option value."""

    code = "PARSING_ERROR"


# -- helpers shared by every command ----------------------------------------------------------------------


def read_bytes(path: str, what: str = "input") -> bytes:
    """Read a file (or stdin for "-") as bytes, turning every failure into one clear sentence."""
    try:
        return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} file {path!r} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path!r} is a directory, not a file") from None
    except PermissionError:
        raise UsageError(f"{what} file {path!r} cannot be read (permission denied)") from None
    except OSError as exc:
        raise UsageError(f"{what} file {path!r} cannot be read: {exc.strerror}") from None


def read_text(path: str, what: str = "input", *, encoding: str = "utf-8") -> str:
    """Read a text file (or stdin for "-"), turning every failure into one clear sentence."""
    data = read_bytes(path, what)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParsingError(f"{what} file {path!r} is not {encoding.upper()} text ({exc.reason} at byte {exc.start})") from None


def read_json(path: str, what: str = "input") -> Any:
    """Parse a JSON file (or stdin for "-"), turning every failure into one clear sentence."""
    return _parse_json(read_text(path, what), path, what)


def read_json_bytes(path: str, what: str = "input") -> bytes:
    """A JSON file's bytes, checked to be JSON, for digests over a resource's bytes as published (digestSRI)."""
    data = read_bytes(path, what)
    try:
        _parse_json(data.decode("utf-8"), path, what)
    except UnicodeDecodeError as exc:
        raise ParsingError(f"{what} file {path!r} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return data


def _parse_json(text: str, path: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParsingError(f"{what} {path!r} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise ParsingError(f"{what} {path!r} is nested too deeply to be a credential") from None


def write_output(text: str, path: str | None) -> None:
    """Print `text`, or write it to `path` atomically (a temporary file renamed into place)."""
    if path is None or path == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        temporary.replace(target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path!r}: {exc.strerror}") from None


def dump_json(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


# -- the verifier's own commands ----------------------------------------------------------------------------


def _cmd_verify(args: argparse.Namespace) -> int:
    from .verify import parse_checks, verify_credential

    try:
        checks = parse_checks(args.checks)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    text = read_text(args.file, "credential")
    # VC-JOSE-COSE: a compact JWS (vc+jwt), alone or wrapped in an EnvelopedVerifiableCredential.
    from .jose import enveloped_token, looks_like_jwt

    document = None if looks_like_jwt(text) else _parse_json(text, args.file, "credential")
    token = text.strip() if document is None else enveloped_token(document)
    # As bytes (checked to be JSON): a relatedResource digestSRI covers an input's bytes as published.
    inputs = [read_json_bytes(path, "input credential") for path in args.input or []]
    status_lists = [read_json(path, "status list credential") for path in args.status_list or []]
    client = None
    if args.fetch_status:
        from .status import urllib_client

        client = urllib_client()
    if token is not None:
        from .jose import verify_credential_jwt

        verify: Any = functools.partial(verify_credential_jwt, token)
    else:
        verify = functools.partial(verify_credential, document)
    result = verify(
        checks=checks,
        shapes=args.shapes,
        inputs=inputs,
        status_lists=status_lists,
        status_client=client,
        status_max_age=args.status_max_age,
    )
    if args.json:
        sys.stdout.write(dump_json(result.to_json()) + "\n")
    else:
        sys.stdout.write(result.report() + "\n")
    return EXIT_OK if result.verified else EXIT_NOT_VERIFIED


def _cmd_derive(args: argparse.Namespace) -> int:
    """The holder's side of selective disclosure: reveal only what the pointers name (ecdsa-sd-2023)."""
    from .suites.ecdsa_sd_2023 import derive_credential

    document = read_json(args.file, "credential")
    write_output(dump_json(derive_credential(document, args.reveal, proof_id=args.proof_id)), args.output)
    return EXIT_OK


def _cmd_contexts(args: argparse.Namespace) -> int:
    from perseus import contexts

    for entry in contexts.bundled_contexts():
        actual = contexts.file_sha256(entry.file)
        if actual != entry.sha256:
            raise UsageError(f"{entry.project_path} does not match its pinned sha256 {entry.sha256} (it is {actual})")
        sys.stdout.write(f"{entry.url}\t{entry.sha256}\t{entry.project_path}\n")
    return EXIT_OK


def _duration(text: str) -> timedelta:
    """'30m', '6h', '2d' or '90s' as a timedelta (an argparse type: a bad value is a usage error)."""
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30m, 6h or 2d")
    return timedelta(**{units[unit]: int(number)})


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    verify = commands.add_parser(
        "verify",
        help="verify a credential offline and print a report",
        description="Verify a Verifiable Credential offline: proofs, issuer binding, validity period. "
        "Exit 0 when verified, 1 when not (the reasons are printed), 2 when the file cannot be read.",
    )
    verify.add_argument("file", help="the credential (JSON), or - for standard input")
    verify.add_argument(
        "--checks",
        metavar="LIST",
        help="comma-separated checks to run (default: proof, issuer, validity, status, connectedness; also: shape); "
        "'proof' alone checks only the signatures, as the VC API's checks option does",
    )
    verify.add_argument("--shapes", action="store_true", help="also check a Perseus credential against its type's shape")
    verify.add_argument(
        "--input",
        action="append",
        metavar="FILE",
        help="a credential this one links to (relatedResource), for the connectedness check; repeat for each",
    )
    verify.add_argument(
        "--status-list",
        action="append",
        metavar="FILE",
        help="a status list credential to check credentialStatus against, offline; repeat for each list",
    )
    verify.add_argument(
        "--fetch-status",
        action="store_true",
        help="fetch each status list credential from its URL (the only check that uses the network; off by default)",
    )
    verify.add_argument(
        "--status-max-age",
        type=_duration,
        metavar="AGE",
        help="fail a status list older than AGE, e.g. 30m, 6h, 2d (default: only its own validUntil)",
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON (top-level boolean 'verified')")
    verify.set_defaults(run=_cmd_verify)
    derive = commands.add_parser(
        "derive",
        help="derive a selective disclosure from an ecdsa-sd-2023 credential (the holder's side)",
        description="Check FILE's ecdsa-sd-2023 base proof, then write a copy that reveals only its mandatory claims and "
        "the claims the --reveal JSON pointers name, with a derived proof any verifier can check (`perseus verify`).",
    )
    derive.add_argument("file", help="the credential with its base proof (JSON), or - for standard input")
    derive.add_argument("--reveal", action="append", default=[], metavar="POINTER", help="a JSON pointer to reveal, e.g. "
                        "/credentialSubject/monthlyTotals; repeat for each")
    derive.add_argument("--proof-id", metavar="ID", help="the base proof to use, when the credential has several")
    derive.add_argument("-o", "--output", metavar="OUT", help="write the disclosure here instead of printing it")
    derive.set_defaults(run=_cmd_derive)
    listing = commands.add_parser(
        "contexts",
        help="list the bundled JSON-LD contexts (URL, sha256, file)",
        description="List every JSON-LD context the verifier trusts: URL, sha256 and file path, tab-separated.",
    )
    listing.set_defaults(run=_cmd_contexts)


# -- entry point -------------------------------------------------------------------------------------------

_OWN_COMMANDS = {"verify", "contexts", "derive"}


def _plugins() -> list[Callable[[Any], None]]:
    found = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        found.append(ep.load())
    return found


def build_parser(*, with_plugins: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perseus",
        description="Perseus credentials: issue, sign and verify energy-data Verifiable Credentials, offline.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    register(commands)
    if with_plugins:
        for plugin in _plugins():
            plugin(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `perseus verify` is the command banks run in batch: don't pay for loading the other commands.
    own_only = bool(argv) and argv[0] in _OWN_COMMANDS
    parser = build_parser(with_plugins=not own_only)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its message
        return EXIT_BAD_INPUT if exc.code not in (0, None) else EXIT_OK
    if getattr(args, "run", None) is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.run(args))
    except PerseusError as exc:
        sys.stderr.write(f"perseus {args.command}: error: {exc.message}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
