#!/usr/bin/env bash
# Times `node verify.mjs` as a whole process on a signed credential with
# COUNT half-hourly readings (default 17,520 = one year).
#
#   bash bench-readings.sh [COUNT] [RUNS] [SUITE]
#
# SUITE defaults to eddsa-rdfc-2022 (any of the four works; ECDSA suites get
# a P-256 key). Generated files go to bench/out/ (git-ignored). Prints, per
# run, verify.mjs's own JSON line and /usr/bin/time's wall time and max RSS;
# uses hyperfine as well when it is installed.
# Comparison tooling only; not part of the product.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../out"
count="${1:-17520}"
runs="${2:-5}"
suite="${3:-eddsa-rdfc-2022}"
case "$suite" in
  eddsa-*) curve=Ed25519 ;;
  ecdsa-*) curve=P-256 ;;
  *) echo "unknown suite $suite" >&2; exit 2 ;;
esac
mkdir -p "$out/keys"
key="$out/keys/bench-$curve.json"
[ -f "$key" ] || node "$here/keygen.mjs" "$curve" --out "$key"
unsigned="$out/readings-$count-$curve.json"
signed="$out/readings-$count.$suite.json"
node "$here/make-readings.mjs" --count "$count" --key "$key" --out "$unsigned"
sign_start=$(date +%s%N)
node "$here/sign.mjs" "$unsigned" --key "$key" --suite "$suite" \
  --created 2023-01-01T00:00:00Z --out "$signed"
sign_end=$(date +%s%N)
echo "file: $signed ($(stat -c %s "$signed") bytes); sign.mjs took" \
  "$(( (sign_end - sign_start) / 1000000 )) ms"
echo "node $(node --version)"

for i in $(seq 1 "$runs"); do
  /usr/bin/time -v node "$here/verify.mjs" "$signed" \
    >"$out/verify-run.json" 2>"$out/verify-run.time" || true
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out/verify-run.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/verify-run.time")
  v=$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));
    console.log(`verified=${r.verified} ms=${JSON.stringify(r.ms)}`)' \
    "$out/verify-run.json")
  echo "run $i: wall=$wall maxRSS=${rss}KB $v"
done

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 1 --runs "$runs" \
    "node $here/verify.mjs $signed"
fi
