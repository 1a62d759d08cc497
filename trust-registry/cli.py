"""`perseus registry …`: keep a trust registry and publish its signed snapshots.

Registered through the ``perseus.commands`` entry-point group. Output is plain English (a micro
business's bookkeeper may read it); every bad input exits 2 with one sentence, never a traceback.
Every change is audited (who: --actor or $USER; why: --reason) and followed by a new signed snapshot.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from perseus.verifier.cli import EXIT_OK, UsageError, dump_json, read_json, write_output
from perseus.verifier.dates import format_datetime, parse_datetime, utc_now
from perseus.verifier.errors import PerseusError

from .errors import InvalidInputError

FRAMEWORK_ALIASES = {
    "core": "https://registry.core.trust.ib1.org/trust-framework",
    "pilot": "https://registry.core.pilot.trust.ib1.org/trust-framework",
    "sandbox": "https://registry.core.sandbox.trust.ib1.org/trust-framework",
}


def when(text: str) -> datetime:
    """A time from the command line: 'now', a date (midnight UTC) or a dateTime with a timezone."""
    if text == "now":
        return utc_now().replace(microsecond=0)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        text += "T00:00:00Z"
    try:
        return parse_datetime(text, field="time")
    except PerseusError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def framework_url(text: str) -> str:
    return FRAMEWORK_ALIASES.get(text, text)


def _home(args: argparse.Namespace) -> Any:
    from .home import RegistryHome

    return RegistryHome.at(args.dir)


def _actor(args: argparse.Namespace) -> str:
    if args.actor:
        return str(args.actor)
    try:
        return f"{getpass.getuser()} (command line)"
    except Exception:  # no login name in some containers
        return "command line"


def _framework(args: argparse.Namespace, store: Any) -> str:
    chosen = framework_url(args.framework) if getattr(args, "framework", None) else None
    frameworks = store.settings.frameworks
    if chosen is None:
        if len(frameworks) != 1:
            raise InvalidInputError(f"this registry covers several frameworks; choose one with --framework ({', '.join(frameworks)})")
        return frameworks[0]
    if chosen not in frameworks:
        raise InvalidInputError(f"this registry covers {', '.join(frameworks)}, not {chosen}")
    return chosen


def _role(store: Any, framework: str, value: str) -> str:
    from perseus.verifier.accreditation import default_frameworks

    config = default_frameworks().get(framework)
    if config is None:
        if "://" not in value:
            raise InvalidInputError(f"no role names are configured for {framework}; give the role as a URL")
        return value
    try:
        return config.resolve_role(value)
    except PerseusError as exc:
        raise InvalidInputError(exc.message) from None


def _done(store: Any, what: str) -> int:
    latest = store.latest_snapshot_text()
    sys.stdout.write(f"{what}\nPublished registry snapshot #{latest[0] if latest else '?'}.\n")
    return EXIT_OK


# -- commands ----------------------------------------------------------------------------------------------


def _cmd_init(args: argparse.Namespace) -> int:
    from .home import parse_interval
    from .operator_key import generate_operator_key, read_operator_key, trust_anchor_of, write_operator_key
    from .storage.store import RegistrySettings, RegistryStore

    home = _home(args)
    if home.config_path.exists():
        raise InvalidInputError(f"{home.path} already holds a registry")
    frameworks = tuple(framework_url(f) for f in (args.framework or ["core"]))
    interval = parse_interval(args.next_update)
    key = read_operator_key(args.operator_key) if args.operator_key else generate_operator_key(args.key_type)
    home.path.mkdir(parents=True, exist_ok=True)
    config = {"registry": args.registry, "frameworks": list(frameworks), "nextUpdate": args.next_update}
    if args.database_url:
        config["databaseUrl"] = args.database_url
    settings = RegistrySettings(args.registry, frameworks, interval)
    store = RegistryStore(home.database_url(config), signer=key, settings=settings)
    try:
        if not args.operator_key:
            write_operator_key(key, home.key_path)
        else:
            home.key_path.write_text(Path(args.operator_key).read_text(encoding="utf-8"), encoding="utf-8")
            os.chmod(home.key_path, 0o600)
        store.initialise(settings, actor=_actor(args))
        home.config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    finally:
        store.close()
    sys.stdout.write(
        f"Created the registry {args.registry} in {home.path}.\n"
        f"It covers {', '.join(frameworks)}; snapshots must be replaced every {args.next_update}.\n"
        f"Recipients trust it with:  --trust-anchor {trust_anchor_of(key)}\n"
        "Published registry snapshot #0 (no entities yet).\n"
    )
    return EXIT_OK


def _cmd_add(args: argparse.Namespace) -> int:
    store = _home(args).open()
    try:
        document = read_json(args.did_document, "DID document") if args.did_document else None
        dids = [(did, args.key_from, document if did.startswith("did:web:") else None) for did in args.did or []]
        store.add_entity(args.entity, args.name, assurance_level=args.assurance, dids=dids, actor=_actor(args), reason=args.reason)
        return _done(store, f"Added {args.name} ({args.entity})" + (f" with key {', '.join(args.did)}." if args.did else "."))
    finally:
        store.close()


def _cmd_grant(args: argparse.Namespace) -> int:
    store = _home(args).open()
    try:
        framework = _framework(args, store)
        role = _role(store, framework, args.role)
        store.grant(args.entity, framework, role, valid_from=args.valid_from, valid_until=args.until, actor=_actor(args), reason=args.reason)
        until = f" until {format_datetime(args.until)}" if args.until else ""
        return _done(store, f"{args.entity} now holds the {role.rsplit('/', 1)[-1]} role from {format_datetime(args.valid_from)}{until}.")
    finally:
        store.close()


def _status_command(status: str, verb: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        store = _home(args).open()
        try:
            framework = _framework(args, store)
            role = _role(store, framework, args.role)
            store.set_status(args.entity, framework, role, status, effective=args.effective, actor=_actor(args), reason=args.reason)
            return _done(store, f"{args.entity}'s {role.rsplit('/', 1)[-1]} role is {verb} from {format_datetime(args.effective)} ({args.reason}).")
        finally:
            store.close()

    return run


def _cmd_end(args: argparse.Namespace) -> int:
    store = _home(args).open()
    try:
        framework = _framework(args, store)
        role = _role(store, framework, args.role)
        store.end_role(args.entity, framework, role, at=args.at, actor=_actor(args), reason=args.reason)
        return _done(store, f"{args.entity}'s {role.rsplit('/', 1)[-1]} role ends at {format_datetime(args.at)}; "
                            "what it signed before then keeps verifying.")
    finally:
        store.close()


def _cmd_keys(args: argparse.Namespace) -> int:
    home = _home(args)
    if args.keys_action == "list":
        store = home.open(signing=False)
        try:
            entity = store.entity(args.entity)
        finally:
            store.close()
        lines = [f"Keys of {entity['legalName']} ({entity['id']}):"]
        for i in entity.get("identifiers", []):
            name = i.get("did") or f"certificate {i.get('serial')} for {i.get('applicationUrl')}"
            state = f"revoked from {i['revokedFrom']}" if i.get("revokedFrom") else f"valid from {i.get('validFrom')} until {i.get('validUntil') or 'further notice'}"
            lines.append(f"  {name}: {state}")
        if len(lines) == 1:
            lines.append("  none")
        write_output("\n".join(lines), None)
        return EXIT_OK
    store = home.open()
    try:
        if args.keys_action == "add":
            document = read_json(args.did_document, "DID document") if args.did_document else None
            store.add_did(args.entity, args.did, valid_from=args.key_from, valid_until=args.until, did_document=document,
                          actor=_actor(args), reason=args.reason)
            return _done(store, f"{args.did} is now a key of {args.entity} from {format_datetime(args.key_from)}.")
        if args.keys_action == "add-certificate":
            store.add_certificate(args.entity, args.application_url, args.serial, valid_from=args.key_from, valid_until=args.until,
                                  actor=_actor(args), reason=args.reason)
            return _done(store, f"Certificate {args.serial} of {args.application_url} is now recorded for {args.entity}.")
        if args.keys_action == "retire":
            store.retire_key(args.entity, args.did, at=args.at, actor=_actor(args), reason=args.reason)
            return _done(store, f"{args.did} stops being a key of {args.entity} at {format_datetime(args.at)}; "
                                "what it signed before then keeps verifying.")
        store.revoke_key(args.entity, args.did, effective=args.effective, actor=_actor(args), reason=args.reason)
        return _done(store, f"{args.did} is revoked from {format_datetime(args.effective)}: anything it signed from then on fails.")
    finally:
        store.close()


def _cmd_import(args: argparse.Namespace) -> int:
    from .ib1_import import import_members_with_role

    response = read_json(args.file, "Directory response")
    store = _home(args).open()
    try:
        framework = _framework(args, store)
        report = import_members_with_role(store, response, role=_role(store, framework, args.role), framework=framework, at=args.at,
                                          actor=_actor(args), dry_run=args.dry_run)
    finally:
        store.close()
    lines = [f"Imported the IB1 Directory's members with role {args.role}{' (dry run: nothing saved)' if args.dry_run else ''}:"]
    lines += [f"  {line}" for line in report.lines]
    write_output("\n".join(lines), None)
    return EXIT_OK


def _cmd_snapshot(args: argparse.Namespace) -> int:
    home = _home(args)
    store = home.open(signing=args.refresh)
    try:
        if args.refresh:
            store.publish(actor=_actor(args), reason=args.reason)
        found = store.snapshot_text(args.sequence) if args.sequence is not None else store.latest_snapshot_text()
    finally:
        store.close()
    if found is None:
        raise InvalidInputError(f"there is no snapshot #{args.sequence}" if args.sequence is not None else "no snapshot has been published yet")
    sequence, digest, text = found
    write_output(text, args.output or "-")
    if args.output and args.output != "-":
        sys.stderr.write(f"Wrote registry snapshot #{sequence} to {args.output} (digest {digest}).\n")
    return EXIT_OK


def _load_snapshot_arg(value: str, home: Any) -> dict[str, Any]:
    if Path(value).exists() or not value.lstrip("#").isdigit():
        document = read_json(value, "snapshot")
    else:
        store = home.open(signing=False)
        try:
            found = store.snapshot_text(int(value.lstrip("#")))
        finally:
            store.close()
        if found is None:
            raise InvalidInputError(f"there is no snapshot #{value.lstrip('#')} in this registry")
        document = json.loads(found[2])
    if not isinstance(document, dict) or not isinstance(document.get("entities"), list):
        raise InvalidInputError(f"{value!r} is not a registry snapshot")
    return document


def _cmd_show(args: argparse.Namespace) -> int:
    home = _home(args)
    if args.snapshot:
        document = _load_snapshot_arg(args.snapshot, home)
        entities = [e for e in document["entities"] if args.entity is None or e.get("id") == args.entity]
        header = f"Registry snapshot #{document.get('sequence')} of {document.get('registry')}, issued {document.get('issued')}, next update {document.get('nextUpdate')}"
    else:
        store = home.open(signing=False)
        try:
            entities = [store.entity(args.entity)] if args.entity else store.entities()
            latest = store.latest_snapshot_text()
            header = f"Registry {store.settings.registry}, latest snapshot #{latest[0] if latest else '-'}"
        finally:
            store.close()
    if args.entity and not entities:
        raise InvalidInputError(f"there is no entity {args.entity!r}")
    if args.json:
        write_output(dump_json(entities), None)
        return EXIT_OK
    lines = [header, f"{len(entities)} entit{'y' if len(entities) == 1 else 'ies'}:"]
    for e in entities:
        lines.append(f"- {e.get('legalName')} ({e.get('id')})" + (f", assurance {e['assuranceLevel']}" if e.get("assuranceLevel") else ""))
        for r in e.get("roles", []):
            status = r.get("history", [])[-1] if r.get("history") else {}
            lines.append(f"    role {str(r.get('role')).rsplit('/', 1)[-1]}: from {r.get('validFrom')} until {r.get('validUntil') or 'further notice'}"
                         + (f"; {status.get('status')} since {status.get('from')} ({status.get('reason')})" if status.get("status") not in (None, "active") else ""))
        for i in e.get("identifiers", []):
            lines.append(f"    key {i.get('did') or i.get('serial')}: from {i.get('validFrom')} until {i.get('validUntil') or 'further notice'}"
                         + (f", revoked from {i['revokedFrom']}" if i.get("revokedFrom") else ""))
    write_output("\n".join(lines), None)
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from .snapshot_diff import diff_snapshots

    home = _home(args)
    write_output("\n".join(diff_snapshots(_load_snapshot_arg(args.old, home), _load_snapshot_arg(args.new, home))), None)
    return EXIT_OK


def _cmd_audit(args: argparse.Namespace) -> int:
    store = _home(args).open(signing=False)
    try:
        entries = store.audit_log(args.limit)
    finally:
        store.close()
    for e in entries:
        sys.stdout.write(f"{e['at']}  {e['actor']}: {e['action']} {e['target']} — {e['reason']} (snapshot #{e['snapshot']})\n")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        from .service.server import serve
    except ImportError as exc:
        raise UsageError(f"the registry service needs the 'registry' extra (pip install 'perseus-credentials[registry]'): {exc}") from None
    if args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    return serve(_home(args), host=args.host, port=args.port, tokens=args.token, workers=args.workers)


# -- parser ------------------------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser, *, change: bool = True) -> None:
    parser.add_argument("--dir", metavar="DIR", help="the registry's directory (default: $PERSEUS_REGISTRY_DIR or ./.perseus-registry)")
    if change:
        parser.add_argument("--reason", required=True, help="why (kept in the audit log with who and when)")
        parser.add_argument("--actor", help="who makes the change (default: your login name)")


def _framework_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--framework", metavar="URL", help="trust framework URL or core|pilot|sandbox (default: the registry's only one)")


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    registry = commands.add_parser(
        "registry", help="keep a trust registry: who may issue what, when; signed snapshots",
        description="Keep a Perseus trust registry (entities, their keys, their roles over time) and publish signed snapshots "
        "that recipients check offline with `perseus verify --registry`. Every change is audited and followed by a new snapshot.",
    )
    sub = registry.add_subparsers(dest="registry_command", metavar="ACTION", required=True)

    p = sub.add_parser("init", help="create a registry (database, operator key, settings)",
                       description="Create a registry in --dir: its settings, database and operator signing key, and publish snapshot #0.")
    p.add_argument("--dir", metavar="DIR", help="where (default: $PERSEUS_REGISTRY_DIR or ./.perseus-registry)")
    p.add_argument("--actor", help="who creates it (default: your login name)")
    p.add_argument("--registry", required=True, metavar="URL", help="the registry's public URL, named in every snapshot")
    p.add_argument("--framework", action="append", metavar="URL", help="a trust framework it covers: URL or core|pilot|sandbox (repeatable; default core)")
    p.add_argument("--next-update", default="1d", metavar="AGE", help="how long a snapshot stays current, e.g. 6h or 1d (default 1d)")
    p.add_argument("--operator-key", metavar="FILE", help="an existing key file to sign with (default: generate one)")
    p.add_argument("--key-type", default="Ed25519", choices=["Ed25519", "P-256", "P-384"], help="type of a generated key")
    p.add_argument("--database-url", metavar="URL", help="postgresql://… for several service replicas (default: SQLite in --dir)")
    p.set_defaults(run=_cmd_init)

    p = sub.add_parser("add", help="add an entity (an organisation) with its keys",
                       description="Add an entity: its id (an IB1 Directory member URL or a DID), legal name, assurance level and keys.")
    p.add_argument("entity", help="the entity's id, e.g. https://directory.core.trust.ib1.org/m/abc123")
    p.add_argument("--name", required=True, help="its legal name")
    p.add_argument("--assurance", metavar="LEVEL", help="its organisation assurance level, e.g. Level2")
    p.add_argument("--did", action="append", metavar="DID", help="a DID it signs with (repeatable)")
    p.add_argument("--did-document", metavar="FILE", help="the DID document of a did:web (so it resolves offline)")
    p.add_argument("--key-from", type=when, default="now", metavar="TIME", help="when its keys become valid (default now)")
    _common(p)
    p.set_defaults(run=_cmd_add)

    p = sub.add_parser("grant", help="grant a role to an entity for a period",
                       description="Grant a role (a URL, or a name such as energy-data-provider) in a trust framework, from a time, optionally until one.")
    p.add_argument("entity")
    p.add_argument("role", help="role URL or name (energy-data-provider, consumption-reader, carbon-accounting-provider, …)")
    p.add_argument("--from", dest="valid_from", type=when, default="now", metavar="TIME", help="start (date or dateTime; default now)")
    p.add_argument("--until", type=when, metavar="TIME", help="end (default: until further notice)")
    _framework_option(p)
    _common(p)
    p.set_defaults(run=_cmd_grant)

    for name, status, verb, text in (("suspend", "suspended", "suspended", "suspend a role from a time (it can be reinstated)"),
                                     ("revoke", "revoked", "revoked", "revoke a role for cause from a time (may be back-dated: voids what was signed from then)"),
                                     ("reinstate", "active", "active again", "lift a suspension from a time")):
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        p.add_argument("entity")
        p.add_argument("role")
        p.add_argument("--from", dest="effective", type=when, default="now", metavar="TIME", help="effective from (default now)")
        _framework_option(p)
        _common(p)
        p.set_defaults(run=_status_command(status, verb))

    p = sub.add_parser("end", help="end a role at a time (not for cause: earlier credentials keep verifying)",
                       description="End a role at a time, e.g. when membership lapses. What the entity signed before keeps verifying.")
    p.add_argument("entity")
    p.add_argument("role")
    p.add_argument("--at", type=when, default="now", metavar="TIME")
    _framework_option(p)
    _common(p)
    p.set_defaults(run=_cmd_end)

    p = sub.add_parser("keys", help="add, retire, revoke or list an entity's keys", description="Manage an entity's signing keys.")
    keys = p.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    k = keys.add_parser("add", help="add a DID key", description="Add a DID the entity signs with, valid from a time.")
    k.add_argument("entity")
    k.add_argument("did")
    k.add_argument("--from", dest="key_from", type=when, default="now", metavar="TIME")
    k.add_argument("--until", type=when, metavar="TIME")
    k.add_argument("--did-document", metavar="FILE", help="the DID document (required for did:web)")
    _common(k)
    k = keys.add_parser("add-certificate", help="record an IB1 member certificate identity",
                        description="Record an X.509 member certificate: application URL, serial and validity.")
    k.add_argument("entity")
    k.add_argument("application_url")
    k.add_argument("serial")
    k.add_argument("--from", dest="key_from", type=when, required=True, metavar="TIME")
    k.add_argument("--until", type=when, required=True, metavar="TIME")
    _common(k)
    k = keys.add_parser("retire", help="a key stops being valid at a time (rotation)",
                        description="Retire a key at a time (rotation): what it signed before stays valid.")
    k.add_argument("entity")
    k.add_argument("did")
    k.add_argument("--at", type=when, default="now", metavar="TIME")
    _common(k)
    k = keys.add_parser("revoke", help="revoke a compromised key from a time",
                        description="Revoke a key for cause (compromise) from a time: anything it signed from then on fails.")
    k.add_argument("entity")
    k.add_argument("did")
    k.add_argument("--from", dest="effective", type=when, required=True, metavar="TIME")
    _common(k)
    k = keys.add_parser("list", help="list an entity's keys", description="List an entity's keys and when each is valid.")
    k.add_argument("entity")
    _common(k, change=False)
    p.set_defaults(run=_cmd_keys)

    p = sub.add_parser("import-ib1", help="import an IB1 Directory members-with-role answer",
                       description="Import a saved answer of the IB1 Directory's GET /query/members-with-role?role=ROLE. The Directory "
                       "shows only the present: members newly listed are granted the role from --at; members no longer listed have it ended then.")
    p.add_argument("file", help="the saved JSON answer ({\"members\": [...]})")
    p.add_argument("--role", required=True, help="the role the query asked for (URL or name)")
    p.add_argument("--at", type=when, default="now", metavar="TIME", help="when the Directory was queried (default now)")
    p.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    p.add_argument("--dir", metavar="DIR", help="the registry's directory")
    p.add_argument("--actor", help="who runs the import")
    _framework_option(p)
    p.set_defaults(run=_cmd_import)

    p = sub.add_parser("snapshot", help="write the latest (or a given) signed snapshot",
                       description="Write a signed snapshot (default: the latest) to a file or standard output; --refresh publishes a new one first.")
    p.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: standard output)")
    p.add_argument("--sequence", type=int, metavar="N", help="an earlier snapshot by its sequence number")
    p.add_argument("--refresh", action="store_true", help="publish a new snapshot first (a fresh nextUpdate; for a daily job)")
    p.add_argument("--reason", default="scheduled refresh", help="why (for --refresh)")
    p.add_argument("--actor", help="who (for --refresh)")
    p.add_argument("--dir", metavar="DIR", help="the registry's directory")
    p.set_defaults(run=_cmd_snapshot)

    p = sub.add_parser("show", help="show entities, roles and keys in plain English",
                       description="Show the registry's entities (or one), their roles and keys; from the database or a snapshot file.")
    p.add_argument("entity", nargs="?", help="only this entity")
    p.add_argument("--snapshot", metavar="FILE|N", help="read a snapshot file (or sequence number) instead of the database")
    p.add_argument("--json", action="store_true", help="print the entities as JSON")
    p.add_argument("--dir", metavar="DIR", help="the registry's directory")
    p.set_defaults(run=_cmd_show)

    p = sub.add_parser("diff", help="list what changed between two snapshots",
                       description="List what changed between two snapshots (files, or sequence numbers of this registry).")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--dir", metavar="DIR", help="the registry's directory (for sequence numbers)")
    p.set_defaults(run=_cmd_diff)

    p = sub.add_parser("audit", help="show the audit log (who changed what, when, why)", description="Show the newest audit entries.")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--dir", metavar="DIR", help="the registry's directory")
    p.set_defaults(run=_cmd_audit)

    p = sub.add_parser("serve", help="run the query service (TRQP, snapshots, admin API)",
                       description="Serve TRQP v2 POST /authorization (signed answers), GET /entities/{id}, GET /snapshots/latest and "
                       "/snapshots/{sequence}, and the admin API (bearer tokens).")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8090)
    p.add_argument("--workers", type=int, default=1, help="worker processes (each answers from the same database)")
    p.add_argument("--token", action="append", metavar="TOKEN",
                   help="an admin bearer token (repeatable; default: $PERSEUS_REGISTRY_TOKENS, comma-separated, else one generated into DIR/admin-token)")
    p.add_argument("--dir", metavar="DIR", help="the registry's directory")
    p.set_defaults(run=_cmd_serve)
