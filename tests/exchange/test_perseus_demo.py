"""`perseus demo` runs the whole Perseus flow on loopback and every step comes out as it should."""

from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from perseus_service_fixtures import clean_env  # noqa: E402, F401


def test_the_whole_perseus_flow(tmp_path: Path, clean_env: None) -> None:  # noqa: F811
    from perseus.issuer.perseus_demo import run_perseus_demo

    out = io.StringIO()
    assert run_perseus_demo(tmp_path, out=out) is True, out.getvalue()
    text = out.getvalue()
    for expected in (
        "trust registry publishes a signed snapshot",
        "You are sharing the energy data of account edp-account-4471",
        "encrypted to the CAP (JWE ECDH-ES+A256KW/A256GCM",
        "receipt for 2 credentials",
        "onward permission",
        "released 1 credential(s)",
        "HTTP 403 PERMISSION_WITHDRAWN",
        "PERMISSION_PARENT_WITHDRAWN",
    ):
        assert expected in text, expected
    assert text.count("NOT VERIFIED") == 1  # the bank's first check passes, its check after the withdrawal does not
