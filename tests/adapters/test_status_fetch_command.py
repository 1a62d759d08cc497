"""`perseus status fetch`: status lists saved for offline use, under the outbound policy, all or nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from perseus.issuer.build_cli import main
from perseus.issuer.status_fetch import file_name_for

LIST = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:example:edp", "credentialSubject": {"type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": "uH4sI"}}


class _Lists(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        if self.path == "/status/1":
            body = json.dumps(LIST).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/vc+ld+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Lists)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fetch_saves_the_lists_a_credential_names(capsys: pytest.CaptureFixture[str], tmp_path: Path, server: str) -> None:
    url = f"{server}/status/1"
    credential = tmp_path / "c.json"
    credential.write_text(json.dumps({"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                                                            "statusListIndex": "7", "statusListCredential": url}}))
    code, out, err = run(capsys, "status", "fetch", credential, "-o", tmp_path / "lists", "--allow-host", "127.0.0.1")
    assert code == 0, err
    saved = tmp_path / "lists" / file_name_for(url)
    assert json.loads(saved.read_text()) == LIST
    assert f"--status-list {saved}" in out
    code, out, err = run(capsys, "status", "fetch", url, "-o", tmp_path / "q", "--allow-host", "127.0.0.1", "--json")
    assert code == 0 and json.loads(out)["saved"][0]["url"] == url


def test_the_outbound_policy_applies_and_nothing_is_half_written(capsys: pytest.CaptureFixture[str], tmp_path: Path, server: str) -> None:
    code, _, err = run(capsys, "status", "fetch", f"{server}/status/1", "-o", tmp_path / "a")
    assert code == 2 and "could not be retrieved" in err and "nothing was saved" in err
    assert not (tmp_path / "a").exists()  # loopback is refused unless allowed
    code, _, err = run(capsys, "status", "fetch", f"{server}/status/1", f"{server}/status/2", "-o", tmp_path / "b", "--allow-host", "127.0.0.1")
    assert code == 2 and "HTTP 404" in err and not (tmp_path / "b").exists()


def test_file_names_say_which_list() -> None:
    assert file_name_for("https://edp.example/status/1") == "edp.example_status_1.json"
    assert file_name_for("http://127.0.0.1:8000/status/../x?y=1") == "127.0.0.1_8000_status_.._x_y_1.json"  # no path separator survives
