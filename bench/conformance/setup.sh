#!/usr/bin/env bash
# Prepare the W3C conformance suites so run.sh can run them against `perseus serve`.
#
#   bench/conformance/setup.sh [--clone] [SUITE...]     (default: all six)
#
#   --clone   clone each repository that is missing from $PERSEUS_CONFORMANCE_SOURCES from
#             $PERSEUS_CONFORMANCE_GIT_BASE/<owner>/<name> (default https://github.com) and check out
#             its pinned commit. Clones that already exist are never changed, only checked.
#
# For every repository the selected suites need (lib.sh PIN), the clone at
# $PERSEUS_CONFORMANCE_SOURCES/<owner>/<name> must have the pinned commit checked out: setup.sh
# compares HEAD with the pin and stops with the command that fixes it otherwise
# (PERSEUS_CONFORMANCE_UNPINNED=1 accepts another commit, warns, and records it in SOURCES.txt).
# Then, in the state directory ($PERSEUS_CONFORMANCE_STATE, see lib.sh), it
#   1. exports each clone's HEAD tree (git archive: uncommitted edits in a clone are not used);
#   2. packs each `github:` dependency into a local tarball and points the suite's package.json at it
#      (the exported copy only);
#   3. runs `npm install` (npm registry only; a lockfile, where the suite has one, pins the rest);
#   4. writes localConfig.cjs, a one-line stub that loads our template from configs/, so editing
#      a template needs no new setup;
# and records every repository's commit in $PERSEUS_CONFORMANCE_STATE/SOURCES.txt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

clone=0
selected=()
for arg in "$@"; do
  case $arg in
    --clone) clone=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$arg' (known: --clone)" ;;
    *) selected+=("$arg") ;;
  esac
