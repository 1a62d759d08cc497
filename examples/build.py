"""Regenerate every worked example: build each credential from its input file with the CLI, sign it, verify it.

    python examples/build.py                 # writes examples/credentials/*.json
    python examples/build.py --out /tmp/ex   # somewhere else
    python examples/build.py --print         # only print the commands

The commands below are exactly what a person would type (`perseus build …`, `perseus sign …`); they run
in-process through the `perseus` command line, with `perseus build` registered even before its entry point
is installed. Ids, times and keys are fixed and the signatures deterministic (Ed25519; ECDSA with RFC 6979
nonces), so running this again reproduces the committed files byte for byte —
``tests/credentials/test_examples.py`` checks that.

The keys in ``examples/keys/`` are EXAMPLE KEYS, published with their secrets: never use them for anything
but these examples.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "inputs"
KEYS = HERE / "keys"
DEFAULT_OUT = HERE / "credentials"
SME = "did:example:sme-brightwater-studio"


def _controller(key: str) -> str:
    return str(json.loads((KEYS / key).read_text(encoding="utf-8"))["controller"])


def example_id(name: str) -> str:
    """A fixed urn:uuid per example (UUID v5 of its name), so that rebuilt files are identical."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'https://w3id.org/perseus/examples/' + name)}"


@dataclass(frozen=True)
class Example:
    name: str  # file stem in the output folder
    key: str  # key file in examples/keys
    issued: str  # validFrom and the proof's created time
    build: str  # the `perseus build ...` arguments, with {in}, {issuer}, {out} and {<example>} placeholders
    summary: str


EXAMPLES: tuple[Example, ...] = (
    Example(
        "electricity-halfhourly-2023-10",
        "edp-example-key.json",
        "2023-11-02T09:00:00Z",
        "build consumption {in}/ib1_consumption_electricity_2023-10.json --mpan 1200123456787 --account " + SME +
        " --register-digits 9 --provenance {in}/extra/ib1_provenance_steps_2023-10.json --assurance-level 3 --issuer {issuer}",
        "Half-hourly electricity for October 2023 from an IB1 Perseus consumption API response (values in Wh), "
        "with the 25-hour day of 29 October, daily and monthly totals, the meter's cumulative register (baseline and "
        "closing read) reconciled against the intervals, and the EDP's IB1 provenance steps.",
    ),
    Example(
        "electricity-halfhourly-2023-03-wide",
        "edp-example-key.json",
        "2023-04-03T09:00:00Z",
        "build consumption {in}/electricity_import_2023_wide.csv --from 2023-03-01 --to 2023-04-01 --mpan 1200123456787 "
        "--postcode SE1 --account " + SME + " --issuer {issuer}",
        "Half-hourly electricity for March 2023 from the wide CSV layout (one row per day), including the 23-hour day "
        "of 26 March (46 half-hours).",
    ),
    Example(
        "electricity-export-2023-06",
        "edp-example-key.json",
        "2023-07-03T09:00:00Z",
        "build consumption {in}/electricity_export_2023-06_long.csv --mpan 1200123456796 --measure export --postcode SE1 "
        "--account " + SME + " --issuer {issuer}",
        "Half-hourly export from rooftop solar for June 2023 (long CSV), on the export MPAN.",
    ),
    Example(
        "gas-register-m3-2023",
        "edp-example-key.json",
        "2024-01-05T09:00:00Z",
        "build consumption {in}/gas_register_reads_m3.json --account " + SME + " --issuer {issuer}",
        "Gas register reads in cubic metres for 2023: the statement of baseline, a 5-digit register rolling over "
        "(99,897 -> 149), an estimated read later corrected, and the conversion to kWh with the billed CV.",
    ),
    Example(
        "gas-register-hcf-2023",
        "edp-example-key.json",
        "2024-01-05T09:00:00Z",
        "build consumption {in}/gas_register_reads_hcf.json --issuer {issuer}",
        "Gas register reads in hundreds of cubic feet (an imperial meter) for 2023: a 4-digit register rolling over, "
        "customer reads, and a meter exchange in August that starts a new baseline; kWh via 2.83 m3 per hcf, as bills convert (the factor is stated).",
    ),
    Example(
        "gas-register-m3-2023-10",
        "edp-example-key.json",
        "2023-11-02T09:00:00Z",
        "build consumption {in}/gas_register_reads_m3.json --from 2023-10-01 --to 2023-11-01 --account " + SME + " --issuer {issuer}",
        "October 2023 of the same gas meter: the read at 1 October (local midnight) is the baseline.",
    ),
    Example(
        "tariff-weekend-offpeak-fuelmix",
        "supplier-example-key.json",
        "2023-01-01T00:00:00Z",
        "build tariff {in}/tariff_weekend_offpeak_fuelmix.json --issuer {issuer} --issuer-name \"Example Business Energy Ltd\"",
        "A business time-of-use tariff: weekday day and off-peak bands, a weekend rate, a winter peak limited to date "
        "ranges, two standing charges over the year, VAT at 20%, and the supplier's fuel mix (REGO-backed renewables).",
    ),
    Example(
        "tariff-economy7",
        "supplier-example-key.json",
        "2023-01-01T00:00:00Z",
        "build tariff {in}/tariff_economy7_octopus.json --issuer {issuer}",
        "A two-rate (Economy 7) tariff from a supplier product-API file: day and night rates, night 00:30-07:30.",
    ),
    Example(
        "tariff-agile-2023-10",
        "supplier-example-key.json",
        "2023-09-30T16:00:00Z",
        "build tariff {in}/tariff_agile_octopus_2023-10.json --issuer {issuer}",
        "A dynamic tariff (Agile-style) for October 2023: one unit rate per half-hour, some of them negative.",
    ),
    Example(
        "tariff-export-seg",
        "supplier-example-key.json",
        "2023-01-01T00:00:00Z",
        "build tariff {in}/tariff_export_seg.json --issuer {issuer}",
        "A Smart Export Guarantee tariff paying a flat rate per exported kWh, for the export MPAN.",
    ),
    Example(
        "tariff-export-tou",
        "supplier-example-key.json",
        "2023-01-01T00:00:00Z",
        "build tariff {in}/tariff_export_tou.json --issuer {issuer}",
        "A time-of-use export tariff: the evening peak (16:00-19:00) pays more.",
    ),
    Example(
        "emissions-2023-10",
        "cap-example-key.json",
        "2023-11-10T12:00:00Z",
        "build emissions --consumption {electricity-halfhourly-2023-10} --consumption {gas-register-m3-2023-10} "
        "--tariff {tariff-weekend-offpeak-fuelmix} --intensity {in}/neso_intensity_SE1_2023-10.json --issuer {issuer}",
        "An emissions report for October 2023 by the IB1 Perseus method, computed from the two signed consumption "
        "credentials above: electricity half-hours x the NESO regional intensity for SE1 (a constructed sample series, "
        "named by URL, region, period and SHA-256), gas m3 x the DESNZ per-m3 factor; Scope 1 and Scope 2 apart, and "
        "market-based Scope 2 from the tariff's fuel mix, each input linked by id and digest.",
    ),
)


