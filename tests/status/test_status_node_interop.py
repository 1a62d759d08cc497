"""Interoperability: our status lists verify in Digital Bazaar's verifier and decode with Node's zlib.

Uses the comparison harness in bench/node (see its README); skipped, with the reason, when Node or
its installed modules are missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from perseus.issuer.keyfile import generate_key_file
from perseus_status_fixtures import issuer_key, make_list  # noqa: F401 - fixtures

NODE_DIR = Path(__file__).resolve().parents[2] / "bench" / "node"

DECODE = """
const fs = require("fs"), zlib = require("zlib");
const list = JSON.parse(fs.readFileSync(process.argv[1]));
const bits = zlib.gunzipSync(Buffer.from(list.credentialSubject.encodedList.slice(1), "base64url"));
const set = [];
for (let i = 0; i < bits.length * 8; i++) if ((bits[i >> 3] >> (7 - (i & 7))) & 1) set.push(i);
console.log(JSON.stringify({length: bits.length * 8, set}));
"""


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed; the interoperability check needs it")
    if not (NODE_DIR / "node_modules" / "@digitalbazaar" / "vc").is_dir():
        pytest.skip(f"run `npm ci` in {NODE_DIR} to install the reference verifier")
    return path


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256", "P-384"])
def test_a_signed_list_verifies_and_decodes_in_node(node: str, make_list: Callable[..., dict[str, Any]], key_type: str, tmp_path: Path) -> None:
    status_list = make_list((0, 94_567, 131_071), key=generate_key_file(key_type), valid_until="2099-01-01T00:00:00Z")  # type: ignore[arg-type]
    path = tmp_path / "list.json"
    path.write_text(json.dumps(status_list))
    verified = subprocess.run([node, "verify.mjs", str(path)], cwd=NODE_DIR, capture_output=True, text=True, timeout=60, check=False)
    assert json.loads(verified.stdout)["verified"] is True, verified.stdout + verified.stderr
    decoded = subprocess.run([node, "-e", DECODE, str(path)], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(decoded.stdout) == {"length": 131_072, "set": [0, 94_567, 131_071]}
