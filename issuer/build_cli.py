"""`perseus build consumption|tariff|emissions`: turn the files energy suppliers have into unsigned credentials.

Registered through the ``perseus.commands`` entry point (``build = "perseus.issuer.build_cli:register"``).
Each command reads an input file with the matching adapter (`perseus.issuer.adapters`), does the energy
arithmetic (`perseus.issuer.energy`), builds the credential (`perseus.issuer.credentials`) — which checks
its shape and strict JSON-LD — and writes it atomically. `perseus sign` signs the result.

Bad input exits 2 with one line naming the file and the row or field (``perseus build: error: in.csv:
row 7: interval ends ... before it starts``); nothing is written.
"""

from __future__ import annotations

import argparse
import csv
import io
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from perseus.verifier.cli import EXIT_OK, UsageError, dump_json, json_text_problem, parse_json_text, read_json, read_text, write_output
from perseus.verifier.errors import PerseusError

CONSUMPTION_FORMATS = ("ib1", "csv-long", "csv-wide", "register-reads", "octopus-api", "octopus-csv", "glowmarkt", "n3rgy", "ovo")
#: Vendor downloads read as they come (issuer/adapters/octopus.py, glowmarkt.py, n3rgy.py, ovo.py).
VENDOR_FORMATS = ("octopus-api", "octopus-csv", "glowmarkt", "n3rgy", "ovo")
TARIFF_FORMATS = ("tariff-json", "perseus-tariff")
SOURCES = ("SmartMeterViaDCC", "SupplierBilling", "CustomerRead", "SupplierTariffData")
UNITS = ("KWH", "WHR", "MWH", "MTQ", "FTQ", "HH", "FC")
#: The metadata's collectionMethod when --collection-method is not given: what the input format tells us.
COLLECTION_METHODS = {
    "ib1": "half-hourly readings from an IB1 Perseus consumption API response (energy-consumption-data 2026-03-12), restated as start, end, value, unit, quality",
    "csv-long": "half-hourly readings from a CSV export, one row per interval",
    "csv-wide": "half-hourly readings from a CSV export, one row per local day",
    "register-reads": "cumulative register reads from the baseline, with corrections and meter exchanges",
    "octopus-api": "half-hourly readings from the Octopus Energy consumption API (all pages), as returned",
    "octopus-csv": "half-hourly readings from an Octopus Energy dashboard CSV download, as downloaded",
    "glowmarkt": "half-hourly readings from the Hildebrand Glowmarkt (Bright) readings API (PT30M), as returned",
    "n3rgy": "half-hourly readings from the n3rgy consumer API (timestamps mark each half-hour's end), as returned",
    "ovo": "half-hourly readings from OVO Energy's half-hourly usage JSON (naive local times), as returned",
}

_EPILOG_CONSUMPTION = """\
input formats (detected from the file when --format is not given):
  ib1             IB1 Perseus consumption API response {"data": [Reading], "location": ...}; units KWH, WHR, MTQ
  csv-long        CSV with a header start,end,value[,quality][,unit]; one row per interval
  csv-wide        CSV, one row per local day: a date column then 48 half-hour columns (46 or 50 on clock-change days)
  register-reads  JSON {"format": "perseus-register-reads", ...}: baseline, reads, exchanges, calorific value
  octopus-api     Octopus consumption API JSON {count, next, results: [...]} (a page, or a JSON array of all pages)
  octopus-csv     Octopus dashboard CSV download "Consumption (kWh), Start, End" (or the five-column form; m³ for gas)
  glowmarkt       Hildebrand Glowmarkt/Bright readings {data: [[epoch_seconds, value], ...]}, period PT30M
  n3rgy           n3rgy consumer API {values: [{timestamp, value}], unit}; timestamps (UTC) end each half-hour
  ovo             OVO half-hourly usage {electricity|gas: {data: [{consumption, interval: {start, end}}]}}

examples:
  perseus build consumption readings.csv --mpan 1200123456787 --account did:web:sme.example \\
      --issuer did:web:edp.example --postcode SE1 -o consumption.json
  perseus build consumption gas_reads.json --issuer did:web:edp.example --from 2023-10-01 --to 2023-11-01 -o gas.json
  perseus sign consumption.json --key edp-key.json -o consumption.signed.json
"""


# -- shared option groups --------------------------------------------------------------------------------------


def _add_issue_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("credential")
    g.add_argument("--issuer", required=True, metavar="DID", help="the issuer's DID or URL (it must sign the credential with a key it controls)")
    g.add_argument("--issuer-name", metavar="NAME", help="the issuer's name, stated next to its id")
    g.add_argument("--id", dest="credential_id", metavar="URN", help="the credential id (default: a new urn:uuid)")
    g.add_argument("--valid-from", metavar="DATETIME", help="validFrom, e.g. 2024-01-05T09:00:00Z (default: now)")
    g.add_argument("--valid-until", metavar="DATETIME", help="validUntil (default: none)")
    g.add_argument("--name", help="a human-readable name for the credential (default: generated from the data)")
    g.add_argument("-o", "--output", metavar="FILE", help="write the unsigned credential here (default: standard output)")


