"""Coverage arithmetic of the chain check (calendar months in the report's time basis, spans of inputs), by
property, and the parallel examination giving the same answer as the serial one."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import chain_builder as cb
from hypothesis import given, settings
from hypothesis import strategies as st

from perseus.verifier.chain import _covered, _months, verify_bundle
from perseus.verifier.provenance_check import Ib1Options

LONDON = ZoneInfo("Europe/London")


@given(st.integers(2000, 2040), st.integers(1, 12), st.integers(1, 36))
def test_months_are_consecutive_calendar_months_that_tile_the_period(year: int, month: int, count: int) -> None:
    start = datetime(year, month, 1, tzinfo=LONDON)
    end_year, end_month = divmod(month - 1 + count, 12)
    end = datetime(year + end_year, end_month + 1, 1, tzinfo=LONDON)
    months = _months(start, end, LONDON)
    assert len(months) == count
    assert months[0][1] == start and months[-1][2] == end
    for (_, _, a_end), (_, b_start, _) in zip(months, months[1:]):
        assert a_end == b_start
    assert months[0][0] == f"{year:04d}-{month:02d}"


@given(st.lists(st.integers(1, 500), min_size=1, max_size=12), st.data())
@settings(max_examples=200)
def test_contiguous_spans_cover_and_a_removed_span_leaves_a_gap(lengths: list[int], data: st.DataObject) -> None:
    origin = datetime(2023, 1, 1, tzinfo=LONDON)
    spans, at = [], origin
    for hours in lengths:
        spans.append((at, at + timedelta(hours=hours)))
        at += timedelta(hours=hours)
    shuffled = data.draw(st.permutations(spans))
    assert _covered(origin, at, list(shuffled))
    gone = data.draw(st.integers(0, len(spans) - 1))
    rest = [s for i, s in enumerate(spans) if i != gone]
    assert not _covered(spans[gone][0], spans[gone][1], rest)
    assert not _covered(origin, at, rest)


def test_parallel_and_serial_examination_agree() -> None:
    p = cb.parties()
    months = [cb.consumption(p, 2023, m) for m in (9, 10, 11, 12)]
    start, _ = cb.month_bounds(2023, 9)
    _, end = cb.month_bounds(2023, 12)
    vp = cb.presentation(cb.report(p, months, period=(start, end)), *months)
    changed = copy.deepcopy(vp)
    changed["verifiableCredential"][2]["credentialSubject"]["totalKwh"] = "0.000"  # the proof and the digest both fail
    for bundle, outcome in ((vp, "complete"), (changed, "broken")):
        answers = [verify_bundle(bundle, ib1=Ib1Options(roots=[p.pki.root]), now=cb.NOW, workers=w) for w in (1, 2)]
        assert answers[0].outcome == answers[1].outcome == outcome, answers[0].report()
        assert answers[0].to_json() == answers[1].to_json()
    assert {"DIGEST_MISMATCH"} <= answers[1].codes()
