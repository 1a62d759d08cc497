"""Register (cumulative) reads → consumption: baselines, rollover, corrections, meter exchanges.

Consumption between two reads is their difference. Three things make that less simple than it looks,
and each is handled explicitly rather than guessed:

* **Rollover.** A register with ``digits`` digits goes from 10**digits − 1 to 0; across it the delta is
  ``(max + 1 − previous) + current``. A decrease is accepted as a rollover only when the implied
  consumption is plausible: less than ``max_rollover_fraction`` of the register's range (default one
  half) and, when ``max_kw`` is given, no more than that average power over the time between the reads.
  Anything else is an error naming both reads: a register going backwards is far more often a misread,
  a swapped meter or an estimate that was too high than half a register's worth of consumption.
* **Corrections.** A read with ``replaces=T`` supersedes the read taken at ``T`` (typically an estimate
  later replaced by an actual read). The superseded read stops counting; the correction counts at its own
  time. The result lists what was superseded, so nothing silently disappears.
* **Meter exchanges.** At an exchange the old meter's final read closes its run and the new meter's
  baseline opens the next; consumption is the sum over meters. The two registers are never subtracted
  from each other.
"""

from __future__ import annotations

from decimal import Decimal

from .errors import InputDataError, RegisterDeltaError
from .model import RegisterConsumption, RegisterDelta, RegisterRead, RegisterSeries

__all__ = ["consumption", "register_delta"]


def _describe(read: RegisterRead) -> str:
    return f"{read.value} ({read.kind}) at {read.at.isoformat()}"


def register_delta(
    previous: RegisterRead,
    current: RegisterRead,
    digits: int,
    *,
    max_rollover_fraction: Decimal = Decimal("0.5"),
    max_kw: Decimal | None = None,
) -> tuple[Decimal, bool]:
    """(consumption, rolled_over) between two reads of the same register, or `RegisterDeltaError`."""
    if current.at.timestamp() <= previous.at.timestamp():
        raise RegisterDeltaError(
            f"reads out of order: {_describe(current)} is not after {_describe(previous)}", location=current.at.isoformat()
        )
    modulus = Decimal(10) ** digits
    for read in (previous, current):
        if read.value >= modulus:
            raise RegisterDeltaError(f"read {_describe(read)} does not fit a {digits}-digit register", location=read.at.isoformat())
    delta = current.value - previous.value
    rolled = False
    if delta < 0:
        delta = (modulus - previous.value) + current.value
        rolled = True
        hours = Decimal((current.at - previous.at).total_seconds()) / 3600
        implausible = None
        if delta >= modulus * max_rollover_fraction:
            implausible = f"a rollover would mean {delta} units, more than {max_rollover_fraction} of the register's range"
        elif max_kw is not None and delta > max_kw * hours:
            implausible = f"a rollover would mean {delta} units in {hours} h, above the {max_kw} kW limit"
        if implausible:
            raise RegisterDeltaError(
                f"register went backwards from {_describe(previous)} to {_describe(current)} and {implausible}; "
                "check for a misread, a meter exchange or an estimate that needs correcting",
                location=current.at.isoformat(),
            )
    if max_kw is not None and not rolled:
        hours = Decimal((current.at - previous.at).total_seconds()) / 3600
        if delta > max_kw * hours:
            raise RegisterDeltaError(
                f"{delta} units between {_describe(previous)} and {_describe(current)} exceeds the {max_kw} kW limit",
                location=current.at.isoformat(),
            )
    return delta, rolled


def _apply_corrections(reads: list[RegisterRead]) -> tuple[list[RegisterRead], list[RegisterRead]]:
    # Keyed and sorted by POSIX time: datetimes sharing a ZoneInfo compare by wall clock, which is
    # wrong in the repeated autumn hour.
    by_time: dict[float, RegisterRead] = {}
    corrections = [r for r in reads if r.replaces is not None]
    for read in reads:
        if read.replaces is None:
            key = read.at.timestamp()
            if key in by_time:
                raise RegisterDeltaError(
                    f"two reads at {read.at.isoformat()} ({by_time[key].value} and {read.value}); mark one as replacing the other",
                    location=read.at.isoformat(),
                )
            by_time[key] = read
    superseded: list[RegisterRead] = []
    for corr in sorted(corrections, key=lambda r: r.at.timestamp()):
        target = by_time.pop(corr.replaces.timestamp(), None)  # type: ignore[union-attr]
        if target is None:
            raise RegisterDeltaError(
                f"correction {_describe(corr)} replaces a read at {corr.replaces.isoformat()} that is not in the series",  # type: ignore[union-attr]
                location=corr.at.isoformat(),
            )
        if target.kind == "actual" and corr.kind != "actual":
            raise RegisterDeltaError(
                f"{corr.kind} read {_describe(corr)} cannot replace the actual read {_describe(target)}", location=corr.at.isoformat()
            )
        superseded.append(target)
        if corr.at.timestamp() in by_time:
            raise RegisterDeltaError(f"correction at {corr.at.isoformat()} collides with another read", location=corr.at.isoformat())
        by_time[corr.at.timestamp()] = corr
    return [by_time[k] for k in sorted(by_time)], superseded


def consumption(
    series: RegisterSeries,
    *,
    max_rollover_fraction: Decimal = Decimal("0.5"),
    max_kw: Decimal | None = None,
) -> RegisterConsumption:
    """Consumption over the series, in the register's unit; see the module docstring for the rules."""
    exchanges = sorted(series.exchanges, key=lambda e: e.at.timestamp())
    baseline_at = series.baseline.read.at.timestamp()
    all_reads = [series.baseline.read, *series.reads]
    effective, superseded = _apply_corrections(all_reads)
    # If the opening read itself was corrected, the correction is the baseline.
    if not effective:
        raise InputDataError("a register series needs at least its baseline read", location="baseline")

    meters: list[tuple[int, list[RegisterRead]]] = []
    digits = [series.baseline.digits] + [e.new_baseline.digits for e in exchanges]
    for e in exchanges:
        if e.new_baseline.unit != series.baseline.unit:
            raise InputDataError(
                f"meter exchange at {e.at.isoformat()} changes the unit from {series.baseline.unit.value} to {e.new_baseline.unit.value}",
                location="exchanges",
            )
        if e.at.timestamp() <= baseline_at:
            raise RegisterDeltaError(f"meter exchange at {e.at.isoformat()} is before the baseline", location="exchanges")
    bounds = [e.at.timestamp() for e in exchanges]
    runs: list[list[RegisterRead]] = [[] for _ in range(len(exchanges) + 1)]
    for read in effective:
        meter = sum(1 for b in bounds if read.at.timestamp() >= b)
        runs[meter].append(read)
    for i, e in enumerate(exchanges):
        runs[i].append(e.old_final)
        runs[i + 1].insert(0, e.new_baseline.read)
    for i, run in enumerate(runs):
        meters.append((i, sorted(run, key=lambda r: r.at.timestamp())))

    deltas: list[RegisterDelta] = []
    total = Decimal(0)
    for meter, run in meters:
        for prev, cur in zip(run, run[1:]):
            delta, rolled = register_delta(prev, cur, digits[meter], max_rollover_fraction=max_rollover_fraction, max_kw=max_kw)
            deltas.append(RegisterDelta(prev, cur, delta, rolled, meter))
            total += delta
    return RegisterConsumption(
        total=total,
        unit=series.unit,
        deltas=tuple(deltas),
        superseded=tuple(superseded),
        first=meters[0][1][0],
        last=meters[-1][1][-1],
    )
