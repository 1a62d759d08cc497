"""Metadata, assurance and provenance: what every Perseus credential says about its own data.

A bank reading an emissions figure needs more than the number: where the energy data came from (a smart
meter through the DCC, a bill, a customer's own read), how complete it was, what PCAF data-quality score
the figure can claim and why, and which inputs it links to and how to check them. These claims travel
inside the signed credential, next to ``credentialSubject``, so they cannot be separated from the data.

Callers give what only they know (the data source, the dataset assurance level, IB1 provenance steps);
what can be derived from the data (IB1 ``missingData``, the PCAF score and its reason, the connectedness
statement) is derived unless given, so that it cannot drift from the readings it describes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from perseus.issuer.energy.errors import InputDataError
from perseus.verifier.dates import parse_datetime
from perseus.verifier.errors import MalformedValueError

from .encode import utc_text
from .ib1 import dataset_assurance_level_url, ib1, missing_data_url, pcaf_wording

__all__ = [
    "DATA_SOURCES",
    "Assurance",
    "DataSource",
    "Metadata",
    "MissingData",
    "Provenance",
    "ProvenanceStep",
    "pcaf_for",
    "steps_from_ib1",
    "worst_missing_data",
]

DataSource = Literal["SmartMeterViaDCC", "SupplierBilling", "CustomerRead", "SupplierTariffData"]
DATA_SOURCES: tuple[DataSource, ...] = ("SmartMeterViaDCC", "SupplierBilling", "CustomerRead", "SupplierTariffData")
MissingData = Literal["Complete", "Missing", "Substituted"]
StepType = Literal["PermissionStep", "OriginStep", "TransferStep", "ReceiptStep", "ProcessStep"]
_MISSING_ORDER: dict[str, int] = {"Complete": 0, "Substituted": 1, "Missing": 2}


@dataclass(frozen=True)
class Metadata:
    """Where the data came from and under which standard and licence it is shared.

    ``standard`` and ``license`` default to the IB1 Perseus identifiers for the credential type (from
    ``data/ib1.json``); ``generated_at`` defaults to the credential's issue time.
    """

    data_source: DataSource | tuple[DataSource, ...]
    collection_method: str | None = None
    standard: str | None = None
    license: str | None = None
    generated_at: datetime | None = None

    def __post_init__(self) -> None:
        sources = self.data_source if isinstance(self.data_source, tuple) else (self.data_source,)
        for source in sources:
            if source not in DATA_SOURCES:
                raise InputDataError(f"data source must be one of {', '.join(DATA_SOURCES)}, got {source!r}", location="metadata.dataSource")
        if self.generated_at is not None and self.generated_at.utcoffset() is None:
            raise InputDataError("generated_at must have a timezone", location="metadata.generatedAt")

    def to_json(self, *, default_standard: str | None, issued_at: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "DatasetMetadata"}
        sources = self.data_source if isinstance(self.data_source, tuple) else (self.data_source,)
        out["dataSource"] = sources[0] if len(sources) == 1 else list(sources)
        if self.collection_method:
            out["collectionMethod"] = self.collection_method
        standard = self.standard or default_standard
        if standard:
            out["standard"] = standard
        out["license"] = self.license or ib1()["license"]
        out["generatedAt"] = utc_text(self.generated_at or issued_at)
        return out


@dataclass(frozen=True)
class Assurance:
    """What the issuer asserts about the data's reliability; unset fields are derived from the data.

    ``dataset_assurance_level`` has no default: IB1 Levels 1-4 describe the provider's published metadata,
    processes, availability and support, which this tool cannot observe, so a level is stated only when the
    issuer configures it.
    """

    dataset_assurance_level: int | None = None
    origin_method: str | None = None
    missing_data: MissingData | None = None
    pcaf_score: int | None = None
    pcaf_reason: str | None = None
    connectedness: str | None = None
    check_method: str | None = None

    def __post_init__(self) -> None:
        if self.dataset_assurance_level is not None and self.dataset_assurance_level not in (1, 2, 3, 4):
            raise InputDataError(f"the IB1 dataset assurance level is 1 to 4, got {self.dataset_assurance_level!r}", location="assurance.datasetAssuranceLevel")
        if self.missing_data is not None and self.missing_data not in _MISSING_ORDER:
            raise InputDataError(f"missingData must be Complete, Missing or Substituted, got {self.missing_data!r}", location="assurance.missingData")
        if self.pcaf_score is not None and self.pcaf_score not in (1, 2, 3, 4, 5):
            raise InputDataError(f"a PCAF data-quality score is 1 to 5, got {self.pcaf_score!r}", location="assurance.pcafDataQualityScore")
        if (self.pcaf_score is None) != (self.pcaf_reason is None):
            raise InputDataError("give both a PCAF score and the reason it was chosen, or neither (to derive them)", location="assurance.pcafScoreReason")

    def to_json(
        self,
        *,
        missing_data: MissingData,
        pcaf: tuple[int, str],
        connectedness: str,
        check_method: str | None,
        links: Sequence[str] = (),
        digest_method: bool = False,
        origin_method: str | None = None,
    ) -> dict[str, Any]:
        """The ``assurance`` object; the keyword arguments are the values derived from the data."""
        score, reason = (self.pcaf_score, self.pcaf_reason) if self.pcaf_score is not None else pcaf
        out: dict[str, Any] = {"type": "Assurance"}
        if self.dataset_assurance_level is not None:
            out["datasetAssuranceLevel"] = dataset_assurance_level_url(self.dataset_assurance_level)
        out["missingData"] = missing_data_url(self.missing_data or missing_data)
        method = self.origin_method or origin_method
        if method:
            out["originMethod"] = method
        out["pcafDataQualityScore"] = score
        out["pcafScoreReason"] = reason
        statement: dict[str, Any] = {"type": "Connectedness", "statement": self.connectedness or connectedness}
        if links:
            statement["linksTo"] = list(links)
        how = self.check_method or check_method
        if how:
            statement["checkMethod"] = how
        if digest_method:
            statement["digestMethod"] = "RdfcSha256Multihash"
        out["connectedness"] = statement
        return out


@dataclass(frozen=True)
class ProvenanceStep:
    """One IB1 provenance-record step restated in the credential (see `steps_from_ib1`)."""

    type: StepType
    step_id: str | None = None
    timestamp: datetime | None = None
    source_type: str | None = None
    origin: str | None = None
    origin_license: str | None = None
    process: str | None = None
    inputs: tuple[str, ...] = ()
    recipient: str | None = None
    standard: str | None = None
    license: str | None = None
    account: str | None = None
    permission_expires: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        pairs: list[tuple[str, Any]] = [
            ("stepId", self.step_id),
            ("timestamp", utc_text(self.timestamp) if self.timestamp else None),
            ("sourceType", self.source_type),
            ("origin", self.origin),
            ("originLicense", self.origin_license),
            ("process", self.process),
            ("inputs", list(self.inputs) if self.inputs else None),
            ("recipient", self.recipient),
            ("standard", self.standard),
            ("license", self.license),
            ("account", self.account),
            ("permissionExpires", utc_text(self.permission_expires) if self.permission_expires else None),
        ]
        out.update((k, v) for k, v in pairs if v is not None)
        return out


@dataclass(frozen=True)
class Provenance:
    """The credentials (by id) and IB1 provenance steps the data derives from."""

    derived_from: tuple[str, ...] = ()
    steps: tuple[ProvenanceStep, ...] = field(default_factory=tuple)
    #: The IB1 provenance record the data came with, as IB1 publishes it (encoded); carried unchanged
    #: (see `ib1_record`). ``accept_discrepancies``: state differences from the credential instead of refusing.
    ib1_record: Mapping[str, Any] | None = None
    accept_discrepancies: bool = False
    discrepancies: tuple[str, ...] = ()

    def to_json(self, *, extra_steps: Sequence[ProvenanceStep] = (), extra_derived: Sequence[str] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "Provenance"}
        derived = list(dict.fromkeys([*self.derived_from, *extra_derived]))
        if derived:
            out["derivedFrom"] = derived
        steps = [*self.steps, *extra_steps]
        if steps:
            out["steps"] = [s.to_json() for s in steps]
        if self.ib1_record is not None:
            out["ib1ProvenanceRecord"] = self.ib1_record
        if self.discrepancies:
            out["ib1RecordDiscrepancy"] = list(self.discrepancies)
        return out


#: Defaults for the builders' keyword arguments: derive every assurance claim, add no provenance.
DERIVED_ASSURANCE = Assurance()
NO_PROVENANCE = Provenance()

_IB1_STEP_TYPES: dict[str, StepType] = {
    "permission": "PermissionStep",
    "origin": "OriginStep",
    "transfer": "TransferStep",
    "receipt": "ReceiptStep",
    "process": "ProcessStep",
}


def steps_from_ib1(steps: Any, *, where: str = "provenance") -> tuple[ProvenanceStep, ...]:
    """Restate decoded IB1 Provenance Record 1.0 steps (a list of step objects) as `ProvenanceStep`s.

    IB1 field names map onto ours (``id`` → stepId, ``to`` → recipient, ``originLicence``/``originLicense``
    → originLicense, ``licence``/``license`` → license, ``expires`` → permissionExpires). Step ids that are
    not IRIs are kept as text (stepId); ``inputs`` and ``of`` keep only IRI-like values, since a process
    step's inputs are written as IRIs.
    """
    if not isinstance(steps, list):
        raise InputDataError("IB1 provenance steps must be a list of step objects", location=where)
    out: list[ProvenanceStep] = []
    for i, step in enumerate(steps):
        here = f"{where}[{i}]"
        if not isinstance(step, dict):
            raise InputDataError("a provenance step must be an object", location=here)
        kind = _IB1_STEP_TYPES.get(str(step.get("type", "")).lower())
        if kind is None:
            raise InputDataError(f"step type must be one of {', '.join(_IB1_STEP_TYPES)}, got {step.get('type')!r}", location=f"{here}.type")

        inputs = tuple(str(x) for x in step.get("inputs", []) if isinstance(x, str) and ":" in x)
        out.append(
            ProvenanceStep(
                type=kind,
                step_id=str(step["id"]) if step.get("id") is not None else None,
                timestamp=_step_instant(step, "timestamp", here),
                source_type=step.get("sourceType"),
                origin=step.get("origin"),
                origin_license=step.get("originLicense") or step.get("originLicence"),
                process=step.get("process"),
                inputs=inputs,
                recipient=step.get("to"),
                standard=step.get("standard"),
                license=step.get("license") or step.get("licence"),
                account=step.get("account"),
                permission_expires=_step_instant(step, "expires", here),
            )
        )
    return tuple(out)


def _step_instant(step: dict[str, Any], key: str, here: str) -> datetime | None:
    value = step.get(key)
    if value is None:
        return None
    try:
        return parse_datetime(value, field=f"{here}.{key}")
    except MalformedValueError as exc:  # re-raised as input data, with the step's location
        raise InputDataError(exc.message, location=f"{here}.{key}") from None


def worst_missing_data(values: Sequence[str]) -> MissingData:
    """Missing beats Substituted beats Complete (the IB1 order of concern)."""
    worst: MissingData = "Complete"
    for value in values:
        if _MISSING_ORDER[value] > _MISSING_ORDER[worst]:
            worst = value  # type: ignore[assignment]
    return worst


def pcaf_for(missing_data: MissingData, detail: str) -> tuple[int, str]:
    """The PCAF data-quality score emissions from this data can claim, and why.

    PCAF: metered kWh multiplied by grid (or supplier) factors is score 2, option 2a ("emissions calculated
    from primary energy consumption x specific emission factors"); estimated energy is still option 2a.
    Lowering the score for estimated, substituted or missing data is NOT PCAF's rule: these credentials do it
    as this project's policy (to score 3, from ``data/ib1.json``) and the reason says so. ``detail`` says what
    the data was (counts of actual and estimated intervals, for instance) so the reason can be checked.
    """
    if missing_data == "Complete":
        return 2, f"PCAF score 2 ({pcaf_wording(2)}): {detail}"
    lowered = int(ib1()["pcaf"]["policy_lowered_score"])
    return lowered, (
        f"PCAF score {lowered}: PCAF itself would give score 2 (option 2a: {pcaf_wording(2)}), but this issuer's policy, "
        f"not a PCAF rule, lowers it by one step when the energy data is not complete and actual ({missing_data}): {detail}"
    )


def local_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def as_issuer(issuer: str | Mapping[str, Any]) -> str | dict[str, Any]:
    """The credential's ``issuer`` value: a DID/URL, or an object with that ``id`` and an optional ``name``."""
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, Mapping) and isinstance(issuer.get("id"), str):
        out: dict[str, Any] = {"id": issuer["id"]}
        if issuer.get("name"):
            out["name"] = str(issuer["name"])
        return out
    raise InputDataError("issuer must be a DID or URL, or an object with an id", location="issuer")
