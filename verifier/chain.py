"""Whole-chain verification of a bundle: is every link from the meter to the bank's figure present, intact,
in order, made by a party accredited for it, and not revoked?

A bank receives one bundle — a verifiable presentation, or a folder or zip — holding the CAP's emissions
report, the EDP's consumption credentials (each carrying the IB1 provenance record the consumption API
signed), a tariff, status list credentials and a trust-registry snapshot. Checking each credential alone
says each is genuine; it does not say the chain holds. This module builds the chain graph — credentials
linked by ``relatedResource`` id + digest, IB1 steps linked by ``of`` / ``inputs`` / ``transfer`` /
``permissions`` — and checks it as a whole:

* every digest, every proof (``verify_credential``), every IB1 signature (``verify_ib1_record``);
* every signer's role at its signing time: the credentials' proofs (the registry's accreditation check) and
  the IB1 record signers whose member URL the registry lists;
* time order: an input made before what was derived from it; IB1 inputs before the steps using them; a
  permission granted before the transfer it allows and not expired then;
* coverage: an emissions report's months covered by its consumption inputs' periods, gaps named;
* no input revoked (the bundle's status lists, with their freshness);
* permissions cover each transfer: licence, account, period.

The answer is "complete", "broken" (at a named link, with the reason) or "incomplete" (an input missing),
as a readable report, JSON, and a graph (DOT or Mermaid) for the auditor page.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .dates import parse_datetime, utc_now
from .canonical import rdfc_digest
from .digests import SHA2_256_MULTIHASH_PREFIX
from .errors import MalformedValueError, PerseusError
from .ib1_provenance import Ib1RecordResult, verify_ib1_record
from .loader import DocumentLoader
from .multibase import decode
from .provenance_check import Ib1Options, ib1_records_of

__all__ = ["Bundle", "BundleError", "ChainReport", "Finding", "load_bundle", "verify_bundle"]

MAX_FILES = 2000  # a bundle is one SME's chain: a year of credentials and their lists, not a book
MAX_BYTES = 256 * 1024 * 1024
COMPLETE, BROKEN, INCOMPLETE = "complete", "broken", "incomplete"


class BundleError(PerseusError):
    """The bundle cannot be read (not a folder, zip, presentation or bundle object; too large; not JSON)."""

    code = "PARSING_ERROR"


# -- reading a bundle --------------------------------------------------------------------------------------


@dataclass
class Bundle:
    """What a bundle holds, sorted by kind. `names` maps each credential id to where it was found."""

    credentials: list[dict[str, Any]] = field(default_factory=list)
    status_lists: list[dict[str, Any]] = field(default_factory=list)
    ib1_records: list[tuple[str, Any]] = field(default_factory=list)
    snapshots: list[tuple[str, bytes]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def add(self, name: str, document: Any, raw: bytes | None = None) -> None:
        """Sort one JSON document into the bundle by what it is."""
        if isinstance(document, list):
            for i, item in enumerate(document):
                self.add(f"{name}[{i}]", item)
            return
        if not isinstance(document, dict):
            self.skipped.append(f"{name}: not a JSON object")
            return
        types = _types(document)
        if "VerifiablePresentation" in types:
            held = document.get("verifiableCredential")
            for i, item in enumerate(held if isinstance(held, list) else [] if held is None else [held]):
                self.add(f"{name}#verifiableCredential[{i}]", item)
        elif "credential" in document and "@context" not in document:  # the batch verifier's bundle object
            self.add(f"{name}#credential", document["credential"])
            for key in ("inputs", "statusLists"):
                for i, item in enumerate(document.get(key) or []):
                    self.add(f"{name}#{key}[{i}]", item)
        elif "ib1:provenance" in document:
            self.ib1_records.append((name, document))
        elif "TrustRegistrySnapshot" in types or ("entities" in document and "registry" in document):
            self.snapshots.append((name, raw if raw is not None else json.dumps(document).encode()))
        elif types & {"BitstringStatusListCredential", "StatusList2021Credential"}:
            self.status_lists.append(document)
        elif "VerifiableCredential" in types:
            self.credentials.append(document)
            if isinstance(document.get("id"), str):
                self.names[document["id"]] = name
        else:
            self.skipped.append(f"{name}: neither a credential, a presentation, an IB1 record nor a registry snapshot")


def _types(document: Mapping[str, Any]) -> set[str]:
    value = document.get("type")
    return {v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)}


def _parse(name: str, data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"{name} is not JSON: {exc}") from None
    except RecursionError:
        raise BundleError(f"{name} is nested too deeply") from None


def load_bundle(source: str | Path | Mapping[str, Any] | Sequence[Any]) -> Bundle:
    """Read a bundle: a folder or zip of JSON files, a JSON file (presentation, bundle object, array), or the
    already-parsed document. Every ``.json`` file in a folder or zip is one part of the same bundle (unlike the
    batch verifier, where each file is a separate input), so the batch reader is not reused here."""
    bundle = Bundle()
    if not isinstance(source, (str, Path)):
        bundle.add("bundle", source)
        return bundle
    path = Path(source)
    total = 0

    def take(name: str, data: bytes) -> None:
        nonlocal total
        total += len(data)
        if total > MAX_BYTES:
            raise BundleError(f"the bundle is larger than {MAX_BYTES // (1024 * 1024)} MiB")
        bundle.add(name, _parse(name, data), data)

    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if len(files) > MAX_FILES:
            raise BundleError(f"the bundle folder holds more than {MAX_FILES} JSON files")
        for file in files:
            try:
                take(str(file.relative_to(path)), file.read_bytes())
            except OSError as exc:
                raise BundleError(f"cannot read {file.name}: {exc.strerror}") from None
    elif path.is_file() and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                members = sorted((i for i in archive.infolist() if i.filename.endswith(".json") and not i.is_dir()), key=lambda i: i.filename)
                if len(members) > MAX_FILES:
                    raise BundleError(f"the bundle archive holds more than {MAX_FILES} JSON files")
                for info in members:
                    if info.file_size > MAX_BYTES:
                        raise BundleError(f"{info.filename} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
                    take(info.filename, archive.read(info))
        except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
            raise BundleError(f"cannot read the zip archive {path.name}: {exc}") from None
    elif path.is_file():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BundleError(f"cannot read {path.name}: {exc.strerror}") from None
        if len(data) > MAX_BYTES:
            raise BundleError(f"{path.name} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
        take(path.name, data)
    else:
        raise BundleError(f"bundle {str(source)!r} is neither a folder, a zip archive nor a JSON file")
    return bundle


# -- the answer --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One reason the chain is not complete: `kind` is "broken" or "missing", `link` names the node or edge."""

    kind: str
    code: str
    link: str
    reason: str

    def sentence(self) -> str:
        if self.kind == "missing":
            return f"input {self.link} missing: {self.reason}"
        return f"broken at link {self.link} because {self.reason}"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "code": self.code, "link": self.link, "reason": self.reason}


