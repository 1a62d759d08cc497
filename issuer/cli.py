"""`perseus keys …`, `perseus sign …` and `perseus serve`: the issuer's command-line commands (a plugin).

`keys generate` writes a key file; `keys import|list|rotate` manage the keys of the issuer service's
profiles in its data directory (the same storage `perseus serve` uses, keys encrypted at rest).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from perseus.verifier.cli import EXIT_OK, UsageError, dump_json, read_json, write_output
from perseus.verifier.keys import KEY_TYPES
from perseus.verifier.suites import ALL_SUITES


def _cmd_keys_generate(args: argparse.Namespace) -> int:
    from .keyfile import generate_key_file, write_key_file

    key = generate_key_file(args.type, controller=args.controller)
    try:
        write_key_file(key, args.output, overwrite=args.force)
    except FileExistsError:
        raise UsageError(f"{args.output} already exists; choose another file or pass --force to replace it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    sys.stdout.write(key.controller + "\n")
    return EXIT_OK


def _cmd_sign(args: argparse.Namespace) -> int:
    from .keyfile import read_key_file
    from .signing import sign_document

    key = read_key_file(args.key)
    document = read_json(args.file, "document")
    if args.format == "jwt":
        _check_issuer(document, key.controller, allow_other=args.allow_other_issuer)
        return _sign_jwt(args, document, key)
    signed = sign_document(
        document,
        key,
        suite=args.suite,
        created=args.created,
        proof_purpose=args.proof_purpose,
        previous_proof=args.previous_proof,
        proof_id=args.proof_id,
        domain=args.domain,
        challenge=args.challenge,
        mandatory_pointers=args.mandatory_pointer,
    )
    # After signing, so that a key unfit for the suite is reported first; before writing anything.
    _check_issuer(document, key.controller, allow_other=args.allow_other_issuer)
    write_output(dump_json(signed), args.output)
    return EXIT_OK


def _check_issuer(document: Any, controller: str, *, allow_other: bool) -> None:
    """Refuse to sign a credential as someone other than its issuer: verifiers would reject it later (issuer check).

    A second party's proof (an endorsement, a witness) is legitimate, but rare: it is asked for with
    --allow-other-issuer, so that the common mistake, a wrong key file, stops here with a reason.
    """
    if allow_other or not isinstance(document, dict) or "issuer" not in document:
        return
    issuer = document["issuer"]
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if issuer_id != controller:
        raise UsageError(
            f"the key belongs to {controller}, but the credential's issuer is {issuer_id}: verifiers will reject the proof "
            "(issuer check); sign with the issuer's key, or give --allow-other-issuer for a proof by another party"
        )


def _sign_jwt(args: argparse.Namespace, document: Any, key: Any) -> int:
    """`perseus sign --format jwt`: a VC-JOSE-COSE vc+jwt token instead of a Data Integrity proof."""
    from .jose_signing import sign_jwt

    di_only = [f"--{n.replace('_', '-')}" for n in ("suite", "mandatory_pointer", "created", "previous_proof", "proof_id", "domain", "challenge") if getattr(args, n)]
    if di_only or args.proof_purpose != "assertionMethod":
        raise UsageError(f"{', '.join(di_only) or '--proof-purpose'} applies to Data Integrity proofs, not to --format jwt")
    write_output(sign_jwt(document, key), args.output)
    return EXIT_OK


def _open_service_keys(args: argparse.Namespace) -> Any:
    """IssuerKeys over the data directory's storage; needs the issuer extra (pydantic-settings, httpx)."""
    try:
        from .service.settings import load_settings
        from .service.state import open_keys
    except ImportError as exc:
        raise UsageError(f"this command needs the issuer service's dependencies ({exc.name} is missing): pip install 'perseus-credentials[issuer]'") from None
    return open_keys(load_settings(data_dir=args.data_dir, config=args.config, database_url=args.database_url))


def _check_passphrase(keys: Any) -> None:
    """Refuse to store a new key under a passphrase that cannot open the keys already there.

    Wrapping never needs the old keys, so a mistyped PERSEUS_KEY_PASSPHRASE would otherwise store a
    key the service cannot decrypt — found only at its next start.
    """
    for profile in keys.storage.list_profiles():
        keys.signing_key(profile.profile_id)


