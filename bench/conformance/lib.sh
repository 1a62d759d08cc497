# Shared settings for setup.sh and run.sh (sourced, not executed).
#
# The W3C suites are third-party code and stay out of the repository. A developer clones each
# repository below (setup.sh --clone does it) at its pinned commit into $PERSEUS_CONFORMANCE_SOURCES;
# setup.sh checks every clone's HEAD against its pin, exports the trees into the state directory,
# installs them there with npm, and run.sh runs them from there. Only our glue (these scripts, the
# config templates, the committed summaries in results/) is in the repository.
#
# Variables (all optional):
#   PERSEUS_CONFORMANCE_STATE    where everything a run makes goes: exported suites, node_modules,
#                                the certificate, reports, logs, the latest summaries
#                                (default: bench/conformance/.state, git-ignored)
#   PERSEUS_CONFORMANCE_SOURCES  the directory of clones, one per repository as <owner>/<name>
#                                (default: $PERSEUS_CONFORMANCE_STATE/src)
#   PERSEUS_CONFORMANCE_GIT_BASE where setup.sh --clone clones from: <base>/<owner>/<name>
#                                (default: https://github.com)

CONFORMANCE_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT_ROOT=$(cd "$CONFORMANCE_HOME/../.." && pwd)

die() { echo "conformance: $*" >&2; exit 2; }
say() { echo "conformance: $*" >&2; }

PERSEUS_CONFORMANCE_STATE=${PERSEUS_CONFORMANCE_STATE:-$CONFORMANCE_HOME/.state}
mkdir -p "$PERSEUS_CONFORMANCE_STATE" || die "cannot create the state directory $PERSEUS_CONFORMANCE_STATE"
PERSEUS_CONFORMANCE_STATE=$(cd "$PERSEUS_CONFORMANCE_STATE" && pwd)
PERSEUS_CONFORMANCE_SOURCES=${PERSEUS_CONFORMANCE_SOURCES:-$PERSEUS_CONFORMANCE_STATE/src}
PERSEUS_CONFORMANCE_GIT_BASE=${PERSEUS_CONFORMANCE_GIT_BASE:-https://github.com}

# Every repository the harness uses, at the commit it was last run with (README.md §1 has the
# table with dates and roles). setup.sh refuses a clone whose HEAD is not this commit.
declare -A PIN=(
  [w3c/vc-data-model-2.0-test-suite]=6e075243825f50c79017de4a27089d329c093d0f
  [w3c/vc-di-eddsa-test-suite]=a62061b23892deb44dbad67a0315d403fdf09440
  [w3c/vc-di-ecdsa-test-suite]=070efa34139e0918eb6ca86ab59033322803af3e
  [w3c/vc-bitstring-status-list-test-suite]=5cdc5625948470d1f3b8b615e0771c013dc9029e
  [w3c-ccg/vc-api-issuer-test-suite]=4aa46e285c24cf1f5afa5bb808bb086a39524f22
  [w3c-ccg/vc-api-verifier-test-suite]=41541eeb9c31215d32403f4fe32bb441fbbf141e
  [w3c/vc-test-suite-implementations]=a15c6cf73e588f93a5b532a02c051ad7b59777ab
  [w3c-ccg/vc-test-suite-implementations]=8fd6a18d907194e259c8e91983eac608735781dd
  [w3c-ccg/data-integrity-test-suite-assertion]=8d84d182f022f02049135f7d1ad3d5d0181e5560
  [w3c/vc-di-ecdsa]=00781de52c036723bbd88d89b07818a2914a6b9e
)

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

# Dependencies the suites name as `github:owner/name`: each becomes a local tarball (npm pack of
# the pinned clone), so npm never resolves a moving branch. Key: the exact spec in package.json.
declare -A GITHUB_DEP_REPO=(
  [github:w3c/vc-test-suite-implementations]=w3c/vc-test-suite-implementations
  [github:w3c-ccg/vc-test-suite-implementations]=w3c-ccg/vc-test-suite-implementations
  [github:w3c-ccg/data-integrity-test-suite-assertion]=w3c-ccg/data-integrity-test-suite-assertion
)
# Not an npm dependency: the ECDSA suite's postinstall `git clone`s the spec repository (unpinned,
# --depth 1) for its key pairs (config/keys.json points into tests/input/vc-di-ecdsa/TestVectors).
# setup.sh exports the pinned clone there first, which the postinstall then leaves alone.
ECDSA_VECTORS_REPO=w3c/vc-di-ecdsa

# Which suites need which repositories.
repos_for_suite() { # suite -> repositories, one per line
  echo "${SUITE_REPO[$1]}"
  case $1 in
    vc-api-issuer-test-suite | vc-api-verifier-test-suite)
      echo w3c-ccg/vc-test-suite-implementations ;;
    vc-di-eddsa-test-suite)
      echo w3c/vc-test-suite-implementations
      echo w3c-ccg/data-integrity-test-suite-assertion ;;
    vc-di-ecdsa-test-suite)
      echo w3c/vc-test-suite-implementations
      echo w3c-ccg/data-integrity-test-suite-assertion
      echo "$ECDSA_VECTORS_REPO" ;;
    *)
      echo w3c/vc-test-suite-implementations ;;
  esac
}

clone_dir() { echo "$PERSEUS_CONFORMANCE_SOURCES/$1"; }          # repo -> its clone
suite_dir() { echo "$PERSEUS_CONFORMANCE_STATE/suites/$1"; }      # suite -> its installed copy
is_suite() { [[ -n "${SUITE_REPO[$1]:-}" ]]; }

# A tool the scripts need, or a message saying what it is for and where to get it.
need_tool() { # name purpose
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed or not on PATH; it is needed $2"
}
