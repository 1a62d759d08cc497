"""`perseus keys …` and `perseus sign …`: the issuer's command-line commands (registered as a plugin)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from perseus.verifier.cli import EXIT_OK, UsageError, dump_json, read_json, write_output
from perseus.verifier.keys import KEY_TYPES
from perseus.verifier.suites import SUITES


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
    )
    write_output(dump_json(signed), args.output)
    return EXIT_OK


def register(commands: Any) -> None:
    from .demo import register as register_demo

    register_demo(commands)
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
    keys.set_defaults(run=lambda args: (keys.print_help(), 2)[1])

    sign = commands.add_parser(
        "sign",
        help="add a Data Integrity proof to a credential",
        description="Sign FILE with the key in KEYFILE and print (or write) the signed document. A document that "
        "already has proofs gets one more: a proof set, or a proof chain with --previous-proof.",
    )
    sign.add_argument("file", help="the credential to sign (JSON), or - for standard input")
    sign.add_argument("--key", required=True, metavar="KEYFILE", help="key file from `perseus keys generate` (or a W3C vector key pair)")
    sign.add_argument("--suite", choices=sorted(SUITES), help="cryptosuite (default: eddsa-rdfc-2022 for Ed25519, ecdsa-rdfc-2019 for P-256/P-384)")
    sign.add_argument("--created", metavar="DATETIME", help="the proof's created time (default: now), e.g. 2025-01-31T12:00:00Z")
    sign.add_argument("--proof-purpose", default="assertionMethod", metavar="PURPOSE", help="default: assertionMethod")
    sign.add_argument("--previous-proof", metavar="ID", help="make a proof chain: the id of the proof this one endorses")
    sign.add_argument("--proof-id", metavar="URL", help="an id for the new proof (needed if a later proof will chain to it)")
    sign.add_argument("--domain", help="restrict the proof to a domain")
    sign.add_argument("--challenge", help="a challenge the proof answers")
    sign.add_argument("-o", "--output", metavar="OUT", help="write the signed document here instead of printing it")
    sign.set_defaults(run=_cmd_sign)