def _cmd_keys_import(args: argparse.Namespace) -> int:
    from .keyfile import read_key_file
    from .storage import ProfileNotFoundError

    key = read_key_file(args.keyfile)
    keys = _open_service_keys(args)
    try:
        _check_passphrase(keys)
        try:
            keys.storage.get_profile(args.profile)
        except ProfileNotFoundError:
            record = keys.create_profile(args.profile, key=key, suites=args.suites, name=args.name)
            sys.stdout.write(f"created profile {record.profile_id!r} issuing as {record.issuer} with key {key.id}\n")
            return EXIT_OK
        if args.suites:
            raise UsageError(f"profile {args.profile!r} exists; --suites applies only when a key import creates a profile")
        stored = keys.add_key(args.profile, key, activate=not args.retired)
        profile = keys.storage.get_profile(args.profile)
        state = "signs from now on" if stored.state == "active" else "kept as retired (verifies old proofs, never signs)"
        sys.stdout.write(f"imported key {stored.key_id} into profile {args.profile!r} ({state}); the profile issues as {profile.issuer}\n")
        return EXIT_OK
    finally:
        keys.storage.close()


def _cmd_keys_list(args: argparse.Namespace) -> int:
    keys = _open_service_keys(args)
    try:
        profiles = [
            {**profile.to_json(), "keys": keys.list_keys(profile.profile_id)} for profile in keys.storage.list_profiles()
        ]
    finally:
        keys.storage.close()
    if args.json:
        sys.stdout.write(dump_json({"profiles": profiles}) + "\n")
        return EXIT_OK
    if not profiles:
        sys.stdout.write("no issuer profiles yet (perseus serve creates one; perseus keys import adds one)\n")
    for profile in profiles:
        sys.stdout.write(f"{profile['id']}: {profile['issuer']} (suites: {', '.join(profile['suites'])})\n")
        for key in profile["keys"]:
            when = f"created {key['created']}" + (f", retired {key['retired']}" if key.get("retired") else "")
            sys.stdout.write(f"  [{key['state']:7}] {key['type']:7} {key['id']} ({when})\n")
    return EXIT_OK


def _cmd_keys_rotate(args: argparse.Namespace) -> int:
    keys = _open_service_keys(args)
    try:
        _check_passphrase(keys)
        rotation = keys.rotate(args.profile, key_type=args.type)
    finally:
        keys.storage.close()
    sys.stdout.write(f"profile {args.profile!r}: new key {rotation.active.key_id} signs from now on; {rotation.retired.key_id} is retired "
                     "(credentials it signed still verify)\n")
    if rotation.issuer_changed:
        sys.stdout.write(f"the profile's DID changed from {rotation.issuer_before} to {rotation.issuer_after} (did:key); "
                         "put the new DID in credential.issuer and tell relying parties (a did:web profile keeps its DID)\n")
    return EXIT_OK


