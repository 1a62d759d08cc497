"""``python -m perseus.issuer.service [serve options]``: `perseus serve` without the ``perseus`` entry point."""

import sys

from perseus.verifier.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
