"""The `perseus` command line.

The verifier owns the entry point and its own commands (`verify`, `contexts`); the issuer, the trust
registry and the credential builders add theirs through the ``perseus.commands`` entry-point group, so
the verifier never imports them (a wallet can ship the verifier alone).

Exit codes, which scripts rely on: 0 success / verified; 1 verified == false; 2 the input could not be
read, parsed or used (one line on stderr says why — never a traceback).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .errors import ParsingError, PerseusError
from .jsonvalue import json_value_problem

EXIT_OK = 0
EXIT_NOT_VERIFIED = 1
EXIT_BAD_INPUT = 2

ENTRY_POINT_GROUP = "perseus.commands"


class UsageError(PerseusError):
    """Bad command-line input: a missing file, an invalid option value."""

    code = "PARSING_ERROR"


# -- helpers shared by every command ----------------------------------------------------------------------


# What a command reads from one file or stdin, at most. A year of half-hourly readings signed is ~4 MB;
# the bound keeps `perseus verify /dev/zero` (or a mistaken multi-gigabyte file) from exhausting memory.
MAX_INPUT_CHARS = 64 * 1024 * 1024


def read_bytes(path: str, what: str = "input") -> bytes:
    """Read a file (or stdin for "-") as bytes, at most `MAX_INPUT_CHARS`, turning every failure into one clear sentence."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_INPUT_CHARS + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_INPUT_CHARS + 1)
    except FileNotFoundError:
        raise UsageError(f"{what} file {path!r} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path!r} is a directory, not a file") from None
    except PermissionError:
        raise UsageError(f"{what} file {path!r} cannot be read (permission denied)") from None
    except OSError as exc:
        raise UsageError(f"{what} file {path!r} cannot be read: {exc.strerror}") from None
    if len(data) > MAX_INPUT_CHARS:
        raise UsageError(f"{what} {path!r} is larger than {MAX_INPUT_CHARS // (1024 * 1024)} MiB, more than any credential or input this command reads")
    return data


def read_text(path: str, what: str = "input", *, encoding: str = "utf-8") -> str:
    """Read a text file (or stdin for "-"), at most `MAX_INPUT_CHARS`, turning every failure into one clear sentence."""
    data = read_bytes(path, what)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ParsingError(f"{what} file {path!r} is not {encoding.upper()} text ({exc.reason} at byte {exc.start})") from None


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_text_problem(text: str, **options: Any) -> tuple[Any, str | None]:
    """(value, None) for JSON text, or (None, why not): bad syntax, NaN or Infinity (Python's parser
    would accept them), a number with more digits than Python converts, nesting too deep, or an
    escaped lone surrogate (a str no UTF-8 output can hold). ``options`` go to `json.loads`."""
    try:
        value = json.loads(text, parse_constant=_no_constant, **options)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    except RecursionError:
        return None, "nested too deeply to be a credential"
    except ValueError as exc:  # a 5,000-digit integer (int → str limit), or NaN / Infinity
        return None, f"not valid JSON here: {exc if 'JSON number' in str(exc) else 'a number has too many digits'}"
    problem = json_value_problem(value) if _SURROGATE_ESCAPE.search(text) else None
    if problem is not None:
        return None, f"not usable JSON: {problem}"
    return value, None


def parse_json_text(text: str, what: str, path: str, **options: Any) -> Any:
    """JSON text as a value; every failure is a `ParsingError` of one sentence (see `json_text_problem`)."""
    value, problem = json_text_problem(text, **options)
    if problem is not None:
        raise ParsingError(f"{what} {path!r} is {problem}")
    return value


def read_json(path: str, what: str = "input") -> Any:
    """Parse a JSON file (or stdin for "-"), turning every failure into one clear sentence."""
    return parse_json_text(read_text(path, what), what, path)


