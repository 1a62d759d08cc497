"""`perseus status fetch`: save an issuer's status list credentials for offline verification.

A credential issued by the service names its status list by URL (``credentialStatus.statusListCredential``),
and a plain `perseus verify` is offline: it reports the status as not checked unless the list is handed
over with ``--status-list FILE``. This command fetches the lists once, under the verifier's outbound
policy (`perseus.verifier.outbound`: public addresses only unless ``--allow-host``, no redirects, one
deadline, size and count caps), and writes each to DIR, so that verification can run offline afterwards:

    perseus status fetch consumption.signed.json -o status/
    perseus verify consumption.signed.json --status-list status/<file>.json

A SOURCE is a URL, or a credential file whose status entries name the URLs. Nothing is written unless
every list was fetched (no half-written state); each file is written atomically.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from perseus.verifier.cli import EXIT_OK, UsageError, dump_json, read_json, write_output

__all__ = ["file_name_for", "list_urls", "register"]


def file_name_for(url: str) -> str:
    """A file name that says which list it holds: host and path, with every other character as ``_``."""
    parts = urlsplit(url)
    text = f"{parts.hostname or 'list'}{parts.port and '_' + str(parts.port) or ''}{parts.path}{'_' + parts.query if parts.query else ''}"
    return re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("_.")[:180] + ".json"


def list_urls(sources: list[str]) -> list[str]:
    """The URLs to fetch: each SOURCE that is a URL, and the status list URLs each credential file names."""
    from perseus.verifier.status import status_entries

    urls: list[str] = []
    for source in sources:
        if re.match(r"^https?://", source):
            found = [source]
        else:
            document = read_json(source, "credential")
            found = [e["statusListCredential"] for e in status_entries(document)
                     if isinstance(e, dict) and isinstance(e.get("statusListCredential"), str)]
            if not found:
                raise UsageError(f"{source} names no status list (it has no credentialStatus with a statusListCredential)")
        urls.extend(u for u in found if u not in urls)
    return urls


def _cmd_status_fetch(args: argparse.Namespace) -> int:
    from perseus.verifier.errors import PerseusError
    from perseus.verifier.outbound import OutboundClient, OutboundPolicy
    from perseus.verifier.status import fetch_status_list

    urls = list_urls(args.source)
    client = OutboundClient(OutboundPolicy(allowed_hosts=frozenset(args.allow_host or ()), deadline=args.timeout))
    from .progress import stages

    fetched: list[tuple[str, Any]] = []
    with stages(len(urls), quiet=args.quiet or args.json) as progress:
        for url in urls:
            progress.step(f"fetching {url}")
            try:
                fetched.append((url, fetch_status_list(url, client)))
            except PerseusError as exc:
                raise UsageError(f"{exc.message}; nothing was saved") from None
    directory = Path(args.output)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {args.output!r}: {exc.strerror}") from None
    report = []
    for url, document in fetched:
        path = directory / file_name_for(url)
        write_output(dump_json(document), str(path))
        report.append({"url": url, "file": str(path)})
    if args.json:
        sys.stdout.write(json.dumps({"saved": report}, indent=2) + "\n")
    elif not args.quiet:
        for item in report:
            sys.stdout.write(f"saved {item['url']} -> {item['file']}\n")
        sys.stdout.write("verify offline with: perseus verify CREDENTIAL " + " ".join(f"--status-list {i['file']}" for i in report) + "\n")
    return EXIT_OK


def register(commands: Any) -> None:
    """Add `perseus status fetch` to the `perseus` command line (registered by `perseus.issuer.cli`)."""
    status = commands.add_parser("status", help="status lists for offline use", description="Status list credentials for offline verification.")
    kinds = status.add_subparsers(dest="status_kind", metavar="ACTION")
    status.set_defaults(run=lambda args: (status.print_help(), 2)[1])
    fetch = kinds.add_parser(
        "fetch",
        help="save the status lists a credential names (or URLs) to a directory",
        description="Fetch status list credentials (from URLs, or the ones a credential's credentialStatus names) under "
        "the verifier's outbound policy and save each to DIR, for `perseus verify --status-list FILE` offline.",
    )
    fetch.add_argument("source", nargs="+", metavar="SOURCE", help="a status list URL, or a credential file whose status entries name them")
    fetch.add_argument("-o", "--output", required=True, metavar="DIR", help="the directory to save the lists in (created if missing)")
    fetch.add_argument("--allow-host", action="append", metavar="HOST", help="also fetch from HOST though it is not public "
                       "(e.g. your own perseus serve on 127.0.0.1); repeat for each")
    fetch.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="one deadline for all fetches (default: 10)")
    out = fetch.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print what was saved as JSON")
    out.add_argument("--quiet", action="store_true", help="print nothing on success")
    fetch.set_defaults(run=_cmd_status_fetch)