done
[[ ${#selected[@]} -gt 0 ]] || selected=("${SUITES[@]}")
for suite in "${selected[@]}"; do is_suite "$suite" || die "unknown suite '$suite' (known: ${SUITES[*]})"; done

need_tool git "to check the suites' clones against their pinned commits and export them"
need_tool node "to run the suites (Node.js 20 or newer: https://nodejs.org/)"
need_tool npm "to install the suites' dependencies (it comes with Node.js)"
need_tool tar "to unpack the exported suites"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[[ $node_major -ge 20 ]] || die "Node.js $(node --version) is too old; the suites need 20 or newer"

# The repositories the selected suites need, each once.
declare -A NEEDED=()
for suite in "${selected[@]}"; do
  while read -r repo; do NEEDED[$repo]=1; done < <(repos_for_suite "$suite")
done

# -- 0. the clones: present (or cloned with --clone) and at their pins -------------------------
declare -A COMMIT=() NOTE=()
missing=()
for repo in "${!NEEDED[@]}"; do
  dir=$(clone_dir "$repo")
  if [[ ! -e $dir ]]; then
    if [[ $clone -eq 1 ]]; then
      url="$PERSEUS_CONFORMANCE_GIT_BASE/$repo"
      say "cloning $url into $dir"
      mkdir -p "$(dirname "$dir")"
      git clone --quiet "$url" "$dir" || die "git clone $url failed"
      git -C "$dir" -c advice.detachedHead=false checkout --quiet --detach "${PIN[$repo]}" ||
        die "$repo: the clone from $url has no commit ${PIN[$repo]} (the pin in lib.sh)"
    else
      missing+=("$repo")
      continue
    fi
  fi
  git -C "$dir" rev-parse --git-dir >/dev/null 2>&1 || die "$dir is not a git clone of $repo"
  head=$(git -C "$dir" rev-parse HEAD)
  if [[ $head != "${PIN[$repo]}" ]]; then
    if git -C "$dir" cat-file -e "${PIN[$repo]}^{commit}" 2>/dev/null; then
      fix="git -C $dir checkout --detach ${PIN[$repo]}"
    else
      fix="git -C $dir fetch origin && git -C $dir checkout --detach ${PIN[$repo]}   (the clone lacks the pinned commit)"
    fi
    if [[ ${PERSEUS_CONFORMANCE_UNPINNED:-0} == 1 ]]; then
      say "WARNING: $repo is at $head, not at its pin ${PIN[$repo]}; using it (PERSEUS_CONFORMANCE_UNPINNED=1)"
      NOTE[$repo]="NOT THE PIN ${PIN[$repo]}"
    else
      die "$repo: $dir has $head checked out, not the pinned commit ${PIN[$repo]}; run: $fix"
    fi
  fi
  COMMIT[$repo]=$head
done
if [[ ${#missing[@]} -gt 0 ]]; then
  msg="missing clones in $PERSEUS_CONFORMANCE_SOURCES (set PERSEUS_CONFORMANCE_SOURCES to your directory of clones, or run setup.sh --clone):"
  for repo in "${missing[@]}"; do
    msg+=$'\n'"  git clone $PERSEUS_CONFORMANCE_GIT_BASE/$repo $(clone_dir "$repo") && git -C $(clone_dir "$repo") checkout --detach ${PIN[$repo]}"
  done
  die "$msg"
fi

mkdir -p "$PERSEUS_CONFORMANCE_STATE/tarballs" "$PERSEUS_CONFORMANCE_STATE/deps" "$PERSEUS_CONFORMANCE_STATE/suites"
sources="$PERSEUS_CONFORMANCE_STATE/SOURCES.txt"
: >"$sources.new"

record() { # repo role
  local date
  date=$(git -C "$(clone_dir "$1")" log -1 --format=%cI HEAD)
  printf '%-45s %s %s %s%s\n' "$1" "${COMMIT[$1]}" "$date" "$2" "${NOTE[$1]:+ (${NOTE[$1]})}" >>"$sources.new"
}

export_clone() { # repo dest
  rm -rf "$2"
  mkdir -p "$2"
  git -C "$(clone_dir "$1")" archive HEAD | tar -x -C "$2"
}

# -- 1. local tarballs for the GitHub-hosted dependencies --------------------------------------
declare -A TARBALL=()
for spec in "${!GITHUB_DEP_REPO[@]}"; do
  repo=${GITHUB_DEP_REPO[$spec]}
  [[ -n ${NEEDED[$repo]:-} ]] || continue
  src="$PERSEUS_CONFORMANCE_STATE/deps/${repo/\//+}"
  export_clone "$repo" "$src"
  # npm pack honours the package's "files" list; none of these packages has pack-time scripts.
  name=$(cd "$src" && npm pack --silent --ignore-scripts --pack-destination "$PERSEUS_CONFORMANCE_STATE/tarballs" | tail -n1)
  tarball="$PERSEUS_CONFORMANCE_STATE/tarballs/${repo/\//+}-${COMMIT[$repo]:0:12}.tgz"
  mv -f "$PERSEUS_CONFORMANCE_STATE/tarballs/$name" "$tarball"
  TARBALL[$spec]=$tarball
  record "$repo" "dependency -> $(basename "$tarball")"
done

# -- 2. the suites ---------------------------------------------------------------------------
# Replace each `github:` spec in dependencies/devDependencies with file:<tarball>; fail on any other
# git/GitHub spec so a new transitive one is noticed instead of resolving an unpinned branch.
rewrite_package_json() { # suite_dir
  local map=""
  for spec in "${!TARBALL[@]}"; do map+="$spec=${TARBALL[$spec]}"$'\n'; done
  TARBALL_MAP="$map" node - "$1/package.json" <<'EOF'
const fs = require('node:fs');
const file = process.argv[2];
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
const map = new Map(process.env.TARBALL_MAP.trim().split('\n').filter(Boolean).map(l => {
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
        'pin that repository in lib.sh (PIN, GITHUB_DEP_REPO, repos_for_suite)');
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
  say "$suite: exporting $repo @ ${COMMIT[$repo]:0:12}"
  export_clone "$repo" "$dir"
  record "$repo" "suite"
  if [[ $suite == vc-di-ecdsa-test-suite ]]; then
    export_clone "$ECDSA_VECTORS_REPO" "$dir/tests/input/vc-di-ecdsa"
    record "$ECDSA_VECTORS_REPO" "test vectors -> $suite/tests/input/vc-di-ecdsa"
  fi
  rewrite_package_json "$dir" || die "$suite: cannot rewrite its package.json"
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

# keep the records of repositories not set up this time
if [[ -f $sources ]]; then
  while read -r repo rest; do
    grep -q "^$repo " "$sources.new" || printf '%-45s %s\n' "$repo" "$rest" >>"$sources.new"
  done <"$sources"
fi
sort -u -o "$sources" "$sources.new" && rm -f "$sources.new"
say "done; sources:"
cat "$sources" >&2