@dataclass
class ChainReport:
    """The chain graph (nodes and edges) and what was found on it."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if any(f.kind == "broken" for f in self.findings):
            return BROKEN
        return INCOMPLETE if self.findings else COMPLETE

    @property
    def complete(self) -> bool:
        return not self.findings

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def add(self, kind: str, code: str, link: str, reason: str) -> None:
        finding = Finding(kind, code, link, reason)
        if finding not in self.findings:
            self.findings.append(finding)
        if link in self.nodes:
            self.nodes[link]["ok"] = False

    def report(self) -> str:
        credentials = sum(1 for n in self.nodes.values() if n["kind"] == "credential")
        steps = sum(1 for n in self.nodes.values() if n["kind"] == "ib1-step")
        head = f"chain {self.outcome}: {credentials} credential{'s' if credentials != 1 else ''}, {steps} IB1 step{'s' if steps != 1 else ''}, {len(self.edges)} links"
        lines = [head]
        lines.extend(f"  - {f.sentence()} [{f.code}]" for f in self.findings)
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "complete": self.complete,
            "findings": [f.to_json() for f in self.findings],
            "nodes": [{"id": k, **v} for k, v in self.nodes.items()],
            "edges": self.edges,
            "notes": self.notes,
        }

    def to_dot(self) -> str:
        ids = {k: f"n{i}" for i, k in enumerate(self.nodes)}
        out = ["digraph chain {", "  rankdir=LR;", "  node [shape=box, fontname=\"Helvetica\"];"]
        for key, node in self.nodes.items():
            shape = "box" if node["kind"] == "credential" else "ellipse"
            colour = "black" if node.get("ok", True) else "red"
            out.append(f"  {ids[key]} [label={_dot_quote(node['label'])}, shape={shape}, color={colour}];")
        for edge in self.edges:
            if edge["from"] in ids and edge["to"] in ids:
                style = "" if edge.get("ok", True) else ", color=red, style=dashed"
                out.append(f"  {ids[edge['from']]} -> {ids[edge['to']]} [label={_dot_quote(edge['kind'])}{style}];")
        out.append("}")
        return "\n".join(out) + "\n"

    def to_mermaid(self) -> str:
        ids = {k: f"n{i}" for i, k in enumerate(self.nodes)}
        out = ["flowchart LR"]
        for key, node in self.nodes.items():
            text = _mermaid_text(node["label"])
            out.append(f"  {ids[key]}[\"{text}\"]" if node["kind"] == "credential" else f"  {ids[key]}([\"{text}\"])")
        bad = []
        for edge in self.edges:
            if edge["from"] in ids and edge["to"] in ids:
                out.append(f"  {ids[edge['from']]} -->|{_mermaid_text(edge['kind'])}| {ids[edge['to']]}")
        for key, node in self.nodes.items():
            if not node.get("ok", True):
                bad.append(ids[key])
        if bad:
            out.append("  classDef broken stroke:#c00,stroke-width:3px")
            out.append(f"  class {','.join(bad)} broken")
        return "\n".join(out) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _mermaid_text(text: str) -> str:
    return "".join(c if c.isalnum() or c in " -_.:/,()" else " " for c in text.replace("\n", " "))


# -- checking the chain ------------------------------------------------------------------------------------


def verify_bundle(
    source: Bundle | str | Path | Mapping[str, Any] | Sequence[Any],
    *,
    registry: Any = None,
    trust_anchor: Any = None,
    ib1: Ib1Options | None = None,
    now: datetime | None = None,
    status_max_age: timedelta | None = None,
    loader: DocumentLoader | None = None,
    workers: int | None = None,
) -> ChainReport:
    """Check a bundle's whole chain; never raises for bad content (an unreadable bundle raises `BundleError`).

    `registry` is a loaded `RegistrySnapshot`; without one, the bundle's own snapshot is loaded, and then
    `trust_anchor` (a `TrustAnchor`) must have signed it — a snapshot the sender supplies proves nothing
    unless its operator key is pinned by the verifier. `workers`: processes for checking the credentials'
    proofs and digests (default: one per CPU; 1 checks in this process).
    """
    bundle = source if isinstance(source, Bundle) else load_bundle(source)
    now = now or utc_now()
    loader = loader or DocumentLoader()
    ib1 = ib1 or Ib1Options()
    report = ChainReport()
    report.notes.extend(f"skipped {s}" for s in bundle.skipped)
    registry = _registry(bundle, registry, trust_anchor, now, report)

    pool = {c["id"]: c for c in bundle.credentials if isinstance(c.get("id"), str)}
    seen: set[str] = set()
    for credential in bundle.credentials:
        if credential.get("id") in seen:  # which of the two a link means would be a guess
            report.add("broken", "DUPLICATE_ID", credential["id"], "the bundle holds two different credentials with this id")
        elif isinstance(credential.get("id"), str):
            seen.add(credential["id"])
    made: dict[str, datetime | None] = {}
    derived = {link.get("id") for c in bundle.credentials for link in _links(c) if isinstance(link, dict)}
    examined = _examine_all(bundle, derived, registry=registry, now=now, status_max_age=status_max_age, loader=loader, workers=workers)
    digests: dict[str, bytes | None] = {}
    for position, credential in enumerate(bundle.credentials):
        key = _key(credential, position)
        kind = sorted(_types(credential) - {"VerifiableCredential"})
        report.nodes[key] = {"kind": "credential", "label": f"{'/'.join(kind) or 'credential'}\n{key}", "types": kind, "issuer": _issuer(credential), "ok": True}
        findings, digests[key] = examined[position]
        for finding in findings:
            report.add(*finding)
        made[key] = _made(credential)
        report.nodes[key]["made"] = _fmt(made[key])
        for where, record in ib1_records_of(credential):
            _check_record(report, key, where, record, credential, ib1, registry, made[key])
        if key not in derived and not _links(credential):
            report.nodes[key]["origin"] = True
    for name, record in bundle.ib1_records:
        _check_record(report, f"ib1:{name}", "$", record, None, ib1, registry, None)

    for position, credential in enumerate(bundle.credentials):
        key = credential.get("id") if isinstance(credential.get("id"), str) else f"credential[{position}]"
        inputs = []
        for i, link in enumerate(_links(credential)):
            link_id = link.get("id") if isinstance(link, dict) else None
            label = f"{key} -> {link_id}" if link_id else f"{key} relatedResource[{i}]"
            if not isinstance(link_id, str):
                report.add("broken", "MALFORMED_VALUE_ERROR", label, f"relatedResource[{i}] names no id")
                continue
            edge = {"from": key, "to": link_id, "kind": "input", "ok": True}
            report.edges.append(edge)
            target = pool.get(link_id)
            if target is None:
                report.nodes.setdefault(link_id, {"kind": "credential", "label": f"missing\n{link_id}", "types": [], "ok": False})
                report.add("missing", "INPUT_MISSING", link_id, f"{key} was derived from it (relatedResource[{i}]) but the bundle does not hold it")
                edge["ok"] = False
                continue
            inputs.append(target)
            digest = link.get("digestMultibase")
            if not isinstance(digest, str) or not _digest_ok(digests.get(link_id), digest):
                edge["ok"] = False
                report.add("broken", "DIGEST_MISMATCH", label,
                           "the input's digest is not the one the report recorded (it was changed after the report used it)"
                           if isinstance(digest, str) else f"relatedResource[{i}] has no digestMultibase")
            input_made, own = made.get(link_id), made.get(key)
            if input_made is not None and own is not None and input_made > own:
                edge["ok"] = False
                report.add("broken", "CHAIN_TIME_ORDER", label, f"the input was made at {_fmt(input_made)}, after {key} which used it ({_fmt(own)})")
        if "EmissionsReportCredential" in _types(credential):
            _coverage(report, key, credential, inputs)
    return report


def _registry(bundle: Bundle, registry: Any, trust_anchor: Any, now: datetime, report: ChainReport) -> Any:
    """The snapshot to use: the caller's, else the bundle's own (only under a pinned trust anchor)."""
    if registry is not None:
        return registry
    if not bundle.snapshots:
        report.notes.append("no trust-registry snapshot: signers' roles were not checked (give --registry, or put a snapshot in the bundle with --trust-anchor)")
        return None
    from .registry_snapshot import load_snapshot

    name, raw = bundle.snapshots[0]
    if trust_anchor is None:
        report.add("broken", "REGISTRY_TRUST_ANCHOR_MISSING", f"registry snapshot {name}",
                   "the bundle's own snapshot counts only when a trust anchor (the registry operator's key) is given")
        return None
    snapshot = load_snapshot(raw, trust_anchor=trust_anchor, now=now)
    if not snapshot.usable:
        reasons = "; ".join(p.detail for p in snapshot.problems) if hasattr(snapshot, "problems") else "it does not verify"
        report.add("broken", "REGISTRY_SNAPSHOT_INVALID", f"registry snapshot {name}", reasons)
        return None
    return snapshot


def _links(credential: Mapping[str, Any]) -> list[Any]:
    related = credential.get("relatedResource", [])
    return related if isinstance(related, list) else [related]


def _issuer(credential: Mapping[str, Any]) -> Any:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, dict) else issuer


def _key(credential: Mapping[str, Any], position: int) -> str:
    return credential["id"] if isinstance(credential.get("id"), str) else f"credential[{position}]"


def _digest_ok(actual: bytes | None, digest: str) -> bool:
    """Whether a link's digestMultibase (a sha2-256 multihash) is the linked credential's RDFC-1.0 digest."""
    try:
        expected = decode(digest)
    except PerseusError:
        return False
    return actual is not None and expected[:2] == SHA2_256_MULTIHASH_PREFIX and expected[2:] == actual


# -- the expensive part: each credential's proofs and its own digest (RDF canonicalisation), on every core --

Examined = tuple[list[tuple[str, str, str, str]], "bytes | None"]
_JOB: dict[str, Any] = {}


def _examine(position: int) -> Examined:
    """One credential's proof/issuer/status/accreditation findings, and its digest when another links to it."""
    from .verify import verify_credential

    job = _JOB
    credential = job["bundle"].credentials[position]
    key = _key(credential, position)
    checks = {"proof", "issuer", "status"} | ({"accreditation"} if job["registry"] is not None else set())
    result = verify_credential(credential, loader=job["loader"], checks=checks, now=job["now"], status_lists=job["bundle"].status_lists,
                               status_max_age=job["status_max_age"], registry=job["registry"])
    findings = []
    for check in result.checks:
        for p in check.problems:
            if check.check == "status" and p.code == "STATUS_RETRIEVAL_ERROR":
                findings.append(("missing", p.code, key, f"the status list it names is not in the bundle ({p.detail})"))
            else:
                findings.append(("broken", p.code, key, f"{check.check}: {p.detail}"))
    digest = None
    if key in job["derived"]:
        try:
            digest = rdfc_digest(credential, job["loader"], hash_algorithm="sha256")
        except PerseusError:
            digest = None
    return findings, digest


