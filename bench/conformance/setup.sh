#!/usr/bin/env bash
# Prepare the W3C conformance suites so run.sh can run them against `perseus serve`.
#
#   bench/conformance/setup.sh [SUITE...]     (default: all six)
#
# Fetches nothing from GitHub: the repositories listed in README.md must already be in
# $PERSEUS_MIRROR (the session `fetch` tool puts them there). For each suite it
#   1. exports the snapshot's HEAD to $PERSEUS_CONFORMANCE_DIR/<suite>/ (replacing what was there);
#   2. packs each `github:` dependency from its snapshot into a local tarball and points the
#      suite's package.json at it (the working copy only);
#   3. runs `npm install` (npm registry only; a lockfile, where the suite has one, pins the rest);
#   4. writes localConfig.cjs, a one-line stub that loads our template from configs/, so editing
#      a template needs no new setup.
# and records every repository's commit in $PERSEUS_CONFORMANCE_DIR/SOURCES.txt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v node >/dev/null || die "node is not installed"
command -v npm >/dev/null || die "npm is not installed"

selected=("$@")
[[ ${#selected[@]} -gt 0 ]] || selected=("${SUITES[@]}")
for suite in "${selected[@]}"; do is_suite "$suite" || die "unknown suite '$suite' (known: ${SUITES[*]})"; done

mkdir -p "$PERSEUS_CONFORMANCE_DIR/tarballs" "$PERSEUS_CONFORMANCE_DIR/src"
sources="$PERSEUS_CONFORMANCE_DIR/SOURCES.txt"
: >"$sources.new"

record() { # repo git_dir role
  local commit date
  commit=$(git --git-dir="$2" rev-parse HEAD)
  date=$(git --git-dir="$2" log -1 --format=%cI HEAD)
  printf '%-45s %s %s %s\n' "$1" "$commit" "$date" "$3" >>"$sources.new"
}

export_snapshot() { # repo dest
  local git_dir
  git_dir=$(mirror_git_dir "$1") || die "no snapshot of $1 in $PERSEUS_MIRROR; fetch github:$1 first (see README.md)"
  rm -rf "$2"
  mkdir -p "$2"
  git --git-dir="$git_dir" archive HEAD | tar -x -C "$2"
  echo "$git_dir"
}

# -- 1. local tarballs for the GitHub-hosted dependencies --------------------------------------
declare -A TARBALL=()
for spec in "${!GITHUB_DEP_REPO[@]}"; do
  repo=${GITHUB_DEP_REPO[$spec]}
  src="$PERSEUS_CONFORMANCE_DIR/src/${repo/\//+}"
  git_dir=$(export_snapshot "$repo" "$src")
  commit=$(git --git-dir="$git_dir" rev-parse --short=12 HEAD)
  # npm pack honours the package's "files" list; none of these packages has pack-time scripts.
  name=$(cd "$src" && npm pack --silent --ignore-scripts --pack-destination "$PERSEUS_CONFORMANCE_DIR/tarballs" | tail -n1)
  tarball="$PERSEUS_CONFORMANCE_DIR/tarballs/${repo/\//+}-$commit.tgz"
  mv -f "$PERSEUS_CONFORMANCE_DIR/tarballs/$name" "$tarball"
  TARBALL[$spec]=$tarball
  record "$repo" "$git_dir" "dependency -> $(basename "$tarball")"
done

# -- 2. the suites ---------------------------------------------------------------------------
# Replace each `github:` spec in dependencies/devDependencies with file:<tarball>; fail on any other
# git/GitHub spec so a new transitive one is noticed instead of hanging npm on an unreachable host.
rewrite_package_json() { # suite_dir
  local map=""
  for spec in "${!TARBALL[@]}"; do map+="$spec=${TARBALL[$spec]}"$'\n'; done
  TARBALL_MAP="$map" node - "$1/package.json" <<'EOF'
const fs = require('node:fs');
const file = process.argv[2];
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
const map = new Map(process.env.TARBALL_MAP.trim().split('\n').map(l => {
  const i = l.indexOf('=');
  return [l.slice(0, i), l.slice(i + 1)];
}));
const gitLike = /^(github:|git\+|git:|https?:\/\/github\.com\/)|^[\w.-]+\/[\w.-]+(#.*)?$/;
for(const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
  for(const [name, spec] of Object.entries(pkg[field] || {})) {
    if(map.has(spec)) {
      pkg[field][name] = `file:${map.get(spec)}`;
    } else if(gitLike.test(spec)) {
      console.error(`${file}: ${field}.${name} is "${spec}", a git dependency with no local tarball; ` +
        'fetch that repository and add it to GITHUB_DEP_REPO in lib.sh');
      process.exit(1);
    }
  }
}
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
EOF
}

for suite in "${selected[@]}"; do
  repo=${SUITE_REPO[$suite]}
  dir=$(suite_dir "$suite")
  say "$suite: exporting $repo"
  git_dir=$(export_snapshot "$repo" "$dir")
  record "$repo" "$git_dir" "suite"
  if [[ $suite == vc-di-ecdsa-test-suite ]]; then
    vectors_git=$(export_snapshot "$ECDSA_VECTORS_REPO" "$dir/tests/input/vc-di-ecdsa")
    record "$ECDSA_VECTORS_REPO" "$vectors_git" "test vectors -> $suite/tests/input/vc-di-ecdsa"
  fi
  rewrite_package_json "$dir"
  say "$suite: npm install"
  # The lockfile (ECDSA suite only) still pins the two packages to git URLs; npm re-resolves
  # them from the rewritten specs. EBADENGINE warnings (ECDSA asks for Node >= 22) are harmless.
  if ! (cd "$dir" && npm install --no-audit --no-fund --loglevel=error); then
    [[ -f "$dir/package-lock.json" ]] || die "$suite: npm install failed"
    # The registry reachable here can lag the suite's lockfile (e.g. a pinned version it has not
    # got): keep the upstream lockfile for reference and resolve from the semver ranges instead.
    say "$suite: npm install with the upstream lockfile failed; retrying without it"
    mv "$dir/package-lock.json" "$dir/package-lock.upstream.json"
    rm -rf "$dir/node_modules"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error) || die "$suite: npm install failed"
  fi
  if grep -Eq '"resolved": "git(\+|:)' "$dir/package-lock.json" 2>/dev/null; then
    die "$suite: package-lock.json still resolves a package from git: $(grep -E '"resolved": "git' "$dir/package-lock.json" | head -3)"
  fi
  printf '%s\n' \
    "// Written by perseus bench/conformance/setup.sh: the configuration lives in the repository." \
    "module.exports = require('$CONFORMANCE_HOME/configs/$suite.cjs');" >"$dir/localConfig.cjs"
done

# keep the records of suites not set up this time
if [[ -f $sources ]]; then
  while read -r repo rest; do
    grep -q "^$repo " "$sources.new" || printf '%-45s %s\n' "$repo" "$rest" >>"$sources.new"
  done <"$sources"
fi
sort -o "$sources" "$sources.new" && rm -f "$sources.new"
say "done; sources:"
cat "$sources" >&2