def _add_claim_options(p: argparse.ArgumentParser, *, default_source: str | None) -> None:
    g = p.add_argument_group("metadata, assurance and provenance")
    g.add_argument(
        "--source",
        choices=SOURCES,
        default=default_source,
        help="where the data came from" + (f" (default: {default_source})" if default_source else " (default: depends on the input format)"),
    )
    g.add_argument("--collection-method", metavar="TEXT", help="how the data was collected, in words")
    g.add_argument("--standard", metavar="IRI", help="the IB1 standard the data conforms to (default: the Perseus standard for the type)")
    g.add_argument("--license", metavar="IRI", help="the licence the data is shared under (default: the Perseus scheme licence)")
    g.add_argument("--generated-at", metavar="DATETIME", help="when the data was produced (default: validFrom)")
    g.add_argument(
        "--assurance-level",
        type=int,
        choices=(1, 2, 3, 4),
        help="IB1 dataset assurance level, as the provider configures it (default: none stated; this tool cannot observe it)",
    )
    g.add_argument("--origin-method", metavar="IRI", help="IB1 origin-method IRI (default: SmartDCCOtherUser for smart-meter data)")
    g.add_argument("--missing-data", choices=("Complete", "Missing", "Substituted"), help="override the IB1 missingData value derived from the data")
    g.add_argument("--pcaf-score", type=int, choices=(1, 2, 3, 4, 5), help="override the derived PCAF data-quality score (needs --pcaf-reason)")
    g.add_argument("--pcaf-reason", metavar="TEXT", help="why that PCAF score was chosen")
    g.add_argument("--connectedness", metavar="TEXT", help="override the derived connectedness statement")
    g.add_argument(
        "--provenance",
        metavar="FILE",
        help="the IB1 provenance record the data comes with, as IB1 publishes it (encoded; carried unchanged in the "
        "credential), or a JSON list of decoded IB1 steps (restated)",
    )
    g.add_argument(
        "--accept-ib1-discrepancy",
        action="store_true",
        help="build even when the IB1 record contradicts the credential (missing data, period, meter): each difference "
        "is stated in the credential (provenance.ib1RecordDiscrepancy) instead of refused",
    )
    g.add_argument("--derived-from", action="append", default=[], metavar="ID", help="id of a credential the data derives from (repeatable)")


# -- parsing option values --------------------------------------------------------------------------------------


def _instant(text: str | None, option: str, zone: ZoneInfo | None = None) -> datetime | None:
    """A datetime with an offset, or a date (local midnight in `zone`)."""
    if text is None:
        return None
    try:
        if len(text) == 10 and zone is not None:
            day = date.fromisoformat(text)
            return datetime.combine(day, time(0), tzinfo=zone)
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date (YYYY-MM-DD) or a date-time with an offset (2024-01-05T09:00:00Z)") from None
    if value.utcoffset() is None:
        raise UsageError(f"{option} {text!r} has no timezone; add Z or an offset such as +01:00")
    return value


def _decimal(text: str | None, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise UsageError(f"{option} {text!r} is not a number") from None
    if not value.is_finite():
        raise UsageError(f"{option} {text!r} is not a finite number")
    return value


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--timezone {name!r} is not an IANA timezone such as Europe/London") from None


def _metadata(args: argparse.Namespace, *, default_source: str, default_method: str | None = None) -> Any:
    from perseus.issuer.credentials.claims import Metadata

    return Metadata(
        data_source=args.source or default_source,
        collection_method=args.collection_method or default_method,
        standard=args.standard,
        license=args.license,
        generated_at=_instant(args.generated_at, "--generated-at"),
    )


def _assurance_and_provenance(args: argparse.Namespace) -> tuple[Any, Any]:
    from perseus.issuer.credentials.claims import Assurance, Provenance, steps_from_ib1

    if (args.pcaf_score is None) != (args.pcaf_reason is None):
        raise UsageError("--pcaf-score and --pcaf-reason go together: give both, or neither to derive them from the data")
    assurance = Assurance(
        dataset_assurance_level=args.assurance_level,
        origin_method=args.origin_method,
        missing_data=args.missing_data,
        pcaf_score=args.pcaf_score,
        pcaf_reason=args.pcaf_reason,
        connectedness=args.connectedness,
    )
    steps: tuple[Any, ...] = ()
    record = None
    if args.provenance:
        from perseus.issuer.credentials.ib1_record import is_encoded_record

        document = read_json(args.provenance, "provenance")
        if is_encoded_record(document):
            record = document  # carried byte for byte; its steps are read when the credential is built
        else:
            if isinstance(document, dict) and isinstance(document.get("steps"), list):
                document = document["steps"]
            steps = steps_from_ib1(document, where=f"{args.provenance}: steps")
    accept = bool(getattr(args, "accept_ib1_discrepancy", False))
    return assurance, Provenance(derived_from=tuple(args.derived_from), steps=steps, ib1_record=record, accept_discrepancies=accept)


def _claims(args: argparse.Namespace, *, default_source: str, default_method: str | None = None) -> tuple[Any, Any, Any]:
    return (_metadata(args, default_source=default_source, default_method=default_method), *_assurance_and_provenance(args))


def _issuer(args: argparse.Namespace) -> Any:
    return {"id": args.issuer, "name": args.issuer_name} if args.issuer_name else args.issuer


def _common_build_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "issuer": _issuer(args),
        "credential_id": args.credential_id,
        "valid_from": _instant(args.valid_from, "--valid-from"),
        "valid_until": _instant(args.valid_until, "--valid-until"),
        "name": args.name,
    }


def _in_file(path: str, exc: PerseusError) -> PerseusError:
    """The same error, its message prefixed with the input file so that the one-line report says where."""
    exc.message = f"{path}: {exc.message}"
    exc.args = (exc.message,)
    return exc


def _read_bytes(path: str, what: str) -> bytes:
    """A file's bytes as they are on disk (hashed as they are, so a recipient's copy gives the same digest)."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc.strerror}") from None


def _read_text(path: str) -> str:
    # utf-8-sig: spreadsheet exports often start CSV files with a byte-order mark.
    return read_text(path, "input", encoding="utf-8-sig")


# -- consumption ---------------------------------------------------------------------------------------------------


def detect_consumption_format(path: str, text: str) -> str:
    """ib1 / register-reads for JSON (by its shape), csv-long / csv-wide for CSV (by its header)."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        document, problem = json_text_problem(text)
        if problem is not None:
            raise UsageError(f"{path}: {problem}")
        if isinstance(document, dict) and document.get("format") == "perseus-register-reads":
            return "register-reads"
        from perseus.issuer.adapters.glowmarkt import is_glowmarkt
        from perseus.issuer.adapters.n3rgy import is_n3rgy
        from perseus.issuer.adapters.octopus import is_octopus_api
        from perseus.issuer.adapters.ovo import is_ovo

        if is_octopus_api(document):
            return "octopus-api"
        if is_glowmarkt(document):  # before IB1: both have a "data" list (pairs here, objects there)
            return "glowmarkt"
        if is_n3rgy(document):
            return "n3rgy"
        if is_ovo(document):
            return "ovo"
        if isinstance(document, dict) and isinstance(document.get("data"), list):
            return "ib1"
        raise UsageError(
            f"{path}: cannot tell the input format: JSON input must be an IB1 consumption response ({{\"data\": [...]}}), "
            'register reads ({"format": "perseus-register-reads"}), an Octopus, Glowmarkt, n3rgy or OVO download; or give --format'
        )
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as exc:
        raise UsageError(f"{path}: not a CSV file this command reads ({exc}); or give --format") from None
    names = {h.strip().lower() for h in header}
    from perseus.issuer.adapters.octopus import is_octopus_csv

    if is_octopus_csv(header):
        return "octopus-csv"
    if {"start", "end", "value"} <= names:
        return "csv-long"
    if len(header) >= 47:
        return "csv-wide"
    raise UsageError(
        f"{path}: cannot tell the input format: a CSV needs a header start,end,value (long form) or a date column and "
        "46-50 half-hour columns (wide form); or give --format"
    )