def commands(out: Path, work: Path) -> list[tuple[Example, list[str], list[str]]]:
    """For each example: the `perseus build` argv and the `perseus sign` argv."""
    signed = {e.name: str(out / f"{e.name}.json") for e in EXAMPLES}
    result = []
    for e in EXAMPLES:
        unsigned = work / f"{e.name}.unsigned.json"
        text = e.build.format(**{"in": str(INPUTS), "issuer": _controller(e.key), **signed})
        build = shlex.split(text) + ["--id", example_id(e.name), "--valid-from", e.issued, "-o", str(unsigned)]
        sign = ["sign", str(unsigned), "--key", str(KEYS / e.key), "--created", e.issued, "-o", signed[e.name]]
        result.append((e, build, sign))
    return result


def run(out: Path, *, echo: bool = True, verify: bool = True) -> None:
    from perseus.issuer.build_cli import main as perseus

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for example, build, sign in commands(out, Path(tmp)):
            for argv in (build, sign):
                if echo:
                    print("perseus " + shlex.join(_relative(argv)))
                if perseus(argv) != 0:
                    raise SystemExit(f"example {example.name}: `perseus {argv[0]}` failed")
            # A report's links are checked against the credentials it names: give the examples built before it.
            inputs = [a for e in EXAMPLES[: EXAMPLES.index(example)] for a in ("--input", str(out / f"{e.name}.json"))]
            if verify and perseus(["verify", str(out / f"{example.name}.json"), *inputs]) != 0:
                raise SystemExit(f"example {example.name} does not verify")


def _relative(argv: list[str]) -> list[str]:
    root = str(HERE.parent) + "/"
    return [a.replace(root, "") for a in argv]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the signed credentials")
    parser.add_argument("--print", action="store_true", help="print the commands without running them")
    args = parser.parse_args()
    if args.print:
        for _, build, sign in commands(args.out, Path("$WORK")):
            print("perseus " + shlex.join(_relative(build)))
            print("perseus " + shlex.join(_relative(sign)))
        return
    run(args.out)


if __name__ == "__main__":
    sys.exit(main())
