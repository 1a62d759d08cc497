# Shared settings for setup.sh and run.sh (sourced, not executed).
#
# The W3C suites live outside the repository: they are third-party code, exported from the
# snapshots the session's `fetch` tool leaves under $PERSEUS_MIRROR, into $PERSEUS_CONFORMANCE_DIR.
# Only our glue (these scripts, the config templates, the summaries) is in the repository.

PERSEUS_MIRROR=${PERSEUS_MIRROR:-/work/.mirror}
PERSEUS_CONFORMANCE_DIR=${PERSEUS_CONFORMANCE_DIR:-/work/.conformance}
CONFORMANCE_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# suite name -> GitHub repository it comes from
declare -A SUITE_REPO=(
  [vc-data-model-2.0-test-suite]=w3c/vc-data-model-2.0-test-suite
  [vc-di-eddsa-test-suite]=w3c/vc-di-eddsa-test-suite
  [vc-di-ecdsa-test-suite]=w3c/vc-di-ecdsa-test-suite
  [vc-bitstring-status-list-test-suite]=w3c/vc-bitstring-status-list-test-suite
  [vc-api-issuer-test-suite]=w3c-ccg/vc-api-issuer-test-suite
  [vc-api-verifier-test-suite]=w3c-ccg/vc-api-verifier-test-suite
)
# the order suites run in (cheapest first)
SUITES=(
  vc-api-issuer-test-suite
  vc-api-verifier-test-suite
  vc-bitstring-status-list-test-suite
  vc-di-eddsa-test-suite
  vc-di-ecdsa-test-suite
  vc-data-model-2.0-test-suite
)

# Dependencies the suites name as `github:owner/name`, which npm cannot reach here: each becomes a
# local tarball (npm pack of the fetched snapshot). Key: the exact spec in package.json.
declare -A GITHUB_DEP_REPO=(
  [github:w3c/vc-test-suite-implementations]=w3c/vc-test-suite-implementations
  [github:w3c-ccg/vc-test-suite-implementations]=w3c-ccg/vc-test-suite-implementations
  [github:w3c-ccg/data-integrity-test-suite-assertion]=w3c-ccg/data-integrity-test-suite-assertion
)
# Not an npm dependency: the ECDSA suite's postinstall `git clone`s the spec repository for its key
# pairs (config/keys.json points into tests/input/vc-di-ecdsa/TestVectors). We put it there first.
ECDSA_VECTORS_REPO=w3c/vc-di-ecdsa

die() { echo "conformance: $*" >&2; exit 2; }
say() { echo "conformance: $*" >&2; }

# git directory of a fetched snapshot (bare `repo/` or a clone's `repo/.git`)
mirror_git_dir() {
  local base="$PERSEUS_MIRROR/${1/\//+}/repo"
  if [[ -d "$base/.git" ]]; then echo "$base/.git"
  elif [[ -f "$base/HEAD" ]]; then echo "$base"
  else return 1
  fi
}

suite_dir() { echo "$PERSEUS_CONFORMANCE_DIR/$1"; }

is_suite() { [[ -n "${SUITE_REPO[$1]:-}" ]]; }