def _read_vendor(args: argparse.Namespace, fmt: str, text: str) -> Any:
    """A vendor download's readings; --unit only where the file does not state its unit, and always for gas."""
    from perseus.issuer.adapters.glowmarkt import read_glowmarkt
    from perseus.issuer.adapters.n3rgy import read_n3rgy
    from perseus.issuer.adapters.octopus import read_octopus_api, read_octopus_csv
    from perseus.issuer.adapters.ovo import read_ovo
    from perseus.issuer.energy.model import EnergyUnit

    unit = EnergyUnit.parse(args.unit) if args.unit else None
    if fmt == "octopus-api":
        if unit is None and args.mprn:
            raise UsageError(
                f"{args.input}: the Octopus API does not state the unit of gas readings (kWh from SMETS1 meters, m³ from "
                "SMETS2): give --unit KWH or --unit MTQ"
            )
        found = read_octopus_api(text, unit=unit or EnergyUnit.KWH)
    elif fmt == "octopus-csv":
        found = read_octopus_csv(text)
    elif fmt == "glowmarkt":
        found = read_glowmarkt(text, unit=unit)
    elif fmt == "n3rgy":
        found = read_n3rgy(text, unit=unit)
    else:
        found = read_ovo(text, fuel="gas" if args.mprn else "electricity" if args.mpan else None, tz=args.timezone)
    if found.unit_stated and unit is not None:
        raise UsageError(f"{args.input} states the unit of its readings: leave out --unit {args.unit}")
    if not found.unit_stated and fmt != "octopus-api" and args.mprn and unit is None:
        raise UsageError(f"{args.input} does not say the unit of its gas readings: give --unit (MTQ for m³, KWH for kWh)")
    return found


def _csv_has_unit_column(text: str) -> bool:
    """Whether a long-form CSV states each reading's unit (then --unit would contradict or repeat it)."""
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return False
    return "unit" in {h.strip().lower() for h in header}


def _cmd_consumption(args: argparse.Namespace) -> int:
    from perseus.issuer.energy.errors import InputDataError

    from perseus.issuer.progress import stages

    with stages(3) as progress:
        try:
            credential = _build_consumption(args, progress)
        except InputDataError as exc:
            raise _in_file(args.input, exc) from None
    write_output(dump_json(credential), args.output)
    return EXIT_OK


