"""Turn a suite's mocha JSON reports into the short text summary committed under results/.

    python3 summarize.py SUITE DRY_RUN_JSON RUN_JSON [--sources SOURCES.txt] [--note TEXT] > results/SUITE.txt

Two reports because mocha's counts alone mislead: when a ``before`` hook fails, mocha reports the
hook as one failure and silently drops every test under it. The dry run (``mocha --dry-run``, no
hooks, no requests) counts the tests the suite *selects* for our configuration; the real run says
what passed and failed; the difference is reported as "not run".

Standard library only: it runs with any Python >= 3.11, inside or outside the project's venv.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _load(path: Path) -> dict[str, Any]:
    """A mocha JSON report, or an empty one when the run died before writing it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"stats": {}, "tests": [], "passes": [], "failures": [], "pending": []}
    # the json reporter writes only JSON to its output file, but guard against stray lines
    report = json.loads(text[text.index("{") :])
    if not isinstance(report, dict):
        raise TypeError(f"{path} is not a mocha JSON report")
    return report


def _first_line(err: dict[str, Any]) -> str:
    message = (err or {}).get("message") or ""
    line = message.strip().splitlines()[0] if message.strip() else "(no message)"
    # keep both ends: jsonld.js and chai put the telling part (a URL, the actual value) last
    return line if len(line) <= 220 else f"{line[:140]} … {line[-75:]}"


def _top(title: str) -> str:
    """The top-level describe a test belongs to, for the per-group table."""
    return title.split(" Perseus")[0].strip() or title


def summarize(
    suite: str,
    dry: dict[str, Any],
    run: dict[str, Any],
    source: str | None,
    note: str | None,
    service: str | None = None,
) -> str:
    selected = len(dry.get("tests", []))
    passes = run.get("passes", [])
    failures = run.get("failures", [])
    pending = run.get("pending", [])
    hook_failures = [f for f in failures if '" hook' in f.get("title", "")]
    test_failures = [f for f in failures if f not in hook_failures]
    ran = len(passes) + len(test_failures) + len(pending)
    not_run = max(selected - ran, 0)

    out = [f"# {suite}", ""]
    if source:
        out.append(f"source: {source}")
    if service:
        out.append(f"service: {service}")
    out.append(f"run: {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    if note:
        out.append(f"note: {note}")
    out += [
        "",
        f"selected  {selected}",
        f"passed    {len(passes)}",
        f"failed    {len(test_failures)}",
        f"pending   {len(pending)}",
        f"not run   {not_run}   (tests under a failed hook: {len(hook_failures)} hook failure(s))",
        "",
    ]
    groups: Counter[tuple[str, str]] = Counter()
    for kind, items in (
        ("pass", passes),
        ("fail", test_failures),
        ("pending", pending),
    ):
        for item in items:
            groups[(_top(item.get("fullTitle", "")), kind)] += 1
    names = sorted({name for name, _ in groups})
    if names:
        out.append("by group (pass/fail/pending):")
        for name in names:
            out.append(
                f"  {groups[(name, 'pass')]:4d} {groups[(name, 'fail')]:4d} {groups[(name, 'pending')]:4d}  {name}"
            )
        out.append("")
    if hook_failures:
        out.append("hook failures (the tests under them did not run):")
        out += [
            f"  - {f.get('fullTitle')}\n      {_first_line(f.get('err', {}))}"
            for f in hook_failures
        ]
        out.append("")
    if test_failures:
        out.append("failures:")
        # one line per distinct reason keeps the file reviewable when a suite fails wholesale
        reasons: Counter[str] = Counter(
            _first_line(f.get("err", {})) for f in test_failures
        )
        for f in test_failures:
            out.append(
                f"  - {f.get('fullTitle')}\n      {_first_line(f.get('err', {}))}"
            )
        out.append("")
        out.append("failure reasons (count):")
        out += [f"  {count:4d}  {reason}" for reason, count in reasons.most_common()]
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite")
    parser.add_argument("dry_run", type=Path)
    parser.add_argument("run", type=Path)
    parser.add_argument("--sources", type=Path)
    parser.add_argument("--note")
    parser.add_argument("--service", help="what was tested, e.g. the perseus commit")
    args = parser.parse_args(argv)
    source = None
    if args.sources and args.sources.exists():
        for line in args.sources.read_text(encoding="utf-8").splitlines():
            fields = line.split()
            if fields and fields[0].endswith("/" + args.suite):
                source = f"{fields[0]} @ {fields[1]} ({fields[2]})"
    try:
        text = summarize(
            args.suite,
            _load(args.dry_run),
            _load(args.run),
            source,
            args.note,
            args.service,
        )
    except (ValueError, KeyError, TypeError) as exc:
        print(
            f"summarize: cannot read the mocha reports for {args.suite}: {exc}",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
