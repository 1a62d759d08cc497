"""The summary of a batch: counts by outcome and by failure code, for a person or as JSON."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .records import ERROR, NOT_VERIFIED, VERIFIED

_LABELS = {VERIFIED: "verified", NOT_VERIFIED: "not verified", ERROR: "could not be verified (errors)"}
_SHOW_SKIPPED = 5


@dataclass
class BatchSummary:
    """Running counts over the records of a batch (`add` each record as it comes)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)  # failure code -> inputs whose record has it
    earlier: int = 0  # records found in the results file of an earlier run (--resume)
    skipped: list[str] = field(default_factory=list)
    engine: str = ""
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    @property
    def this_run(self) -> int:
        return self.total - self.earlier

    @property
    def all_verified(self) -> bool:
        return self.total > 0 and self.outcomes[VERIFIED] == self.total

    def add(self, record: dict[str, Any], *, earlier: bool = False) -> None:
        self.outcomes[str(record.get("outcome", ERROR))] += 1
        for code in sorted({p.get("code") for p in record.get("problems", []) if isinstance(p, dict) and isinstance(p.get("code"), str)}):
            self.codes[code] += 1
        if earlier:
            self.earlier += 1

    def finish(self) -> None:
        self.elapsed = time.monotonic() - self.started

    def rate(self) -> float:
        elapsed = self.elapsed or (time.monotonic() - self.started)
        return self.this_run / elapsed if elapsed > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": self.total,
            "verified": self.outcomes[VERIFIED],
            "notVerified": self.outcomes[NOT_VERIFIED],
            "errors": self.outcomes[ERROR],
            "byCode": dict(sorted(self.codes.items(), key=lambda item: (-item[1], item[0]))),
            "fromEarlierRun": self.earlier,
            "skippedFiles": len(self.skipped),
            "seconds": round(self.elapsed, 3),
            "perSecond": round(self.rate(), 2),
            "engine": self.engine,
        }

    def report(self) -> str:
        """A few lines a person reads at the end of a run."""
        total = self.total
        head = f"{total:,} input{'s' if total != 1 else ''}"
        if self.earlier:
            head += f" ({self.earlier:,} from the earlier run, {self.this_run:,} now)"
        lines = [f"{head}: " + ", ".join(f"{self.outcomes[o]:,} {_LABELS[o]}" for o in (VERIFIED, NOT_VERIFIED, ERROR))]
        if self.codes:
            lines.append("failures by code (inputs):")
            for code, count in sorted(self.codes.items(), key=lambda item: (-item[1], item[0])):
                lines.append(f"  {code:<36} {count:,}")
        if self.skipped:
            shown = ", ".join(self.skipped[:_SHOW_SKIPPED]) + (" …" if len(self.skipped) > _SHOW_SKIPPED else "")
            lines.append(f"{len(self.skipped):,} file{'s' if len(self.skipped) != 1 else ''} skipped (not .json, .jsonld, .jsonl, .ndjson or .zip, or named twice): {shown}")
        if self.elapsed:
            lines.append(f"{self.this_run:,} checked in {self.elapsed:.1f} s ({self.rate():,.1f}/s) on {self.engine}")
        return "\n".join(lines)