def _examine_all(bundle: Bundle, derived: set[Any], *, registry: Any, now: datetime, status_max_age: timedelta | None,
                 loader: DocumentLoader, workers: int | None) -> list[Examined]:
    """Examine every credential, in `workers` forked processes when there are enough credentials to gain from it
    (canonicalising a month of half-hourly readings takes a tenth of a second; a year's chain has 14 of them)."""
    _JOB.update(bundle=bundle, derived=derived, registry=registry, now=now, status_max_age=status_max_age, loader=loader)
    count = len(bundle.credentials)
    workers = min(workers if workers is not None else (os.cpu_count() or 1), 8, count)
    try:
        if workers > 1 and count >= 4 and "fork" in multiprocessing.get_all_start_methods():
            # The first credential here warms the parsed-context and key caches, which the forked workers then
            # inherit (with the bundle and the options, instead of having them pickled); each would otherwise
            # pay that cold start again.
            first = _examine(0)
            try:
                with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                    return [first, *pool.map(_examine, range(1, count), chunksize=max(1, count // (workers * 2)))]
            except (OSError, BrokenProcessPool):
                return [first, *(_examine(i) for i in range(1, count))]  # no processes to be had (limits)
        return [_examine(i) for i in range(count)]
    finally:
        _JOB.clear()


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value, field="time")
    except MalformedValueError:
        return None


def _fmt(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def _made(credential: Mapping[str, Any]) -> datetime | None:
    """When a credential was made: its proof's ``created``, else its ``validFrom``."""
    proofs = credential.get("proof")
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        if isinstance(proof, dict) and _time(proof.get("created")) is not None:
            return _time(proof.get("created"))
    return _time(credential.get("validFrom"))


# -- IB1 records inside the chain ---------------------------------------------------------------------------


def _check_record(report: ChainReport, owner: str, where: str, record: Any, credential: Mapping[str, Any] | None,
                  options: Ib1Options, registry: Any, owner_made: datetime | None) -> None:
    from .provenance_check import _conflicts, _stated

    label = f"{owner} IB1 record" if where == "$" else f"{owner} {where}"
    try:
        env = options.environment_for(record)
    except MalformedValueError as exc:
        report.add("broken", "IB1_ENVIRONMENT_UNKNOWN", label, exc.message)
        return
    if env is None:
        framework = record.get("ib1:provenance") if isinstance(record, dict) else None
        report.add("broken", "IB1_TRUST_FRAMEWORK_MISMATCH", label, f"the record names the trust framework {framework!r}, which no configured IB1 environment uses")
        return
    result = verify_ib1_record(record, env, required_roles=options.required_roles)
    for step in result.steps:
        node = f"ib1:{step.id or step.where}"
        report.nodes[node] = {"kind": "ib1-step", "label": f"{step.type or 'step'}\n{step.id}", "type": step.type,
                              "timestamp": step.fields.get("timestamp"), "signedBy": step.signature.signer.member if step.signature.signer else None,
                              "ok": step.verified}
        report.edges.append({"from": owner, "to": node, "kind": "carries"})
    for p in result.problems:
        report.add("broken", p.code, label, f"{p.where + ': ' if p.where else ''}{p.detail}")
    if credential is not None and result.verified and not _stated(dict(credential), where):
        for text in _conflicts(dict(credential), result):
            report.add("broken", "IB1_RECORD_CONFLICT", label, f"{text}, and the credential does not state it (ib1RecordDiscrepancy)")
    if not result.verified:
        return  # links inside an unverified record mean nothing
    _step_links(report, result)
    _signer_roles(report, label, result, registry)
    if owner_made is not None:
        late = [s for s in result.steps if s.timestamp is not None and s.timestamp > owner_made]
        for s in late[:1]:
            report.add("broken", "CHAIN_TIME_ORDER", f"{label} step {s.id}", f"the {s.type} step is dated {s.fields.get('timestamp')}, after the credential carrying it was made ({_fmt(owner_made)})")


def _refs(value: Any) -> list[str]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def _step_links(report: ChainReport, result: Ib1RecordResult) -> None:
    """Edges between steps, their time order, and whether each transfer's permissions cover it."""
    by_id = {s.id: s for s in result.steps}
    for step in result.steps:
        node = f"ib1:{step.id}"
        for name in ("of", "inputs", "transfer", "permissions"):
            for ref in _refs(step.fields.get(name)):
                target = by_id.get(ref)
                link = f"{step.type} {step.id} -> {ref}"
                if target is None:
                    if name != "transfer":  # a receipt names a transfer in another party's record
                        report.add("missing", "IB1_STEP_MISSING", f"ib1:{ref}", f"the {step.type} step {step.id} refers to it ({name}) but no step of the record has that id")
                    continue
                report.edges.append({"from": node, "to": f"ib1:{ref}", "kind": name, "ok": True})
                if name == "permissions":
                    _permission(report, link, target, step)
                elif target.timestamp and step.timestamp and target.timestamp > step.timestamp:
                    report.edges[-1]["ok"] = False
                    report.add("broken", "CHAIN_TIME_ORDER", link, f"its input {ref} is dated {target.fields.get('timestamp')}, after the {step.type} step ({step.fields.get('timestamp')})")


def _permission(report: ChainReport, link: str, permission: Any, step: Any) -> None:
    if permission.type != "permission":
        report.add("broken", "IB1_PERMISSION_INVALID", link, f"it names {permission.id} as its permission, but that is a {permission.type} step")
        return
    granted, expires, at = permission.timestamp, _time(permission.get("expires")), step.timestamp
    if granted is not None and at is not None and granted > at:
        report.add("broken", "IB1_PERMISSION_NOT_YET_GRANTED", link, f"the permission was granted at {permission.fields.get('timestamp')}, after the {step.type} at {step.fields.get('timestamp')}")
    if expires is not None and at is not None and expires <= at:
        report.add("broken", "IB1_PERMISSION_EXPIRED", link, f"the permission expired at {permission.get('expires')}, before the {step.type} at {step.fields.get('timestamp')}")
    if not permission.get("account"):
        report.add("broken", "IB1_PERMISSION_INVALID", link, "the permission names no account")
    if step.type != "transfer":
        return
    allows = permission.get("allows") if isinstance(permission.get("allows"), dict) else {}
    licences = _refs(allows.get("licenses", allows.get("licences")))
    licence = step.get("license")
    if licences and licence not in licences:
        report.add("broken", "IB1_PERMISSION_SCOPE", link, f"the transfer's licence {licence} is not one the permission allows ({', '.join(licences)})")
    account = step.get("account")
    if isinstance(account, str) and account != permission.get("account"):
        report.add("broken", "IB1_PERMISSION_SCOPE", link, f"the transfer is for account {account}, the permission for {permission.get('account')}")
    period = allows.get("period") if isinstance(allows.get("period"), dict) else None
    params = step.get("parameters") if isinstance(step.get("parameters"), dict) else {}
    if period is not None:
        p_from, p_to = _time(period.get("from")), _time(period.get("to"))
        t_from, t_to = _time(params.get("from")), _time(params.get("to"))
        if None in (t_from, t_to) or (p_from and t_from < p_from) or (p_to and t_to > p_to):  # type: ignore[operator]
            report.add("broken", "IB1_PERMISSION_SCOPE", link, f"the transfer's period {params.get('from')}..{params.get('to')} is outside the permitted {period.get('from')}..{period.get('to')}")


def _signer_roles(report: ChainReport, label: str, result: Ib1RecordResult, registry: Any) -> None:
    """IB1 signers whose member URL the registry lists must hold their certificate's role there at signing time."""
    if registry is None or not getattr(registry, "usable", False):
        return
    from .accreditation import decide_role

    entities = {e.get("id"): e for e in registry.entities if isinstance(e, dict)}
    for sig in result.signatures:
        signer = sig.signer
        if signer is None or sig.signed_at is None or signer.member not in entities:
            continue
        entity = entities[signer.member]
        wanted = {r.rstrip("/").rsplit("/", 1)[-1] for r in signer.roles}
        needs = [(str(r.get("framework")), str(r.get("role")).rsplit("/", 1)[-1], (str(r.get("role")),))
                 for r in entity.get("roles") or () if isinstance(r, dict) and str(r.get("role")).rsplit("/", 1)[-1] in wanted]
        if not needs:
            report.add("broken", "REGISTRY_ROLE_NEVER_HELD", f"{label} {sig.where}",
                       f"{entity.get('legalName') or signer.member} signed as {', '.join(sorted(wanted))}, a role the registry never gave it")
            continue
        decision = decide_role(entity, needs, sig.signed_at, time_label="the IB1 signature's time")
        if not decision.authorized:
            report.add("broken", decision.code, f"{label} {sig.where}", decision.message)


# -- coverage ----------------------------------------------------------------------------------------------


def _months(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    """The calendar months of `zone` from `start` (inclusive) to `end` (exclusive), bounded to 240."""
    local = start.astimezone(zone)
    year, month = local.year, local.month
    out = []
    while len(out) < 240:
        first = datetime(year, month, 1, tzinfo=zone)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        after = datetime(year, month, 1, tzinfo=zone)
        if first >= end:
            break
        out.append((f"{first.year:04d}-{first.month:02d}", max(first, start), min(after, end)))
    return out


def _coverage(report: ChainReport, key: str, credential: Mapping[str, Any], inputs: Iterable[Mapping[str, Any]]) -> None:
    """Each month the report covers must be covered, for each fuel it draws on, by its consumption inputs."""
    subject = credential.get("credentialSubject") if isinstance(credential.get("credentialSubject"), dict) else {}
    start, end = _time(subject.get("periodStart")), _time(subject.get("periodEnd"))
    if start is None or end is None or end <= start:
        report.add("broken", "COVERAGE_UNKNOWN", key, "the report states no period (periodStart, periodEnd) to check its inputs against")
        return
    try:
        zone = ZoneInfo(str(subject.get("monthTimeBasis") or "Europe/London"))
    except (ValueError, KeyError, OSError):
        zone = ZoneInfo("Europe/London")
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for item in inputs:
        if "EnergyConsumptionCredential" not in _types(item):
            continue
        s = item.get("credentialSubject") if isinstance(item.get("credentialSubject"), dict) else {}
        point = s.get("supplyPoint") if isinstance(s.get("supplyPoint"), dict) else {}
        a, b = _time(s.get("periodStart")), _time(s.get("periodEnd"))
        if a is not None and b is not None:
            spans.setdefault(str(point.get("fuel") or "energy"), []).append((a, b))
    if not spans:
        report.add("missing", "COVERAGE_GAP", key, "the report links no consumption credential to cover its period")
        return
    for fuel, covered in sorted(spans.items()):
        gaps = [label for label, m_start, m_end in _months(start, end, zone) if not _covered(m_start, m_end, covered)]
        if gaps:
            report.add("missing", "COVERAGE_GAP", key, f"no {fuel} consumption input covers {', '.join(gaps)}")


def _covered(start: datetime, end: datetime, spans: list[tuple[datetime, datetime]]) -> bool:
    at = start
    for a, b in sorted(spans):
        if a <= at < b:
            at = b
        if at >= end:
            return True
    return at >= end