def _build_consumption(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    from perseus.issuer.adapters import load_register_reads, parse_ib1_consumption, read_long, read_wide
    from perseus.issuer.credentials import build_consumption_credential
    from perseus.issuer.energy.consumption import build_consumption
    from perseus.issuer.energy.gas import imperial_factor
    from perseus.issuer.energy.factors import CalorificValue
    from perseus.issuer.energy.model import EnergyUnit
    from perseus.issuer.energy.mpan import supply_point

    if progress is not None:
        progress.step(f"reading {args.input}")
    text = _read_text(args.input)
    fmt = args.format or detect_consumption_format(args.input, text)
    zone = _zone(args.timezone)
    start = _instant(args.period_from, "--from", zone)
    end = _instant(args.period_to, "--to", zone)
    if start is not None and end is not None and end <= start:
        raise UsageError(f"--to {args.period_to} is not after --from {args.period_from}")
    intervals: tuple[Any, ...] = ()
    series = None
    cv = None
    correction = _decimal(args.correction_factor, "--correction-factor")
    correction_source = args.correction_factor_source
    account = args.account
    postcode = args.postcode
    point = None
    method_note = ""
    default_source = "SmartMeterViaDCC"
    check_mprn = not args.no_mprn_check
    if fmt == "register-reads":
        if args.unit is not None:
            raise UsageError(f"{args.input} states the unit of its register (register reads do): leave out --unit {args.unit}")
        reads = load_register_reads(text, check_mprn_digits=check_mprn)
        if args.mprn and reads.supply_point.fuel == "electricity":
            raise UsageError(f"{args.input} holds electricity register reads: --mprn names a gas meter")
        point = reads.supply_point
        if postcode:
            point = replace(point, postcode_outcode=_outcode(postcode))
        account = account or reads.account
        series = reads.series
        if start is not None or end is not None:
            series = slice_register_series(series, start, end)
        cv = reads.calorific_value
        correction = correction if correction is not None else reads.correction_factor
        correction_source = correction_source or reads.correction_factor_source
        default_source = "SupplierBilling"
    else:
        if fmt == "ib1":
            response = parse_ib1_consumption(text, accept_nonconforming=args.accept_nonconforming)
            intervals = response.readings
            if response.nonconforming:
                method_note = (
                    f"; accepted although it does not conform to the IB1 2026-03-12 consumption schema "
                    f"({len(response.nonconforming)} deviation{'s' if len(response.nonconforming) != 1 else ''}, first: {response.nonconforming[0]})"
                )
            if response.extensions:
                method_note += "; read as this project's extension, outside the IB1 schema: " + ", ".join(response.extensions)
            fuel = response.fuel
            postcode = postcode or response.postcode_outcode
            if args.unit is not None:
                raise UsageError(f"{args.input} states the unit of each reading (an IB1 response does): leave out --unit {args.unit}")
            if fuel == "electricity" and args.mprn:
                raise UsageError(f"{args.input} holds electricity readings: --mprn names a gas meter; give the meter's --mpan")
        elif fmt in VENDOR_FORMATS:
            vendor = _read_vendor(args, fmt, text)
            intervals = vendor.readings
            volumes = any(r.unit.is_volume for r in intervals)
            fuel = "gas" if (args.mprn or volumes or vendor.fuel == "gas") else "electricity"
            if vendor.fuel == "electricity" and args.mprn:
                raise UsageError(f"{args.input} holds electricity readings: --mprn names a gas meter; give the meter's --mpan")
            if fuel == "gas" and args.mpan:
                raise UsageError(f"{args.input} holds gas readings: --mpan names an electricity meter; give the gas meter's --mprn")
        else:
            carries_units = fmt == "csv-long" and _csv_has_unit_column(text)
            if carries_units and args.unit is not None:
                raise UsageError(f"{args.input} states the unit of each reading (its unit column): leave out --unit {args.unit}")
            if args.unit is None and args.mprn and not carries_units:
                raise UsageError(
                    f"{args.input} does not say the unit of its gas readings: give --unit (MTQ for m³, HH or FC for an "
                    "imperial meter, KWH if the file is already in kWh); gas is never assumed to be kWh"
                )
            unit = EnergyUnit.parse(args.unit or "KWH")
            if fmt == "csv-long":
                intervals = read_long(text, unit=unit, naive_tz=_zone(args.naive_tz).key if args.naive_tz else None)
            else:
                intervals = read_wide(text, unit=unit, tz=args.timezone)
            volumes = any(r.unit.is_volume for r in intervals)
            if volumes and args.mpan:
                raise UsageError(f"{args.input} holds gas volumes: --mpan names an electricity meter; give the gas meter's --mprn")
            fuel = "gas" if (args.mprn or volumes) else "electricity"
        intervals = tuple(r for r in intervals if (start is None or r.start >= start) and (end is None or r.end <= end))
        if not intervals:
            raise UsageError(f"{args.input}: no readings fall within --from/--to")
        identifier = args.mprn if fuel == "gas" else args.mpan
        if not identifier:
            raise UsageError(f"{args.input} does not name its meter: give --{'mprn' if fuel == 'gas' else 'mpan'}")
        point = supply_point(identifier, fuel, args.measure, postcode, check_mprn_digits=check_mprn)  # type: ignore[arg-type]
    if point is None:  # pragma: no cover - every branch sets it
        raise UsageError("no supply point")
    if args.mpan and point.scheme == "MPAN" and args.mpan.replace(" ", "")[-13:] != point.identifier:
        raise UsageError(f"--mpan {args.mpan} does not match the meter in {args.input} ({point.identifier})")
    if not account:
        raise UsageError(f"{args.input} does not say whose data it is: give --account (the SME's DID or an account reference)")
    if args.cv is not None:
        if not (args.cv_source and args.cv_from and args.cv_to):
            raise UsageError("--cv needs --cv-source, --cv-from and --cv-to (the period the average calorific value covers)")
        cv = CalorificValue(
            value_mj_per_m3=_decimal(args.cv, "--cv"),  # type: ignore[arg-type]
            period_start=_date(args.cv_from, "--cv-from"),
            period_end=_date(args.cv_to, "--cv-to"),
            source=args.cv_source,
        )
    reconciliation = None
    if args.register_digits is not None:
        if fmt != "ib1":
            raise UsageError("--register-digits applies to ib1 input, whose readings carry the meter's cumulative register")
        series, reconciliation = _cumulative_register(response.cumulative, intervals, args.register_digits)
    if progress is not None:
        progress.step("totals, completeness and checks")
    data = build_consumption(
        point,
        account,
        intervals=intervals,
        register_series=series,
        period_start=start if intervals else None,
        period_end=end if intervals else None,
        timezone=args.timezone,
        cv=cv,
        correction_factor=correction,
        correction_factor_source=correction_source,
        hcf=imperial_factor(args.imperial_factor),
    )
    if progress is not None:
        progress.step("building and checking the credential")
    metadata, assurance, provenance = _claims(args, default_source=default_source, default_method=COLLECTION_METHODS[fmt] + method_note)
    if fmt == "ib1":
        provenance = _response_record(args, response.provenance, provenance)
    return build_consumption_credential(
        data,
        metadata=metadata,
        assurance=assurance,
        provenance=provenance,
        reconciliation=reconciliation,
        daily_totals=not args.no_daily_totals,
        **_common_build_kwargs(args),
    )


def _response_record(args: argparse.Namespace, found: Any, provenance: Any) -> Any:
    """Keep the IB1 provenance record that came with a consumption API response (an encoded record only)."""
    from perseus.issuer.credentials.ib1_record import is_encoded_record

    if not is_encoded_record(found):
        return provenance  # none, or a placeholder that is not a record: nothing to carry
    if provenance.ib1_record is not None and provenance.ib1_record != found:
        raise UsageError(f"{args.input} comes with its own IB1 provenance record, and --provenance gives another; give one")
    return replace(provenance, ib1_record=found)


def _cumulative_register(cumulative: Any, intervals: tuple[Any, ...], digits: int) -> tuple[Any, Any]:
    """The IB1 cumulative reads as a register series (first read = baseline, last read = closing read) and the
    reconciliation of the intervals between them against the register delta.

    Why only two reads: the register is read at the end of every half-hour, so the intervals already say what
    happened in between; the first and last reads state the baseline and let a recipient check the sum.
    """
    from perseus.issuer.energy.errors import InputDataError
    from perseus.issuer.energy.model import RegisterBaseline, RegisterSeries
    from perseus.issuer.energy.reconcile import reconcile_series

    start, end = intervals[0].start, intervals[-1].end
    reads = [(read, unit) for read, unit in cumulative if start <= read.at <= end]
    if len(reads) < 2:
        raise InputDataError("--register-digits needs at least two cumulative reads within the period", location="data[].cumulative")
    units = {unit for _, unit in reads}
    if len(units) > 1:
        raise InputDataError(f"the cumulative reads use several units ({', '.join(sorted(u.value for u in units))})", location="data[].cumulative")
    (first, unit), (last, _) = reads[0], reads[-1]
    try:
        series = RegisterSeries(RegisterBaseline(first, digits, unit), (last,))
    except InputDataError as exc:
        raise exc.at("--register-digits") from None
    return series, reconcile_series(intervals, series)


def _outcode(text: str) -> str:
    from perseus.issuer.energy.mpan import normalise_outcode

    value = normalise_outcode(text)
    assert value is not None
    return value


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date YYYY-MM-DD") from None


def slice_register_series(series: Any, start: datetime | None, end: datetime | None) -> Any:
    """The part of a register series between two read times: the read at `start` becomes the new baseline.

    Why reads must exist at both ends: consumption is a difference of reads, and a read invented at the period
    boundary would be an estimate the credential does not admit to. Corrections of reads before `start` and
    meter exchanges outside the period are left out; a read at `start` that a later read corrects is refused.
    """
    from perseus.issuer.energy.errors import InputDataError
    from perseus.issuer.energy.model import RegisterBaseline, RegisterSeries

    superseded = {r.replaces for r in series.reads if r.replaces is not None}
    baseline = series.baseline
    digits, unit = baseline.digits, baseline.unit
    if start is not None:
        candidates = [(series.baseline.read, series.baseline.digits, series.baseline.unit)]
        for exchange in series.exchanges:
            if exchange.at < start:
                digits, unit = exchange.new_baseline.digits, exchange.new_baseline.unit
        candidates += [(r, digits, unit) for r in series.reads if r.replaces is None or r.replaces < start]
        found = [c for c in candidates if c[0].at == start and c[0].at not in superseded]
        if not found:
            raise InputDataError(
                f"there is no read at {start.isoformat()} to be the baseline of the period; --from must be the time of an actual read",
                location="--from",
            )
        read, digits, unit = found[-1]
        baseline = RegisterBaseline(read, digits, unit)
    after = baseline.read.at
    reads = tuple(
        r
        for r in series.reads
        if r.at > after and (end is None or r.at <= end) and (r.replaces is None or r.replaces > after)
    )
    exchanges = tuple(e for e in series.exchanges if e.at > after and (end is None or e.at < end))
    if end is not None and not any(r.at == end for r in reads):
        raise InputDataError(f"there is no read at {end.isoformat()} to close the period; --to must be the time of a read", location="--to")
    return RegisterSeries(baseline, reads, exchanges)


# -- tariff ----------------------------------------------------------------------------------------------------------


def _octopus_tariff(args: argparse.Namespace, unit_rates: Any) -> dict[str, Any]:
    """INPUT is an Octopus unit-rates response (day rates with --night-rates): join it with the other endpoints."""
    from perseus.issuer.adapters.octopus_tariff import octopus_tariff_bundle
    from perseus.issuer.energy.errors import InputDataError

    if not args.tariff_code or not args.standing_charges:
        raise UsageError(f"{args.input} is an Octopus unit-rates response: give --tariff-code (e.g. E-1R-AGILE-24-10-01-C) and --standing-charges FILE")
    standing = parse_json_text(_read_text(args.standing_charges), "standing charges", args.standing_charges, parse_float=Decimal)
    band = None
    if args.night_rates:
        if not args.night_band:
            raise UsageError("the Octopus API does not say when night is: give --night-band HH:MM-HH:MM[/GMT] with --night-rates")
        times, _, basis = args.night_band.partition("/")
        start, _, end = times.partition("-")
        if not start or not end or basis not in ("", "GMT", "local"):
            raise UsageError(f"--night-band {args.night_band!r}: expected HH:MM-HH:MM, optionally /GMT")
        band = {"start_time": start, "end_time": end, "time_basis": basis or "local"}
    night = parse_json_text(_read_text(args.night_rates), "night rates", args.night_rates, parse_float=Decimal) if args.night_rates else None
    try:
        return octopus_tariff_bundle(
            args.tariff_code,
            standing_charges=standing,
            unit_rates=None if night is not None else unit_rates,
            day_rates=unit_rates if night is not None else None,
            night_rates=night,
            night_band=band,
        )
    except InputDataError as exc:
        raise _in_file(args.input, exc) from None


def _cmd_tariff(args: argparse.Namespace) -> int:
    from perseus.issuer.adapters import load_tariff
    from perseus.issuer.credentials import build_tariff_credential
    from perseus.issuer.energy.errors import InputDataError

    text = _read_text(args.input)
    document = parse_json_text(text, "tariff", args.input, parse_float=Decimal)
    from perseus.issuer.adapters.octopus_tariff import is_rates_response

    if is_rates_response(document):
        document = _octopus_tariff(args, document)
    elif args.tariff_code or args.standing_charges or args.night_rates:
        raise UsageError(f"{args.input}: --tariff-code, --standing-charges and --night-rates go with an Octopus unit-rates response as INPUT")
    if not isinstance(document, dict):  # load_tariff would read a bare string as a file name
        raise UsageError(f"tariff {args.input!r} must hold a JSON object, not {type(document).__name__}")
    if args.format == "perseus-tariff" and not (isinstance(document, dict) and document.get("format") == "perseus-tariff"):
        raise UsageError(f'{args.input}: --format perseus-tariff needs "format": "perseus-tariff" in the file')
    try:
        tariff = load_tariff(document, payment_method=args.payment_method, accept_partial=args.accept_partial, customer_class=args.customer_class)
        if tariff.direction == "import" and tariff.customer_class is None:
            raise UsageError(
                f"{args.input}: the tariff does not say whether it is for business or domestic supplies (VAT and the Climate "
                "Change Levy depend on it): give --customer-class business|domestic, or customer_class in the file"
            )
        metadata, assurance, provenance = _claims(args, default_source="SupplierTariffData", default_method="the supplier's published tariff data")
        credential = build_tariff_credential(tariff, metadata=metadata, assurance=assurance, provenance=provenance, **_common_build_kwargs(args))
    except InputDataError as exc:
        raise _in_file(args.input, exc) from None
    write_output(dump_json(credential), args.output)
    return EXIT_OK


# -- emissions --------------------------------------------------------------------------------------------------------


def _cmd_emissions(args: argparse.Namespace) -> int:
    from perseus.issuer.credentials import build_emissions_credential
    from perseus.issuer.energy.errors import InputDataError

    paths = list(args.inputs) + list(args.consumption)
    if not paths:
        raise UsageError("give the signed consumption credentials the report is computed from (--consumption FILE, repeatable)")
    credentials = [read_json(p, "consumption credential") for p in paths]
    tariff = read_json(args.tariff, "tariff credential") if args.tariff else None
    try:
        if args.source is None and any(v is not None for v in (args.collection_method, args.standard, args.license, args.generated_at)):
            raise UsageError("--collection-method, --standard, --license and --generated-at need --source for an emissions report")
        metadata = _metadata(args, default_source=args.source) if args.source else None
        assurance, provenance = _assurance_and_provenance(args)
        intensity = None
        if args.intensity:
            from perseus.issuer.adapters.neso_intensity import parse_neso_regional

            raw = _read_bytes(args.intensity, "intensity file")
            try:
                intensity = parse_neso_regional(raw, source_url=args.intensity_source)
            except InputDataError as exc:
                raise _in_file(args.intensity, exc) from None
        elif args.intensity_source:
            raise UsageError("--intensity-source names where the --intensity file came from: give --intensity too")
        credential = build_emissions_credential(
            credentials,
            method=args.method,
            intensity=intensity,
            missing_intensity="state" if args.missing_intensity == "leave-out-and-state" else "refuse",
            tariff=tariff,
            metadata=metadata,
            assurance=assurance,
            provenance=provenance,
            year=args.year,
            **_common_build_kwargs(args),
        )
    except InputDataError as exc:
        names = {f"consumption[{i}]": p for i, p in enumerate(paths)} | {"tariff": args.tariff or "tariff"}
        location = exc.location or ""
        key = location.split(".")[0].split(",")[0]
        if key in names:
            exc.message = exc.message.replace(key, f"{names[key]} ({key})", 1)
            exc.args = (exc.message,)
        raise
    write_output(dump_json(credential), args.output)
    return EXIT_OK


# -- cost ------------------------------------------------------------------------------------------------------------


def _add_tariff_choices(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("tariff choices")
    g.add_argument("--customer-class", choices=("business", "domestic"), help="business (CCL, 20%% VAT above de minimis) or domestic supply (default: from the file)")
    g.add_argument("--payment-method", metavar="METHOD", help="supplier response with rates for several payment methods: the one that applies (e.g. DIRECT_DEBIT)")
    g.add_argument("--accept-partial", action="store_true", help="accept a paginated supplier response whose 'next' is set; the tariff then states it is partial")


def _consumption_readings(credential: Any, path: str) -> tuple[Any, Any, Any, Any]:
    """(supply point fuel, measure, readings, (period start, end)) from a consumption credential."""
    from perseus.issuer.energy.model import EnergyUnit, IntervalReading
    from perseus.verifier.dates import parse_datetime
    from perseus.verifier.shapes import validate_shape

    if not isinstance(credential, dict) or "EnergyConsumptionCredential" not in (credential.get("type") or []):
        raise UsageError(f"{path}: not an EnergyConsumptionCredential (perseus cost prices a consumption credential's readings)")
    problems = validate_shape(credential)
    if problems:
        raise UsageError(f"{path}: not a well-formed consumption credential: {problems[0].detail}")
    subject = credential["credentialSubject"]
    readings = [
        IntervalReading(
            parse_datetime(r["start"], field="start"), parse_datetime(r["end"], field="end"), Decimal(r["value"]), EnergyUnit(r["unit"]), r["quality"]
        )
        for r in subject.get("intervalReadings", [])
    ]
    if not readings:
        raise UsageError(f"{path}: the credential has no interval readings to price (register-only credentials cannot be split into bands)")
    period = (parse_datetime(subject["periodStart"], field="periodStart"), parse_datetime(subject["periodEnd"], field="periodEnd"))
    point = subject["supplyPoint"]
    return point["fuel"], point["measure"], readings, period


def _cmd_cost(args: argparse.Namespace) -> int:
    from perseus.issuer.adapters import load_tariff
    from perseus.issuer.credentials.tariff import tariff_from_credential
    from perseus.issuer.energy.bill import bill_json, bill_text
    from perseus.issuer.energy.errors import InputDataError, TariffError
    from perseus.issuer.energy.tariffs import cost

    consumption = read_json(args.consumption, "consumption credential")
    document = read_json(args.tariff, "tariff")
    fuel, measure, readings, (start, end) = _consumption_readings(consumption, args.consumption)
    try:
        if isinstance(document, dict) and "TariffCredential" in (document.get("type") or []):
            tariff = tariff_from_credential(document)
            if args.customer_class:
                tariff = replace(tariff, customer_class=args.customer_class)
        else:
            tariff = load_tariff(document, payment_method=args.payment_method, accept_partial=args.accept_partial, customer_class=args.customer_class)
    except InputDataError as exc:
        raise _in_file(args.tariff, exc) from None
    if (fuel, measure) != (tariff.fuel, tariff.direction):
        raise UsageError(f"the readings are {fuel} {measure}, but the tariff is for {tariff.fuel} {tariff.direction}")
    try:
        breakdown = cost(readings, tariff, period_start=start, period_end=end)
    except (InputDataError, TariffError) as exc:
        raise _in_file(args.consumption, exc) from None
    described = {"supplier": tariff.supplier, "code": tariff.code, "name": tariff.name}
    if args.json:
        write_output(dump_json(bill_json(breakdown, tariff=described)), args.output)
    else:
        title = f"{tariff.supplier}: {tariff.name} ({tariff.code})"
        if tariff.partial_response:
            title += f"\nWARNING: {tariff.partial_response}"
        write_output(bill_text(breakdown, title=title), args.output)
    return EXIT_OK


def _cmd_recompute(args: argparse.Namespace) -> int:
    from perseus.issuer.adapters.neso_intensity import parse_neso_regional
    from perseus.issuer.credentials.emissions import recompute_emissions
    from perseus.issuer.energy.errors import InputDataError

    report = read_json(args.report, "emissions report")
    if not isinstance(report, dict) or "EmissionsReportCredential" not in (report.get("type") or []):
        raise UsageError(f"{args.report}: not an EmissionsReportCredential")
    consumption = [read_json(p, "consumption credential") for p in args.consumption]
    tariff = read_json(args.tariff, "tariff credential") if args.tariff else None
    intensity = None
    if args.intensity:
        try:
            intensity = parse_neso_regional(_read_bytes(args.intensity, "intensity file"))
        except InputDataError as exc:
            raise _in_file(args.intensity, exc) from None
    problems = recompute_emissions(report, consumption, intensity=intensity, tariff=tariff)
    if problems:
        print("NOT RECOMPUTED")
        for p in problems:
            print(f"  {p}")
        return 1
    print(f"RECOMPUTED: every figure of {args.report} matches its inputs" + (f" and {args.intensity}" if args.intensity else ""))
    return EXIT_OK


# -- registration ------------------------------------------------------------------------------------------------------


def register(commands: Any) -> None:
    """Add `perseus build …` to the `perseus` command line."""
    build = commands.add_parser(
        "build",
        help="build an unsigned Perseus credential (consumption, tariff, emissions) from an input file",
        description="Build an unsigned Perseus credential from an input file, checked against its shape and strict "
        "JSON-LD. Sign it with `perseus sign`. Exit 0 on success, 2 on bad input (one line says what and where).",
    )
    kinds = build.add_subparsers(dest="build_kind", metavar="KIND")
    build.set_defaults(run=lambda args: (build.print_help(), 2)[1])

    c = kinds.add_parser(
        "consumption",
        help="an energy consumption credential (Energy Data Provider)",
        description="Build an EnergyConsumptionCredential: interval readings and/or register reads for one supply point, "
        "with totals per local day and month, completeness, the gas conversion to kWh, and metadata, assurance and "
        "provenance.",
        epilog=_EPILOG_CONSUMPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("input", metavar="INPUT", help="the input file (see input formats below)")
    c.add_argument("--format", choices=CONSUMPTION_FORMATS, help="the input format (default: detected)")
    m = c.add_argument_group("supply point and period")
    m.add_argument("--mpan", metavar="MPAN", help="electricity meter: 13-digit core or 21-character full MPAN (check digit verified)")
    m.add_argument("--mprn", metavar="MPRN", help="gas meter: MPRN (check digits verified unless --no-mprn-check)")
    m.add_argument(
        "--no-mprn-check",
        action="store_true",
        help="do not check the MPRN's check digits (the rule comes from an unconfirmed source): the credential states checkDigit NotChecked",
    )
    m.add_argument("--measure", choices=("import", "export"), default="import", help="import (consumption) or export (default: import)")
    m.add_argument("--postcode", metavar="OUTCODE", help="postcode outcode of the supply, e.g. SE1 (a full postcode is cut to its outcode)")
    m.add_argument("--account", metavar="DID_OR_REF", help="required: the SME the data belongs to, its DID or an opaque account "
                   "reference (register-reads input may name it instead)")
    m.add_argument(
        "--unit",
        choices=UNITS,
        help="unit of CSV values that carry none (default for electricity: KWH; required for gas; WHR = Wh, MTQ = m³, FTQ = ft³, "
        "HH = hundreds of ft³, FC = thousands of ft³); refused for input that states its units",
    )
    m.add_argument(
        "--naive-tz",
        metavar="ZONE",
        help="long-form CSV whose timestamps have no UTC offset: read them as local times in ZONE (e.g. Europe/London); "
        "the repeated hour of the autumn clock change is taken in file order",
    )
    m.add_argument("--timezone", default="Europe/London", help="timezone of local days and months (default: Europe/London)")
    m.add_argument("--from", dest="period_from", metavar="DATE", help="period start: a local date (midnight) or a date-time; readings before it are left out")
    m.add_argument("--to", dest="period_to", metavar="DATE", help="period end (exclusive): a local date or a date-time")
    m.add_argument("--no-daily-totals", action="store_true", help="state monthly totals only (smaller credential)")
    m.add_argument(
        "--accept-nonconforming",
        action="store_true",
        help="ib1 input: read a response that breaks the IB1 2026-03-12 schema (missing takenAt or cumulative, takenAt before "
        "to); the credential's collection method says so",
    )
    m.add_argument(
        "--register-digits",
        type=int,
        metavar="N",
        help="ib1 input: also state the meter's cumulative register (its first and last cumulative reads in the period; "
        "an N-digit register) and reconcile the interval total against the register delta",
    )
    gas = c.add_argument_group("gas conversion (volume -> kWh)")
    gas.add_argument("--cv", metavar="MJ_PER_M3", help="average calorific value for the period (default: from the input, or the indicative value in the data files)")
    gas.add_argument("--cv-source", metavar="TEXT", help="where the calorific value comes from (e.g. the gas bill)")
    gas.add_argument("--cv-from", metavar="DATE", help="first day the calorific value covers")
    gas.add_argument("--cv-to", metavar="DATE", help="day after the last day it covers")
    gas.add_argument("--correction-factor", metavar="FACTOR", help="volume correction factor (default: 1.02264, from the data files)")
    gas.add_argument("--correction-factor-source", metavar="TEXT", help="where a non-standard correction factor comes from")
    gas.add_argument(
        "--imperial-factor",
        choices=("bill", "exact"),
        default="bill",
        help="m3 per hundred cubic feet for imperial meters: bill = 2.83 as GB bills use (default), exact = 2.8316846592; the credential states it",
    )
    _add_claim_options(c, default_source=None)
    _add_issue_options(c)
    c.set_defaults(run=_cmd_consumption)
    # --account is required unless the input names the account (register reads do), which argparse cannot say:
    # show it without brackets in the usage line, as the newcomer reads it (the build still checks it).
    usage = c.format_usage()
    c.usage = usage.removeprefix("usage: ").rstrip("\n").replace("[--account DID_OR_REF]", "--account DID_OR_REF")

    t = kinds.add_parser(
        "tariff",
        help="a tariff credential (supplier)",
        description="Build a TariffCredential from a tariff JSON: a supplier product-API file (Octopus-style rates; "
        "dynamic half-hourly rates become one unit rate each) or our richer form (\"format\": \"perseus-tariff\": "
        "time-of-use bands, weekend and date-range restrictions, fuel mix, export meter).",
    )
    t.add_argument("input", metavar="INPUT", help="the tariff JSON file")
    t.add_argument("--format", choices=TARIFF_FORMATS, help="the input format (default: detected from the file)")
    o = t.add_argument_group("Octopus tariff endpoints as returned (INPUT is the unit-rates response: one page or a JSON array of pages)")
    o.add_argument("--tariff-code", metavar="CODE", help="the tariff code the responses are for, e.g. E-1R-AGILE-24-10-01-C")
    o.add_argument("--standing-charges", metavar="FILE", help="the standing-charges endpoint's response")
    o.add_argument("--night-rates", metavar="FILE", help="Economy 7: the night-unit-rates response (INPUT is then the day rates)")
    o.add_argument("--night-band", metavar="HH:MM-HH:MM[/GMT]", help="Economy 7: when night is, e.g. 00:30-07:30/GMT (the API does not say)")
    _add_tariff_choices(t)
    _add_claim_options(t, default_source="SupplierTariffData")
    _add_issue_options(t)
    t.set_defaults(run=_cmd_tariff)

    e = kinds.add_parser(
        "emissions",
        help="an emissions report credential (Carbon Accounting Provider)",
        description="Build an EmissionsReportCredential from signed consumption credentials (each verified first) for "
        "the same SME and the same whole calendar months. --method perseus (default) is the IB1 Perseus method: "
        "electricity = sum over half-hours of kWh x the NESO regional intensity for the meter's outcode (--intensity, "
        "a recorded API response; its source, region, period and SHA-256 are stated), gas = m3 x the DESNZ per-m3 "
        "factor. --method desnz-annual uses DESNZ annual kWh factors and does not claim the Perseus standard. Scope 1 "
        "(gas) and Scope 2 (electricity) are stated separately; --tariff adds market-based Scope 2 from the tariff's "
        "fuel mix (its disclosure must cover the period). Each input is linked by id and digest (relatedResource).",
    )
    e.add_argument("inputs", nargs="*", metavar="INPUT", help="signed consumption credentials (same as --consumption)")
    e.add_argument("--consumption", action="append", default=[], metavar="FILE", help="a signed consumption credential (repeatable)")
    e.add_argument("--tariff", metavar="FILE", help="a signed tariff credential whose fuel mix gives market-based emissions")
    e.add_argument("--year", type=int, metavar="YEAR", help="DESNZ factor year (default: the reporting year of the period)")
    e.add_argument("--method", choices=("perseus", "desnz-annual"), default="perseus", help="emissions method (default: perseus)")
    e.add_argument("--intensity", metavar="FILE", help="perseus method: the recorded NESO regional-by-postcode intensity response(s) for the meter's outcode")
    e.add_argument("--intensity-source", metavar="URL", help="the URL the intensity file was fetched from (default: the documented endpoint for its outcode and period)")
    e.add_argument(
        "--missing-intensity",
        choices=("refuse", "leave-out-and-state"),
        default="refuse",
        help="a half-hour of consumption without an intensity: refuse (default), or leave it out and state how many",
    )
    _add_claim_options(e, default_source=None)
    _add_issue_options(e)
    e.set_defaults(run=_cmd_emissions)

    k = commands.add_parser(
        "cost",
        help="the bill for a consumption credential under a tariff, month by month",
        description="Price a consumption credential's half-hourly readings under a tariff (a tariff credential, or a "
        "tariff JSON in a supplier-API or Perseus form) and print the bill month by month: standing charges, each band's "
        "kWh and cost, the Climate Change Levy and VAT (business supplies: CCL, and 20%% VAT on top of it, unless a "
        "month is within HMRC's de minimis; domestic: 5%% VAT). --json gives exact pence for re-adding. Exit 0, or 2 "
        "with one line saying what and where.",
    )
    k.add_argument("consumption", metavar="CONSUMPTION", help="a consumption credential (signed or not) with interval readings")
    k.add_argument("tariff", metavar="TARIFF", help="a tariff credential, or a tariff JSON file")
    k.add_argument("--json", action="store_true", help="print the bill as JSON (exact pence as decimal strings)")
    k.add_argument("-o", "--output", metavar="FILE", help="write the bill here (default: standard output)")
    _add_tariff_choices(k)
    k.set_defaults(run=_cmd_cost)

    r = commands.add_parser(
        "recompute-emissions",
        help="recompute an emissions report's figures from its inputs and the same intensity file",
        description="Recompute every figure of an EmissionsReportCredential from the consumption credentials it links to "
        "(each verified), the tariff credential for market-based figures, and, for the Perseus method, the recorded intensity "
        "file, whose SHA-256 must be the one the report names. Exit 0 when every figure matches, 1 when one does not, 2 on "
        "unreadable input.",
    )
    r.add_argument("report", metavar="REPORT", help="the emissions report credential")
    r.add_argument("--consumption", action="append", default=[], required=True, metavar="FILE", help="a consumption credential it links to (repeatable)")
    r.add_argument("--tariff", metavar="FILE", help="the tariff credential whose fuel mix gave market-based figures")
    r.add_argument("--intensity", metavar="FILE", help="the recorded NESO intensity file the report names")
    r.set_defaults(run=_cmd_recompute)


def main(argv: list[str] | None = None) -> int:
    """`perseus` with `build` registered even where the entry point is not installed (``python -m perseus.issuer.build_cli``)."""
    from perseus.verifier import cli

    plugins = cli._plugins

    def with_build() -> list[Any]:
        found = plugins()
        return found if any(getattr(p, "__module__", "") == __name__ or p is register for p in found) else [*found, register]

    cli._plugins = with_build  # type: ignore[assignment]
    try:
        return cli.main(argv)
    finally:
        cli._plugins = plugins  # type: ignore[assignment]


if __name__ == "__main__":
    import sys

    sys.exit(main())
