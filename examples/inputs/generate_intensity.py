"""Generate ``neso_intensity_SE1_2023-10.json``: a CONSTRUCTED NESO regional carbon intensity series.

    python examples/inputs/generate_intensity.py

It has the shape the NESO Carbon Intensity API documents for ``GET /regional/intensity/{from}/{to}/postcode/
{postcode}`` (https://carbon-intensity.github.io/api-definitions/), recorded as a list of three responses
(the API answers a bounded window per request) for outcode SE1 (region 13, London) covering October 2023 in
UTC half-hours. The numbers are NOT real NESO figures: they follow a deterministic daily shape (higher in
the evening peak, lower overnight) so the worked example and its tests are reproducible offline.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent / "neso_intensity_SE1_2023-10.json"
START = datetime(2023, 9, 30, 23, 0, tzinfo=timezone.utc)  # local midnight, 1 October 2023 (BST)
END = datetime(2023, 11, 1, 0, 0, tzinfo=timezone.utc)  # local midnight, 1 November 2023 (GMT)
HALF = timedelta(minutes=30)
INDEX = ((140, "low"), (200, "moderate"), (260, "high"))


def _point(t: datetime) -> dict[str, object]:
    slot = t.hour * 2 + t.minute // 30
    day = (t - START).days
    value = 110 + (slot * 5 if slot < 36 else (47 - slot) * 12) + (day * 7) % 23
    index = next((name for limit, name in INDEX if value < limit), "very high")
    fmt = "%Y-%m-%dT%H:%MZ"
    return {
        "from": t.strftime(fmt),
        "to": (t + HALF).strftime(fmt),
        "intensity": {"forecast": value, "index": index},
        "generationmix": [{"fuel": "gas", "perc": round(value / 6, 1)}, {"fuel": "wind", "perc": round(100 - value / 6, 1)}],
    }


def main() -> None:
    cuts = [START, datetime(2023, 10, 14, 23, 0, tzinfo=timezone.utc), datetime(2023, 10, 28, 23, 0, tzinfo=timezone.utc), END]
    responses = []
    for a, b in zip(cuts, cuts[1:]):
        points, t = [], a
        while t < b:
            points.append(_point(t))
            t += HALF
        responses.append({"data": {"regionid": 13, "dnoregion": "UKPN London", "shortname": "London", "postcode": "SE1", "data": points}})
    OUT.write_text(json.dumps(responses, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
