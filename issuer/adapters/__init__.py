"""Input adapters: turn the files energy suppliers already have into checked model objects.

* `ib1_consumption` — the IB1 Perseus consumption API response (``{data: [Reading], location, provenance}``);
* `csv_halfhourly` — half-hourly CSV in long form (``start,end,value[,quality]``) and wide form (one row per
  day, 48 columns; 46 or 50 on clock-change days);
* `register_reads` — register (dial) reads with the statement of baseline, rollover digits, corrections,
  meter exchanges and the gas calorific value;
* `octopus` — Octopus Energy's consumption API JSON (paginated, newest first) and dashboard CSV download;
* `glowmarkt` — Hildebrand Glowmarkt/Bright readings (``data: [[epoch, value]]``, PT30M);
* `n3rgy` — the n3rgy consumer API (``values: [{timestamp, value}]``, UTC, timestamp = end of the half-hour);
* `ovo` — OVO Energy's half-hourly usage JSON (naive local times, closed intervals);
* `tariff_json` — a tariff shaped like a supplier's public product API (Octopus-style rates), or our
  richer JSON form with time-of-use restrictions and a fuel mix.

Every adapter raises `perseus.issuer.energy.InputDataError` (or a subclass; code
``MALFORMED_VALUE_ERROR``) whose ``location`` names the row, column or JSON path to fix.
"""

from .csv_halfhourly import read_long, read_wide, read_halfhourly_csv
from .ib1_consumption import Ib1ConsumptionResponse, parse_ib1_consumption
from .register_reads import RegisterReadsInput, load_register_reads
from .tariff_json import parse_tariff, load_tariff

__all__ = [
    "Ib1ConsumptionResponse",
    "parse_ib1_consumption",
    "read_long",
    "read_wide",
    "read_halfhourly_csv",
    "RegisterReadsInput",
    "load_register_reads",
    "parse_tariff",
    "load_tariff",
]
