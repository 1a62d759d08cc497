"""`perseus demo`: the whole Perseus flow on loopback, on embedded defaults, each step printed for a person.

Parties, all created afresh in a temporary directory (nothing is fetched; only 127.0.0.1 is used):

* a **trust registry** (its own operator key, SQLite) accrediting the three organisations below;
* the **Energy Data Provider** (EDP): a real `perseus serve` on a loopback port;
* the **Carbon Accounting Provider** (CAP): a second `perseus serve`;
* the **SME**: a wallet (`perseus.issuer.holder`), with its own did:key;
* the **bank** (FSP): a key and the offline verifier — no service at all.

Steps: the registry is built; the EDP issues a month of half-hourly consumption to the SME; the SME grants
the CAP permission; the CAP asks through a VC API exchange, the SME's wallet answers with a presentation
encrypted to the CAP, and the CAP checks it (proofs, accreditation, permission) and keeps a receipt; the
CAP issues an emissions report linked to the consumption and grants the bank an onward permission under
the SME's; the bank verifies the whole chain offline; the EDP releases data to the CAP under the
permission; the SME withdraws; the next release is refused, and so is the bank's chain.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO

SANDBOX = "https://registry.core.sandbox.trust.ib1.org/trust-framework"
ROLE = "https://registry.core.sandbox.trust.ib1.org/scheme/perseus/role/"
MEMBER = "https://directory.core.sandbox.trust.ib1.org/m/"
MPAN = "1200123456787"
LICENCE = "https://registry.core.trust.ib1.org/scheme/perseus/license/energy-consumption-emissions-edp-cap-fsp/2026-03-12"
PROCESS = "https://registry.core.trust.ib1.org/scheme/perseus/process/electricity-emissions-calculation/2026-03-12"
TIMEOUT = 60.0


@contextmanager
def _service(work: Path, name: str, token: str) -> Iterator[tuple[str, Any]]:
    """A `perseus serve` on a free loopback port in ``work/name``; yields (URL, its ServiceState)."""
    from .service import create_app, load_settings
    from .service.server import free_port, serving_in_thread

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = load_settings(data_dir=work / name, host="127.0.0.1", port=port, api_tokens=(token,), access_log=False, log_level="warning", base_url=url)
    app = create_app(settings)
    with serving_in_thread(app, port=port) as served:
        yield served, app


def _registry(work: Path, members: list[tuple[str, str, str, str]]) -> tuple[Any, str]:
    """A signed registry snapshot accrediting ``members`` (id, name, DID, role); (snapshot, its text)."""
    from perseus.registry.operator_key import generate_operator_key, trust_anchor_of
    from perseus.registry.storage.store import RegistrySettings, RegistryStore
    from perseus.verifier.registry_snapshot import load_snapshot

    operator = generate_operator_key()
    settings = RegistrySettings("https://registry.example/perseus-demo", (SANDBOX,), timedelta(days=1))
    store = RegistryStore(f"sqlite:///{work / 'registry.db'}", signer=operator, settings=settings)
    try:
        store.initialise(settings, actor="registry operator")
        since = datetime(2023, 1, 1, tzinfo=timezone.utc)
        for member, name, did, role in members:
            store.add_entity(MEMBER + member, name, assurance_level="Level2", dids=[(did, since, None)], actor="registry operator", reason="demo member")
            store.grant(MEMBER + member, SANDBOX, ROLE + role, valid_from=since, actor="registry operator", reason="demo member")
        latest = store.latest_snapshot_text()
    finally:
        store.close()
    assert latest is not None
    return load_snapshot(latest[2], trust_anchor=trust_anchor_of(operator)), latest[2]


def _month(customer: str, edp: str) -> dict[str, Any]:
    """An unsigned month (January 2024) of half-hourly import for ``customer``, to be issued by ``edp``."""
    from decimal import Decimal

    from .credentials.claims import Metadata
    from .credentials.consumption import build_consumption_credential
    from .energy.consumption import build_consumption
    from .energy.model import EnergyUnit, IntervalReading
    from .energy.mpan import supply_point

    start, step = datetime(2024, 1, 1, tzinfo=timezone.utc), timedelta(minutes=30)
    readings = [IntervalReading(start + i * step, start + (i + 1) * step, Decimal(f"0.{(i * 37) % 900 + 100:03d}"), EnergyUnit.KWH, "actual") for i in range(31 * 48)]
    data = build_consumption(supply_point(MPAN, "electricity", "import", "SE1"), customer, intervals=readings)
    return build_consumption_credential(data, issuer=edp, metadata=Metadata("SmartMeterViaDCC", license=LICENCE), daily_totals=False)


def _report(result: Any) -> str:
    lines = ["VERIFIED" if result.verified else "NOT VERIFIED"]
    for check in result.checks:
        mark = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip"}[check.outcome]
        lines.append(f"  [{mark}] {check.check}: {check.summary}")
        lines.extend(f"         {p.code}: {p.detail[:220]}" for p in check.problems[:3])
    return "\n".join("     " + line for line in lines)


def run_perseus_demo(work: Path, out: TextIO = sys.stdout) -> bool:
    """The whole flow; True when every step came out as it should (the last two refused)."""
    import httpx

    from perseus.verifier.encryption import decrypt, encrypt_for
    from perseus.verifier.permission import read_permission
    from perseus.verifier.presentation import verify_presentation

    from .holder.permissions import PermissionTerms, SupplyPointRef, build_permission
    from .holder.wallet import Holder
    from .signing import sign_document

    began = time.monotonic()
    step = 0

    def say(text: str = "", *, new: bool = False) -> None:
        nonlocal step
        if new:
            step += 1
            text = f"{step}. {text}"
        print(text, file=out, flush=True)

    token = secrets.token_urlsafe(24)
    auth = {"Authorization": f"Bearer {token}"}
    ok = True
    with ExitStack() as stack:
        say("Starting two Perseus services on loopback: an Energy Data Provider and a Carbon Accounting Provider ...")
        edp_url, edp_app = stack.enter_context(_service(work, "edp", token))
        cap_url, cap_app = stack.enter_context(_service(work, "cap", token))
        edp_state, cap_state = edp_app.state.service, cap_app.state.service
        edp_did, cap_did = edp_state.profiles.all()[0].issuer, cap_state.profiles.all()[0].issuer
        sme = stack.enter_context(Holder.init(work / "sme-wallet", status_base="https://wallet.sme.example/status/"))
        from .keyfile import generate_key_file

        bank = generate_key_file("P-256")
        edp = stack.enter_context(httpx.Client(base_url=edp_url, timeout=TIMEOUT))
        cap = stack.enter_context(httpx.Client(base_url=cap_url, timeout=TIMEOUT))
        say(f"   EDP  {edp_url}  {edp_did}")
        say(f"   CAP  {cap_url}  {cap_did}")
        say(f"   SME  wallet      {sme.did}")
        say(f"   bank (offline)   {bank.controller}\n")

        snapshot, _ = _registry(work, [
            ("demo-edp", "Demo Energy Data Ltd", edp_did, "energy-data-provider"),
            ("demo-cap", "Demo Carbon Accounting Ltd", cap_did, "carbon-accounting-provider"),
            ("demo-bank", "Demo Bank plc", bank.controller, "financial-service-provider"),
        ])
        edp_app.state.exchanges.registry = cap_app.state.exchanges.registry = snapshot
        say(f"The trust registry publishes a signed snapshot (sequence {snapshot.sequence}): the EDP, the CAP and the bank are accredited for their roles.", new=True)
        say()

        answer = edp.post("/credentials/issue", json={"credential": _month(sme.did, edp_did)}, headers=auth)
        consumption = answer.raise_for_status().json()["verifiableCredential"]
        sme.store(consumption)
        readings = len(consumption["credentialSubject"]["intervalReadings"])
        say(f"The EDP issues a month of half-hourly electricity ({readings} readings, {consumption['credentialSubject']['totalKwh']} kWh, MPAN {MPAN}) to the SME, whose wallet keeps it encrypted.", new=True)
        for entry in consumption["credentialStatus"]:  # the EDP delivers its status lists to recipients of its data
            listed = edp.get("/status/" + entry["statusListCredential"].rsplit("/", 1)[1]).raise_for_status().json()
            cap.post("/permissions/status-lists", json=listed).raise_for_status()
        say()

        now = datetime.now(timezone.utc).replace(microsecond=0)
        permission = sme.grant(PermissionTerms(
            recipient=cap_did, license=LICENCE, account="edp-account-4471", supply_points=(SupplyPointRef(MPAN),), processes=(PROCESS,),
            data_available_from=datetime(2023, 1, 1, tzinfo=timezone.utc), expires=now + timedelta(days=365), last_granted=now,
            evidence="https://edp.example/evidence/meter-ownership/4471",
        ))
        say("The SME grants the CAP permission (a PermissionCredential, withdrawable through the SME's status list):", new=True)
        say("   " + read_permission(permission).describe())
        say()

        created = cap.post("/workflows/receive/exchanges", json={"variables": {"supplyPoint": MPAN, "periodStart": "2024-01-01T00:00:00Z", "periodEnd": "2024-02-01T00:00:00Z"}}, headers=auth)
        location = created.raise_for_status().headers["Location"]
        request = cap.post(location, json={}).raise_for_status().json()["verifiablePresentationRequest"]
        say(f"The CAP asks through a VC API exchange: POST {location} -> a presentation request (challenge, domain {request['domain']}).", new=True)
        t0 = time.monotonic()
        vp = sme.present(request, expected_domain=cap_url)
        token_jwe = encrypt_for(vp, cap_did, kid=cap_did)
        done = cap.post(location, json={"encryptedPresentation": token_jwe})
        took = (time.monotonic() - t0) * 1000
        say(f"   The SME's wallet answers with a signed presentation, encrypted to the CAP (JWE ECDH-ES+A256KW/A256GCM, {len(token_jwe):,} characters).")
        if done.status_code != 200:
            say(f"   REFUSED {done.status_code}: {done.text[:400]}")
            return False
        receipt = done.json()["receipt"]
        say(f"   The CAP decrypts and checks proofs, challenge, domain, holder, accreditation, the permission -> receipt for {len(receipt['credentials'])} credentials ({took:.0f} ms).")
        say()

        from .credentials.emissions import build_emissions_credential

        # verify_inputs=False: the exchange has just verified it in full (status included, which this builder
        # would check offline only against lists handed to it). The demo embeds no NESO regional intensity
        # series, so it uses the annual DESNZ factor, a method that does not claim the Perseus emissions standard.
        unsigned_report = build_emissions_credential([consumption], issuer=cap_did, verify_inputs=False, method="desnz-annual")
        report = cap.post("/credentials/issue", json={"credential": unsigned_report}, headers=auth).raise_for_status().json()["verifiableCredential"]
        scope2 = report["credentialSubject"]["scope2LocationBasedKgCO2e"]
        say(
            f"The CAP issues an emissions report (Scope 2 location-based {scope2} kgCO2e, by the annual DESNZ factor: the demo has no "
            "NESO intensity series, so it does not claim the Perseus emissions method), linked to the consumption by id and digest.",
            new=True,
        )
        onward_unsigned = build_permission(cap_did, PermissionTerms(
            recipient=bank.controller, license=LICENCE, account="edp-account-4471", supply_points=(SupplyPointRef(MPAN),), processes=(PROCESS,),
            data_available_from=datetime(2023, 1, 1, tzinfo=timezone.utc), expires=now + timedelta(days=365), last_granted=now, parent=permission["id"],
        ))
        onward = cap.post("/credentials/issue", json={"credential": onward_unsigned}, headers=auth).raise_for_status().json()["verifiableCredential"]
        say(f"   Under the SME's licence it grants the bank an onward permission naming the SME's ({permission['id']}).")
        say()

        def status_lists() -> list[dict[str, Any]]:
            lists = list(sme.status_lists())
            for source, credential in ((edp, consumption), (cap, report), (cap, onward)):
                for entry in credential.get("credentialStatus", []):
                    lists.append(source.get("/status/" + entry["statusListCredential"].rsplit("/", 1)[1]).raise_for_status().json())
            return lists

        cap_key = cap_state.keys.signing_key(cap_state.settings.default_profile)

        def bank_checks() -> Any:
            to_bank = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "holder": cap_did, "verifiableCredential": [report, consumption, onward, permission]}
            signed = sign_document(to_bank, cap_key, proof_purpose="authentication", challenge="bank-nonce-1", domain="https://bank.example")
            return verify_presentation(signed, challenge="bank-nonce-1", domain="https://bank.example", recipient=bank.controller, status_lists=status_lists(), registry=snapshot)

        first = bank_checks()
        say("The bank verifies the whole chain offline (report -> consumption, both issuers accredited, onward -> SME permission, status lists):", new=True)
        say(_report(first))
        ok &= first.verified
        say()

        def ask_release() -> Any:
            made = edp.post("/workflows/release/exchanges", json={"variables": {"supplyPoint": MPAN}}, headers=auth).raise_for_status().headers["Location"]
            asked = edp.post(made, json={}).raise_for_status().json()["verifiablePresentationRequest"]
            wanted = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"], "holder": cap_did, "verifiableCredential": [permission, *sme.status_lists()]}
            signed = sign_document(wanted, cap_key, proof_purpose="authentication", challenge=asked["challenge"], domain=asked["domain"])
            return edp.post(made, json={"verifiablePresentation": signed})

        released = ask_release()
        if released.status_code == 200:
            bundle = decrypt(released.json()["encryptedPresentation"], cap_key.secret_key)
            say(f"The CAP asks the EDP for the data under the permission: released {len(bundle['verifiableCredential'])} credential(s), encrypted to the CAP.", new=True)
        else:
            ok = False
            say(f"The CAP asks the EDP for the data: unexpectedly refused {released.status_code} {released.text[:300]}", new=True)
        say()

        sme.withdraw(permission["id"])
        for client in (edp, cap):  # the wallet delivers the withdrawal (its re-signed status list) to those it shared with
            client.post("/permissions/status-lists", json=sme.status_lists()[0]).raise_for_status()
        say("The SME withdraws its permission; its wallet re-signs its status list and delivers it to the EDP and the CAP.", new=True)
        say()

        refused = ask_release()
        body = refused.json()
        say(f"The CAP asks the EDP again: HTTP {refused.status_code} {body.get('code')}", new=True)
        say(f"   {body.get('detail', '')[:300]}")
        ok &= refused.status_code == 403 and body.get("code") == "PERMISSION_WITHDRAWN"
        again = bank_checks()
        say("   And the bank's chain no longer verifies (the withdrawal cascades to the onward permission):")
        say(_report(again))
        ok &= (not again.verified) and any(p.code == "PERMISSION_PARENT_WITHDRAWN" for p in again.errors)
        say()
    say(f"Done in {time.monotonic() - began:.1f} s. Everything ran on 127.0.0.1 in a temporary directory, now removed.")
    return bool(ok)


def _cmd_demo(args: Any) -> int:
    from .demo import _cmd_demo as issuer_only

    if getattr(args, "issuer_only", False):
        return issuer_only(args)
    with tempfile.TemporaryDirectory(prefix="perseus-demo-") as tmp:
        return 0 if run_perseus_demo(Path(tmp)) else 1
