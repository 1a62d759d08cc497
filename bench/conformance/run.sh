#!/usr/bin/env bash
# Run the W3C conformance suites against a freshly started `perseus serve` on loopback.
#
#   bench/conformance/run.sh [--update-results] [SUITE...]    all six suites by default (see lib.sh)
#
#   --update-results   also copy the summaries into the committed results/ (same as
#                      PERSEUS_CONFORMANCE_UPDATE_RESULTS=1); without it a run changes nothing in
#                      the repository. Refused together with MOCHA_GREP (a partial run).
#
# Environment (see also lib.sh for the state and clone directories):
#   PERSEUS=path/to/perseus      the CLI to start (default: the project's .venv/bin/perseus, made by
#                                `python3 run.py test`)
#   PERSEUS_CONFORMANCE_BASE_URL=https://127.0.0.1:PORT
#       use a service that is already running (started by you, e.g. under a debugger) instead of
#       starting one; then also set PERSEUS_CONFORMANCE_DID_{EDDSA,P256,P384} and, if it checks
#       tokens, PERSEUS_CONFORMANCE_TOKEN.
#   MOCHA_GREP=pattern           only tests whose title matches (mocha --grep)
#   PERSEUS_CONFORMANCE_MOCHA_TIMEOUT=ms       per-test timeout (default 15000, as the suites' npm test)
#   PERSEUS_CONFORMANCE_IMPORT_PROFILES=hook   registers the generated keys instead of `perseus keys import`
#   PERSEUS_CONFORMANCE_ECDSA_FIRST=p384       P-384 issuers first (see configs/vc-di-ecdsa-test-suite.cjs)
#   PERSEUS_CONFORMANCE_CRYPTOSUITE_OPTION=0   JCS via profiles `<profile>-jcs`, not options.cryptosuite
#   PERSEUS_CONFORMANCE_NOTE=text              a note line in the summaries
#
# Per suite it writes $PERSEUS_CONFORMANCE_STATE/results/<suite>.txt (selected/passed/failed counts
# and the failures) and keeps the raw mocha JSON and the logs in $PERSEUS_CONFORMANCE_STATE/{reports,logs}/.
# Everything runs on 127.0.0.1; loopback-guard.cjs makes the suites refuse any other connection.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

update_results=${PERSEUS_CONFORMANCE_UPDATE_RESULTS:-0}
selected=()
for arg in "$@"; do
  case $arg in
    --update-results) update_results=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$arg' (known: --update-results)" ;;
    *) selected+=("$arg") ;;
  esac
done
[[ $update_results == 1 && -n "${MOCHA_GREP:-}" ]] &&
  die "--update-results with MOCHA_GREP would commit a partial run; drop one of them"

need_tool node "to run the suites (Node.js 20 or newer: https://nodejs.org/)"
need_tool npx "to run mocha from each suite's node_modules (it comes with npm)"
need_tool openssl "to make the self-signed TLS certificate and the API token"
need_tool curl "to wait until the service answers"
need_tool python3 "to find a free port and write the summaries"

STATE="$PERSEUS_CONFORMANCE_STATE"
RUN_RESULTS="$STATE/results"
RESULTS="$CONFORMANCE_HOME/results"
TLS="$STATE/tls"
mkdir -p "$STATE/reports" "$STATE/logs" "$TLS" "$RUN_RESULTS"

