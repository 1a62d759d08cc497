"""`perseus holder …`, `perseus permission …` and `perseus present`: the SME's wallet on the command line.

Output is plain English by default — a micro-business owner must see what is shared, with whom, for what and
until when — and JSON with ``--json``. Every command takes ``--wallet DIR`` (default ``$PERSEUS_WALLET`` or
``./.perseus-wallet``); bad input exits 2 with one sentence, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from perseus.verifier.cli import EXIT_OK, UsageError, dump_json, read_json, write_output
from perseus.verifier.dates import parse_datetime, utc_now
from perseus.verifier.errors import PerseusError

DEFAULT_LICENCE = "https://registry.core.trust.ib1.org/scheme/perseus/license/energy-consumption-emissions-edp-cap-fsp/2026-03-12"
DEFAULT_PROCESS = "https://registry.core.trust.ib1.org/scheme/perseus/process/electricity-emissions-calculation/2026-03-12"
WALLET_ENV = "PERSEUS_WALLET"


def _wallet_dir(args: argparse.Namespace) -> Path:
    return Path(args.wallet or os.environ.get(WALLET_ENV) or ".perseus-wallet")


def _open(args: argparse.Namespace) -> Any:
    from .wallet import Holder

    return Holder.open(_wallet_dir(args))


def _moment(text: str | None, what: str) -> datetime | None:
    if text is None:
        return None
    if len(text) == 10:  # a date: midnight UTC
        text += "T00:00:00Z"
    try:
        return parse_datetime(text, field=what)
    except PerseusError as exc:
        raise UsageError(f"{what}: {exc.message} (write a date such as 2026-01-31 or 2026-01-31T12:00:00Z)") from None


def _supply_point(text: str) -> Any:
    from .permissions import SupplyPointRef

    ident, _, measure = text.partition(":")
    return SupplyPointRef(ident.strip(), (measure or "import").strip())


def _cmd_init(args: argparse.Namespace) -> int:
    from .wallet import DEFAULT_STATUS_BASE, Holder

    with Holder.init(_wallet_dir(args), key_type=args.type, status_base=args.status_base or DEFAULT_STATUS_BASE) as holder:
        print(f"Your wallet is in {holder.directory}.")
        print(f"Your identity (DID) is {holder.did}")
        print("Its key is stored encrypted; keep the passphrase file (or PERSEUS_KEY_PASSPHRASE) safe and private.")
    return EXIT_OK


def _cmd_grant(args: argparse.Namespace) -> int:
    from .permissions import PermissionTerms

    now = utc_now().replace(microsecond=0)
    points = tuple(_supply_point(p) for p in args.supply_point)
    if not points:
        raise UsageError("name at least one meter with --supply-point MPAN[:import|export] (or an MPRN for gas)")
    terms = PermissionTerms(
        recipient=args.to,
        license=args.licence,
        account=args.account,
        supply_points=points,
        processes=tuple(args.process or [DEFAULT_PROCESS]),
        data_available_from=_moment(args.data_from, "--data-from") or now - timedelta(days=365),
        expires=_moment(args.expires, "--expires") or now + timedelta(days=365),  # IB1 Perseus licences run for a year
        last_granted=now,
        period_start=_moment(args.period_start, "--period-start"),
        period_end=_moment(args.period_end, "--period-end"),
        evidence=args.evidence,
        oauth_issuer=args.oauth_issuer,
        parent=args.parent,
    )
    with _open(args) as holder:
        signed = holder.grant(terms)
        from perseus.verifier.permission import read_permission

        if args.output:
            write_output(dump_json(signed), args.output)
        if args.json:
            sys.stdout.write(dump_json(signed))
        else:
            print(read_permission(signed).describe())
            print(f"Permission {signed['id']}" + (f" written to {args.output}." if args.output else "."))
            print("You can withdraw it at any time: perseus permission withdraw " + signed["id"])
    return EXIT_OK


def _cmd_withdraw(args: argparse.Namespace) -> int:
    with _open(args) as holder:
        granted = holder.withdraw(args.id)
        lists = holder.status_lists()
        if args.status_list:
            write_output(dump_json(lists[0] if len(lists) == 1 else lists), args.status_list)
        print(f"Withdrawn: {granted.permission.recipient} may no longer receive your data under permission {args.id}.")
        print("Anything it granted onward under this permission is withdrawn with it.")
        if args.status_list:
            print(f"The updated status list is in {args.status_list}: give it to, or publish it for, those you shared with.")
    return EXIT_OK


def _cmd_list_permissions(args: argparse.Namespace) -> int:
    with _open(args) as holder:
        granted = holder.permissions()
        if args.json:
            sys.stdout.write(dump_json([{"id": g.permission.id, "withdrawn": g.withdrawn, "credential": g.credential} for g in granted]))
        elif not granted:
            print("You have not granted any permission.")
        else:
            for g in granted:
                print(g.describe())
    return EXIT_OK


def _cmd_status_list(args: argparse.Namespace) -> int:
    with _open(args) as holder:
        lists = holder.status_lists()
        if not lists:
            raise UsageError("this wallet has no status list yet: it is made with the first permission granted")
        write_output(dump_json(lists[0] if len(lists) == 1 else lists), args.output)
    return EXIT_OK


def _cmd_store(args: argparse.Namespace) -> int:
    credential = read_json(args.file, "credential")
    with _open(args) as holder:
        cid = holder.store(credential)
        print(f"Stored {_describe_credential(credential)} ({cid}).")
    return EXIT_OK


def _describe_credential(credential: Any) -> str:
    types = [t for t in credential.get("type", []) if t != "VerifiableCredential"] if isinstance(credential, dict) else []
    issuer = credential.get("issuer") if isinstance(credential, dict) else None
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    name = credential.get("name") if isinstance(credential, dict) else None
    return f"{', '.join(types) or 'a credential'} from {issuer}" + (f": {name}" if isinstance(name, str) else "")


def _cmd_list_received(args: argparse.Namespace) -> int:
    with _open(args) as holder:
        received = holder.received()
        if args.json:
            sys.stdout.write(dump_json([{"id": c.get("id"), "type": c.get("type"), "issuer": c.get("issuer")} for c in received]))
        elif not received:
            print("Your wallet holds no credentials yet (perseus holder store FILE).")
        else:
            for c in received:
                print(f"{c.get('id')}  {_describe_credential(c)}")
    return EXIT_OK


def _cmd_show(args: argparse.Namespace) -> int:
    with _open(args) as holder:
        sys.stdout.write(dump_json(holder.show(args.id)))
    return EXIT_OK


def _cmd_present(args: argparse.Namespace) -> int:
    request = read_json(args.request, "presentation request")
    if isinstance(request, dict) and isinstance(request.get("verifiablePresentationRequest"), dict):
        request = request["verifiablePresentationRequest"]  # a VC API exchange answer, as it came
    if not isinstance(request, dict):
        raise UsageError("the presentation request must be a JSON object (a Verifiable Presentation Request)")
    with _open(args) as holder:
        presentation = holder.present(request, expected_domain=args.domain)
    output = presentation
    if args.encrypt_to:
        from perseus.verifier.encryption import encrypt_for

        output = encrypt_for(presentation, args.encrypt_to, kid=args.encrypt_to)
    write_output(output if isinstance(output, str) else dump_json(output), args.output)
    if args.output:
        shared = [c for c in presentation["verifiableCredential"] if "BitstringStatusListCredential" not in c.get("type", [])]
        print(f"Presentation for {request.get('domain')} written to {args.output}: it shares {len(shared)} credential(s):", file=sys.stderr)
        for c in shared:
            print(f"  - {_describe_credential(c)}", file=sys.stderr)
    return EXIT_OK


def register(commands: Any) -> None:
    """Add `holder`, `permission` and `present` to the `perseus` command."""

    def wallet_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--wallet", metavar="DIR", help=f"the wallet directory (default: ${WALLET_ENV} or ./.perseus-wallet)")

    holder = commands.add_parser("holder", help="the SME's wallet: identity and received credentials", description="The SME's wallet: its identity (a did:key whose key is encrypted at rest) and the credentials it receives (kept encrypted).")
    actions = holder.add_subparsers(dest="holder_command", metavar="ACTION")
    init = actions.add_parser("init", help="create the wallet (a DID and an encrypted key)", description="Create a wallet: a new did:key, its key encrypted at rest with a passphrase (a new passphrase file in the wallet, or PERSEUS_KEY_PASSPHRASE). Opening an existing wallet changes nothing.")
    init.add_argument("--type", default="Ed25519", choices=("Ed25519", "P-256"), help="key type (default Ed25519)")
    init.add_argument("--status-base", metavar="URL", help="where the wallet's status list will be published (a URL ending in /)")
    wallet_option(init)
    init.set_defaults(run=_cmd_init)
    store = actions.add_parser("store", help="keep a received credential (encrypted)")
    store.add_argument("file", help="the credential (JSON), or - for standard input")
    wallet_option(store)
    store.set_defaults(run=_cmd_store)
    listing = actions.add_parser("list", help="list the credentials the wallet holds")
    listing.add_argument("--json", action="store_true")
    wallet_option(listing)
    listing.set_defaults(run=_cmd_list_received)
    show = actions.add_parser("show", help="print one stored credential")
    show.add_argument("id")
    wallet_option(show)
    show.set_defaults(run=_cmd_show)
    holder.set_defaults(run=lambda args: (holder.print_help(), 2)[1])

    permission = commands.add_parser("permission", help="grant, withdraw and list permissions to receive your energy data", description="Grant a named recipient permission to receive your energy data (a signed PermissionCredential), withdraw it, list what you granted.")
    p_actions = permission.add_subparsers(dest="permission_command", metavar="ACTION")
    grant = p_actions.add_parser("grant", help="let a recipient receive your data", description="Grant RECIPIENT permission to receive the data of your meters, under an IB1 licence, for the processes named, until the expiry.")
    grant.add_argument("--to", required=True, metavar="DID", help="the recipient (its DID, as in the trust registry)")
    grant.add_argument("--account", required=True, help="your account reference at the data provider")
    grant.add_argument("--supply-point", action="append", default=[], metavar="MPAN[:import|export]", help="a meter the permission covers (repeat for several; an MPRN for gas)")
    grant.add_argument("--licence", default=DEFAULT_LICENCE, metavar="URL", help="the IB1 licence (default: energy consumption and emissions, EDP to CAP to FSP)")
    grant.add_argument("--process", action="append", metavar="URL", help="a permitted IB1 process (default: electricity emissions calculation)")
    grant.add_argument("--data-from", metavar="DATE", help="the earliest data covered (default: a year ago)")
    grant.add_argument("--period-start", metavar="DATE", help="the data period's start (optional)")
    grant.add_argument("--period-end", metavar="DATE", help="the data period's end (optional)")
    grant.add_argument("--expires", metavar="DATE", help="when the permission ends (default: in a year, as IB1 licences do)")
    grant.add_argument("--evidence", metavar="URL", help="a page showing how meter ownership was established")
    grant.add_argument("--oauth-issuer", metavar="URL", help="the data provider's authorization server")
    grant.add_argument("--parent", metavar="ID", help="(a recipient granting onward) the permission this one derives from")
    grant.add_argument("--json", action="store_true", help="print the signed permission credential")
    grant.add_argument("-o", "--output", metavar="FILE", help="write the signed permission credential here")
    wallet_option(grant)
    grant.set_defaults(run=_cmd_grant)
    withdraw = p_actions.add_parser("withdraw", help="withdraw a permission (final)")
    withdraw.add_argument("id", help="the permission's id (urn:uuid:…)")
    withdraw.add_argument("--status-list", metavar="FILE", help="write the updated, signed status list here")
    wallet_option(withdraw)
    withdraw.set_defaults(run=_cmd_withdraw)
    plist = p_actions.add_parser("list", help="list the permissions you granted")
    plist.add_argument("--json", action="store_true")
    wallet_option(plist)
    plist.set_defaults(run=_cmd_list_permissions)
    slist = p_actions.add_parser("status-list", help="write the signed status list of your permissions (to hand over or serve)")
    slist.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: print)")
    wallet_option(slist)
    slist.set_defaults(run=_cmd_status_list)
    permission.set_defaults(run=lambda args: (permission.print_help(), 2)[1])

    present = commands.add_parser("present", help="answer a presentation request with a signed presentation", description="Answer a Verifiable Presentation Request (REQUEST, JSON): a presentation signed by your wallet (proof purpose authentication, the request's challenge and domain) with the credentials and permissions it asks for.")
    present.add_argument("request", help="the request (JSON), or - for standard input")
    present.add_argument("--domain", metavar="ORIGIN", help="the site the request came from: refuse a request for any other domain")
    present.add_argument("--encrypt-to", metavar="DID", help="encrypt the presentation (JWE, ECDH-ES+A256KW, A256GCM) to this recipient's did:key")
    present.add_argument("-o", "--output", metavar="FILE", help="write the presentation here (default: print)")
    wallet_option(present)
    present.set_defaults(run=_cmd_present)