def read_json_bytes(path: str, what: str = "input") -> bytes:
    """A JSON file's bytes, checked to be JSON, for digests over a resource's bytes as published (digestSRI)."""
    data = read_bytes(path, what)
    try:
        parse_json_text(data.decode("utf-8"), what, path)
    except UnicodeDecodeError as exc:
        raise ParsingError(f"{what} file {path!r} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return data


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

    if args.bundle is not None or args.graph or args.output:  # -- whole chains (verifier/chain.py)
        return _cmd_verify_bundle(args)
    if args.file is None:
        raise UsageError("give the credential to verify (FILE), or --bundle BUNDLE")
    try:
        checks = parse_checks(args.checks)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.checks is None:
        checks.add("accreditation")  # with no --registry the report says it was not checked
    if args.recipient is not None:
        checks.add("permission")  # issue 12: data must be covered by a permission (--input) for this recipient
    registry, registry_state = _load_registry(args)
    text = read_text(args.file, "credential")
    token = _jwt_of(text, args.file)
    document = None if token is not None else parse_json_text(text, "credential", args.file)
    # As bytes (checked to be JSON): a relatedResource digestSRI covers an input's bytes as published.
    inputs = [read_json_bytes(path, "input credential") for path in args.input or []]
    status_lists = [read_json(path, "status list credential") for path in args.status_list or []]
    client = None
    if args.allow_status_host and not args.fetch_status:
        raise UsageError("--allow-status-host only makes sense with --fetch-status")
    if args.fetch_status:
        from .outbound import OutboundClient, OutboundPolicy

        client = OutboundClient(OutboundPolicy(allowed_hosts=frozenset(args.allow_status_host or ())))
    common: dict[str, Any] = {
        "checks": checks, "shapes": args.shapes, "inputs": inputs, "status_lists": status_lists,
        "status_client": client, "status_max_age": args.status_max_age,
    }
    if token is not None:  # VC-JOSE-COSE: a vc+jwt, bare or as an EnvelopedVerifiableCredential
        from .jose import verify_jwt

        if registry is not None:
            raise UsageError("--registry: the accreditation check reads a Data Integrity proof's key and time; it does not check vc+jwt credentials yet")
        result = verify_jwt(token, **common)
    else:
        result = verify_credential(
            document, registry=registry, registry_framework=args.registry_framework, ib1=_ib1_options_if_given(args),
            permission_recipient=args.recipient, **common,
        )
    if registry is not None and registry.usable and registry_state is not None:
        registry_state.accept(registry)
        try:
            registry_state.save(args.registry_state)
        except OSError as exc:
            raise UsageError(f"cannot write registry state file {args.registry_state!r}: {exc.strerror}") from None
    if args.json:
        sys.stdout.write(dump_json(result.to_json()) + "\n")
    else:
        sys.stdout.write(result.report() + "\n")
    return EXIT_OK if result.verified else EXIT_NOT_VERIFIED


def _cmd_verify_bundle(args: argparse.Namespace) -> int:
    """`perseus verify --bundle`: the whole chain a bundle holds — complete, broken at a link, or an input missing."""
    import os

    from .chain import BundleError, verify_bundle
    from .registry_snapshot import SnapshotError, TrustAnchor

    if args.bundle is None:
        raise UsageError("--graph and -o go with --bundle BUNDLE")
    if args.file is not None or args.input or args.status_list or args.fetch_status or args.checks:
        raise UsageError("--bundle takes every credential, status list and registry snapshot from the bundle: give no FILE, --input, --status-list, --fetch-status or --checks with it")
    if args.output and not args.graph:
        raise UsageError("-o writes the --graph export; give --graph dot or --graph mermaid")
    registry = anchor = None
    if args.registry is not None:
        registry, _ = _load_registry(args)
    else:
        anchor_text = args.trust_anchor or os.environ.get("PERSEUS_REGISTRY_TRUST_ANCHOR")
        try:
            anchor = TrustAnchor.parse(anchor_text.split(",")) if anchor_text else None
        except SnapshotError as exc:
            raise UsageError(exc.message) from None
    try:
        result = verify_bundle(args.bundle, registry=registry, trust_anchor=anchor, ib1=_ib1_options(args), status_max_age=args.status_max_age)
    except BundleError as exc:
        raise ParsingError(f"bundle {args.bundle!r}: {exc.message}") from None
    if args.graph:
        graph = result.to_dot() if args.graph == "dot" else result.to_mermaid()
        write_output(graph, args.output)
        if args.output is None or args.output == "-":
            return EXIT_OK if result.complete else EXIT_NOT_VERIFIED
    sys.stdout.write((dump_json(result.to_json()) if args.json else result.report()) + "\n")
    return EXIT_OK if result.complete else EXIT_NOT_VERIFIED


def _load_registry(args: argparse.Namespace) -> tuple[Any, Any]:
    """The trust registry snapshot of --registry, checked against the trust anchor and the state file."""
    if args.registry is None:
        for option in ("trust_anchor", "registry_state"):
            if getattr(args, option):
                raise UsageError(f"--{option.replace('_', '-')} needs --registry SNAPSHOT")
        return None, None
    import os

    from .registry_snapshot import RegistryState, SnapshotError, TrustAnchor, load_snapshot

    text = read_text(args.registry, "registry snapshot")
    anchor_text = args.trust_anchor or os.environ.get("PERSEUS_REGISTRY_TRUST_ANCHOR")
    try:
        anchor = TrustAnchor.parse(anchor_text.split(",")) if anchor_text else None
        state = RegistryState.load(args.registry_state) if args.registry_state else None
    except SnapshotError as exc:
        raise UsageError(exc.message) from None
    return load_snapshot(text, trust_anchor=anchor, grace=args.registry_grace, state=state), state


def _jwt_of(text: str, path: str) -> str | None:
    """The vc+jwt token a file holds — the compact JWS itself, or an EnvelopedVerifiableCredential — else None."""
    from .jose import JoseError, data_url_token, looks_like_jwt

    if looks_like_jwt(text):
        return text.strip()
    if '"EnvelopedVerifiableCredential"' not in text:
        return None
    document = parse_json_text(text, "credential", path)
    types = document.get("type") if isinstance(document, dict) else None
    if "EnvelopedVerifiableCredential" not in (types if isinstance(types, list) else [types]):
        return None
    try:
        return data_url_token(document.get("id"))
    except JoseError as exc:
        raise ParsingError(f"credential {path!r}: {exc.message}") from None


def _ib1_options_if_given(args: argparse.Namespace) -> Any:
    """`_ib1_options` when an --ib1-* option was given, else None (the check's defaults; no X.509 import)."""
    return _ib1_options(args) if (args.ib1_roots or args.ib1_role or args.ib1_environment) else None


def _ib1_options(args: argparse.Namespace) -> Any:
    """How to verify carried IB1 provenance records, from --ib1-environment, --ib1-roots and --ib1-role."""
    from .ib1_environments import load_roots_pem
    from .provenance_check import Ib1Options

    roots: list[Any] = []
    for path in args.ib1_roots or []:
        try:
            roots.extend(load_roots_pem(read_bytes(path, "IB1 root certificates")))
        except PerseusError as exc:
            raise UsageError(f"{path}: {exc.message}") from None
    return Ib1Options(environment=args.ib1_environment, roots=tuple(roots), required_roles=tuple(args.ib1_role or ()))


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
    verify.add_argument("file", nargs="?", help="the credential (JSON, or a VC-JOSE-COSE vc+jwt token), or - for standard input")
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
        "--recipient",
        metavar="DID",
        help="you are this recipient: the data must be covered by a permission for you, given with --input (and its "
        "grantor's status list with --status-list), in date and not withdrawn",
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
        help="fetch each status list credential from its URL (the only check that uses the network; off by default): "
        "only from public addresses, without following redirects, 10 s for all lists together, at most 8 lists of 1 MiB",
    )
    verify.add_argument(
        "--allow-status-host",
        action="append",
        metavar="HOST",
        help="with --fetch-status, also fetch from HOST (a name or IP) though it is loopback, private or otherwise not "
        "public, e.g. a status service on your own network; repeat for each",
    )
    verify.add_argument(
        "--status-max-age",
        type=_duration,
        metavar="AGE",
        help="fail a status list older than AGE, e.g. 30m, 6h, 2d (default: only its own validUntil)",
    )
    verify.add_argument(
        "--registry",
        metavar="SNAPSHOT",
        help="a signed trust-registry snapshot: also check that the signer was accredited for this credential "
        "type when it signed (the accreditation check)",
    )
    verify.add_argument(
        "--trust-anchor",
        metavar="KEY",
        help="the registry operator's key that must have signed the snapshot: a did:key, a Multikey value or a key "
        "file with publicKeyMultibase; comma-separate several (default: PERSEUS_REGISTRY_TRUST_ANCHOR)",
    )
    verify.add_argument(
        "--registry-state",
        metavar="FILE",
        help="remember the last snapshot accepted in FILE and refuse an older one (rollback) or one that does "
        "not follow it (broken chain); created on first use",
    )
    verify.add_argument(
        "--registry-grace",
        type=_duration,
        default=timedelta(0),
        metavar="AGE",
        help="accept a snapshot up to AGE past its nextUpdate, e.g. 6h or 2d (default: none)",
    )
    verify.add_argument(
        "--registry-framework",
        metavar="URL",
        help="the trust framework whose roles count (default: every framework the snapshot covers)",
    )
    verify.add_argument(
        "--ib1-roots",
        action="append",
        metavar="FILE",
        help="PEM file of pinned IB1 Signing CA root certificates, for the IB1 provenance record a credential carries "
        "(none are bundled); repeatable",
    )
    verify.add_argument(
        "--ib1-environment",
        choices=("core", "pilot", "sandbox"),
        help="the IB1 environment the record must belong to (default: the one whose trust framework the record names)",
    )
    verify.add_argument(
        "--ib1-role",
        action="append",
        metavar="URL",
        help="a role URL every IB1 record signer must hold (one of those given); repeatable (default: none required)",
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON (top-level boolean 'verified')")
    verify.add_argument(
        "--bundle",
        metavar="BUNDLE",
        help="check a whole chain instead of one credential: a presentation, or a folder or zip of credentials, IB1 "
        "records, status lists and a registry snapshot (counted only with --trust-anchor); exit 0 when complete",
    )
    verify.add_argument("--graph", choices=("dot", "mermaid"), help="with --bundle, export the chain graph as DOT or Mermaid")
    verify.add_argument("-o", "--output", metavar="FILE", help="with --graph, write the graph to FILE (the report is still printed)")
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
    from .batch.cli import register as register_batch  # `verify-batch` (its heavy imports wait until it runs)

    register_batch(commands)


# -- entry point -------------------------------------------------------------------------------------------

_OWN_COMMANDS = {"verify", "verify-batch", "contexts", "derive"}


def _plugins() -> list[Callable[[Any], None]]:
    found = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        found.append(ep.load())
    return found


def _version() -> str:
    """The installed distribution's version (`perseus --version`); a source tree without metadata says so."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("perseus-credentials")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser(*, with_plugins: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perseus",
        description="Perseus credentials: issue, sign and verify energy-data Verifiable Credentials, offline.",
    )
    parser.add_argument("--version", action="version", version=f"perseus {_version()}")
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
    except MemoryError:
        sys.stderr.write(f"perseus {args.command}: error: the input needs more memory than this machine has\n")
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - the last resort: a bug must still not print a traceback
        # Exit 2 (not 1, which means "not verified"): nothing was decided about the input.
        sys.stderr.write(f"perseus {args.command}: error: the input could not be processed ({type(exc).__name__}); this is a bug, please report it\n")
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