[[ ${#selected[@]} -gt 0 ]] || selected=("${SUITES[@]}")
for suite in "${selected[@]}"; do
  is_suite "$suite" || die "unknown suite '$suite' (known: ${SUITES[*]})"
  [[ -d "$(suite_dir "$suite")/node_modules" && -f "$(suite_dir "$suite")/localConfig.cjs" ]] ||
    die "$suite is not set up in $STATE; run bench/conformance/setup.sh first (README.md §1)"
  # the copy must come from the commit lib.sh pins now (pins may have moved since setup.sh ran)
  repo=${SUITE_REPO[$suite]}
  recorded=$(awk -v r="$repo" '$1 == r {print $2}' "$STATE/SOURCES.txt" 2>/dev/null || true)
  if [[ $recorded != "${PIN[$repo]}" && ${PERSEUS_CONFORMANCE_UNPINNED:-0} != 1 ]]; then
    die "$suite was set up from ${recorded:-an unknown commit}, not the pinned ${PIN[$repo]}; run bench/conformance/setup.sh $suite"
  fi
done

# -- TLS: a self-signed certificate for localhost/127.0.0.1, made once --------------------------
# The suites accept it: vc-test-suite-implementations (and the suites' own loaders) use an
# https.Agent with rejectUnauthorized: false, so NODE_TLS_REJECT_UNAUTHORIZED is not needed.
if [[ ! -s "$TLS/cert.pem" || ! -s "$TLS/key.pem" ]]; then
  say "generating a self-signed certificate in $TLS"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$TLS/key.pem" -out "$TLS/cert.pem" 2>/dev/null
  chmod 600 "$TLS/key.pem"
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# -- the three issuer profiles ------------------------------------------------------------------
# Profile names the configs use: eddsa (Ed25519), p256 (P-256), p384 (P-384); a profile's DID goes
# into every test credential's `issuer`, so the configs need them (PERSEUS_CONFORMANCE_DID_*).
# `perseus keys generate` makes each key and prints its did:key; `perseus keys import` stores it
# (encrypted) in the fresh data directory as a new profile with every suite its key type can make
# (eddsa: eddsa-rdfc-2022 + eddsa-jcs-2022; p256/p384: ecdsa-rdfc-2019 + ecdsa-jcs-2019).
# PERSEUS_CONFORMANCE_IMPORT_PROFILES=/path/to/hook replaces the import (called as: hook DATA_DIR KEYS_DIR).
create_profiles() { # data_dir
  local keys="$1/conformance-keys"
  mkdir -p "$keys"
  PERSEUS_CONFORMANCE_DID_EDDSA=$("$PERSEUS" keys generate --type Ed25519 -o "$keys/eddsa.json" --force)
  PERSEUS_CONFORMANCE_DID_P256=$("$PERSEUS" keys generate --type P-256 -o "$keys/p256.json" --force)
  PERSEUS_CONFORMANCE_DID_P384=$("$PERSEUS" keys generate --type P-384 -o "$keys/p384.json" --force)
  export PERSEUS_CONFORMANCE_DID_EDDSA PERSEUS_CONFORMANCE_DID_P256 PERSEUS_CONFORMANCE_DID_P384
  if [[ -n "${PERSEUS_CONFORMANCE_IMPORT_PROFILES:-}" ]]; then
    "$PERSEUS_CONFORMANCE_IMPORT_PROFILES" "$1" "$keys"
    return
  fi
  local profile
  for profile in eddsa p256 p384; do
    "$PERSEUS" keys import "$keys/$profile.json" --profile "$profile" --data-dir "$1" >/dev/null ||
      die "could not create profile $profile with perseus keys import"
  done
}

# -- the service ------------------------------------------------------------------------------
SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  [[ -z "${DATA_DIR:-}" ]] || rm -rf "$DATA_DIR"
}
trap stop_server EXIT

wait_ready() { # base_url
  for _ in $(seq 150); do
    # any HTTP answer (even 404) means it is listening; curl -k: our own self-signed certificate
    if curl -sk -o /dev/null --max-time 2 "$1/"; then return 0; fi
    [[ -z "$SERVER_PID" ]] || kill -0 "$SERVER_PID" 2>/dev/null ||
      die "perseus serve exited during start-up; see $STATE/logs/server.log"
    sleep 0.2
  done
  die "no answer from $1 after 30 s; see $STATE/logs/server.log"
}

if [[ -n "${PERSEUS_CONFORMANCE_BASE_URL:-}" ]]; then
  say "using the running service at $PERSEUS_CONFORMANCE_BASE_URL"
  wait_ready "$PERSEUS_CONFORMANCE_BASE_URL"
else
  # The CLI of this checkout: a perseus found elsewhere on PATH may be another version.
  PERSEUS=${PERSEUS:-$PROJECT_ROOT/.venv/bin/perseus}
  [[ -x "$PERSEUS" ]] || die "no perseus CLI at $PERSEUS: run 'python3 run.py test' in $PROJECT_ROOT once (it makes .venv), or set PERSEUS=/path/to/perseus"
  # a run on a fresh data dir must not pick up another database or config file from the environment
  unset PERSEUS_CONFIG PERSEUS_DATABASE_URL PERSEUS_BASE_URL PERSEUS_DATA_DIR
  DATA_DIR=$(mktemp -d "$STATE/service.XXXXXX")
  PORT=$(free_port)
  export PERSEUS_CONFORMANCE_BASE_URL="https://127.0.0.1:$PORT"
  export PERSEUS_CONFORMANCE_TOKEN
  PERSEUS_CONFORMANCE_TOKEN=$(openssl rand -hex 24)
  create_profiles "$DATA_DIR"
  say "starting perseus serve on $PERSEUS_CONFORMANCE_BASE_URL (data dir $DATA_DIR)"
  # PERSEUS_API_TOKENS: comma-separated bearer tokens (one, unrestricted, here). --base-url: the
  # origin the service puts in the URLs it mints (statusListCredential), which the suites
  # dereference — it must be this loopback origin. PERSEUS_STATUS_FETCH_ALLOWED_HOSTS: the verify
  # routes refuse to fetch status lists from loopback unless told; the suites' lists are on 127.0.0.1.
  PERSEUS_API_TOKENS="$PERSEUS_CONFORMANCE_TOKEN" PERSEUS_STATUS_FETCH_ALLOWED_HOSTS=127.0.0.1 \
    "$PERSEUS" serve --host 127.0.0.1 --port "$PORT" --base-url "$PERSEUS_CONFORMANCE_BASE_URL" \
    --ssl-certfile "$TLS/cert.pem" --ssl-keyfile "$TLS/key.pem" --data-dir "$DATA_DIR" \
    >"$STATE/logs/server.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$PERSEUS_CONFORMANCE_BASE_URL"
fi

# -- the suites -------------------------------------------------------------------------------
# what was tested, for the summaries: the repository's commit, and whether the tree had changes
service="external service at $PERSEUS_CONFORMANCE_BASE_URL"
if [[ -n "$SERVER_PID" ]]; then
  repo=$(git -C "$CONFORMANCE_HOME" rev-parse --show-toplevel 2>/dev/null || true)
  if [[ -n "$repo" ]]; then
    service="perseus @ $(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo '?')"
    # the committed summaries themselves are not what is tested
    [[ -z "$(git -C "$repo" status --porcelain -- . ":(exclude)bench/conformance/results" 2>/dev/null)" ]] || service+=" + uncommitted changes"
  else
    service="perseus ($PERSEUS)"
  fi
fi
export NODE_OPTIONS="--require $CONFORMANCE_HOME/loopback-guard.cjs ${NODE_OPTIONS:-}"
# vc-api-verifier-test-suite's JWT tests get their valid credential from the implementation named here
export ISSUER_NAME_JWT=Perseus
status=0
for suite in "${selected[@]}"; do
  dir=$(suite_dir "$suite")
  dry="$STATE/reports/$suite.dry-run.json"
  out="$STATE/reports/$suite.json"
  rm -f "$dry" "$out"
  # Same files and options as the suite's `npm test`, but mocha's JSON reporter instead of the
  # W3C HTML report, and no npm pre-scripts (the ECDSA suite's `pretest` runs `npm update`
  # against GitHub). --dry-run loads the tests without running hooks: the count of tests selected.
  mocha=(npx --no-install mocha tests/ --timeout "${PERSEUS_CONFORMANCE_MOCHA_TIMEOUT:-15000}" --preserve-symlinks)
  [[ -z "${MOCHA_GREP:-}" ]] || mocha+=(--grep "$MOCHA_GREP")
  say "$suite: counting the tests selected"
  (cd "$dir" && "${mocha[@]}" --dry-run --reporter json --reporter-option "output=$dry") \
    >"$STATE/logs/$suite.dry-run.log" 2>&1 || true
  say "$suite: running"
  rc=0
  (cd "$dir" && "${mocha[@]}" --reporter json --reporter-option "output=$out") \
    >"$STATE/logs/$suite.log" 2>&1 || rc=$?
  summary=$(python3 "$CONFORMANCE_HOME/summarize.py" "$suite" "$dry" "$out" \
    --sources "$STATE/SOURCES.txt" --service "$service" \
    ${PERSEUS_CONFORMANCE_NOTE:+--note "$PERSEUS_CONFORMANCE_NOTE"}) || { status=1; continue; }
  if [[ ! -s "$out" ]]; then
    say "$suite: mocha wrote no report (exit $rc); see $STATE/logs/$suite.log"
    status=1
  fi
  printf '%s\n' "$summary" >"$RUN_RESULTS/$suite.txt"
  if [[ $update_results == 1 ]]; then
    cp "$RUN_RESULTS/$suite.txt" "$RESULTS/$suite.txt"
    say "$suite: results/$suite.txt updated"
  fi
  printf '%s\n' "$summary" | sed -n '1,/^not run/p' | grep -E '^(# |selected|passed|failed|pending|not run)' >&2
  [[ $rc -eq 0 ]] || status=1
done
say "whole run: ${SECONDS} s (summaries in $RUN_RESULTS)"
exit $status