def _service_location(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR", help="the service's data directory (default: $PERSEUS_DATA_DIR or ./.perseus)")
    parser.add_argument("--config", metavar="FILE", help="the service's TOML config file (default: $PERSEUS_CONFIG)")
    parser.add_argument("--database-url", metavar="URL", help="sqlite:///path or postgresql://host/db (default: SQLite in the data directory)")


def register(commands: Any) -> None:
    from .demo import register as register_demo
    from .service.cli import register as register_serve

    register_demo(commands)
    register_serve(commands)
    keys = commands.add_parser("keys", help="create and manage signing keys", description="Create and manage signing keys.")
    key_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    generate = key_commands.add_parser(
        "generate",
        help="generate a key and write it to a key file",
        description="Generate a signing key, write it (with its secret) to KEYFILE with mode 0600, and print its "
        "controller (the did:key unless --controller is given).",
    )
    generate.add_argument("--type", required=True, choices=KEY_TYPES, help="key type")
    generate.add_argument("-o", "--output", required=True, metavar="KEYFILE", help="where to write the key file")
    generate.add_argument("--controller", help="the DID or URL that controls the key (default: its did:key)")
    generate.add_argument("--force", action="store_true", help="replace KEYFILE if it exists")
    generate.set_defaults(run=_cmd_keys_generate)

    importing = key_commands.add_parser(
        "import",
        help="add a key file's key to an issuer profile of the service",
        description="Store the key in KEYFILE (encrypted) in the service's data directory: as the new signing key of "
        "profile NAME (the old one is retired, so what it signed still verifies), or as the first key of a new profile.",
    )
    importing.add_argument("keyfile", metavar="KEYFILE", help="key file (from `perseus keys generate`, or a W3C vector key pair)")
    importing.add_argument("--profile", required=True, metavar="NAME", help="the issuer profile (created if it does not exist)")
    importing.add_argument("--suites", nargs="+", choices=sorted(ALL_SUITES), metavar="SUITE", help="cryptosuites of a new profile (default: all the "
                           "key's type can make, except ecdsa-sd-2023, which a P-256 profile offers only when listed here)")
    importing.add_argument("--name", help="a display name for a new profile")
    importing.add_argument("--retired", action="store_true", help="keep the key only to verify old proofs; do not sign with it")
    _service_location(importing)
    importing.set_defaults(run=_cmd_keys_import)

    listing = key_commands.add_parser(
        "list",
        help="list the service's issuer profiles and their keys (public parts only)",
        description="List every issuer profile in the data directory: its DID, suites and keys (id, type, active or retired). "
        "Never prints a secret.",
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    _service_location(listing)
    listing.set_defaults(run=_cmd_keys_list)

    rotate = key_commands.add_parser(
        "rotate",
        help="give a profile a new signing key; the old one is retired",
        description="Generate a new key for profile NAME: it signs from now on; the old key is kept (retired), so "
        "credentials it signed still verify. A did:key profile gets a new DID (the key's); a did:web one keeps its DID.",
    )
    rotate.add_argument("--profile", required=True, metavar="NAME", help="the issuer profile")
    rotate.add_argument("--type", choices=KEY_TYPES, help="key type of the new key (default: the same as now)")
    _service_location(rotate)
    rotate.set_defaults(run=_cmd_keys_rotate)
    keys.set_defaults(run=lambda args: (keys.print_help(), 2)[1])

    sign = commands.add_parser(
        "sign",
        help="add a Data Integrity proof to a credential",
        description="Sign FILE with the key in KEYFILE and print (or write) the signed document. A document that "
        "already has proofs gets one more: a proof set, or a proof chain with --previous-proof.",
    )
    sign.add_argument("file", help="the credential to sign (JSON), or - for standard input")
    sign.add_argument("--key", required=True, metavar="KEYFILE", help="key file from `perseus keys generate` (or a W3C vector key pair)")
    sign.add_argument("--suite", choices=sorted(ALL_SUITES), help="cryptosuite (default: eddsa-rdfc-2022 for Ed25519, ecdsa-rdfc-2019 for "
                      "P-256/P-384; ecdsa-sd-2023, P-256 only, makes a base proof a holder derives selective disclosures from)")
    sign.add_argument("--mandatory-pointer", action="append", metavar="POINTER", help="ecdsa-sd-2023: a JSON pointer (e.g. /issuer) every "
                      "disclosure must reveal; repeat for each (the id, issuer, validity dates and status are always mandatory)")
    sign.add_argument("--format", choices=("di", "jwt"), default="di", help="di: add a Data Integrity proof (default); jwt: "
                      "write the credential as a VC-JOSE-COSE vc+jwt token (EdDSA, ES256 or ES384 by the key's type)")
    sign.add_argument("--created", metavar="DATETIME", help="the proof's created time (default: now), e.g. 2025-01-31T12:00:00Z")
    sign.add_argument("--proof-purpose", default="assertionMethod", metavar="PURPOSE", help="default: assertionMethod")
    sign.add_argument("--previous-proof", metavar="ID", help="make a proof chain: the id of the proof this one endorses")
    sign.add_argument("--proof-id", metavar="URL", help="an id for the new proof (needed if a later proof will chain to it)")
    sign.add_argument("--domain", help="restrict the proof to a domain")
    sign.add_argument("--challenge", help="a challenge the proof answers")
    sign.add_argument("-o", "--output", metavar="OUT", help="write the signed document here instead of printing it")
    sign.add_argument("--allow-other-issuer", action="store_true", help="sign although the key's controller is not the "
                      "credential's issuer (an endorsement or witness proof; verifiers' issuer check still applies)")
    sign.set_defaults(run=_cmd_sign)
    from .status_fetch import register as register_status_fetch  # `perseus status fetch`

    register_status_fetch(commands)
