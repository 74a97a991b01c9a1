#!/usr/bin/env bash
# Installs what the end-to-end tests need: Debian's chromium and tests/e2e's npm packages
# (the Agents Playground, playwright-core). Safe to run again; does nothing when up to date.
# Without node/npm it says so and exits 0: the e2e tests then skip themselves.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
e2e_dir="$repo_root/tests/e2e"
chromium="${QALOOP_E2E_CHROMIUM:-/usr/bin/chromium}"
min_node_major=20 # playwright-core 1.65 needs Node 20+

say() { printf 'install-e2e: %s\n' "$*"; }

as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    say "need root to run: $*"
    return 1
  fi
}

install_chromium() {
  if [[ -x "$chromium" ]]; then
    say "chromium present: $("$chromium" --version 2>/dev/null || echo "$chromium")"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no $chromium and no apt-get; install Chromium and set QALOOP_E2E_CHROMIUM to its path"
    return 1
  fi
  say "installing Debian chromium"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
  [[ -x "$chromium" ]] || { say "chromium installed but $chromium is missing"; return 1; }
}

# A stamp of package.json + package-lock.json inside node_modules says what was installed.
packages_stamp() {
  cat "$e2e_dir/package.json" "$e2e_dir/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1
}

install_node_packages() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    say "node/npm not found; skipping npm packages (e2e tests will be skipped)"
    return 0
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if ((major < min_node_major)); then
    say "node $(node --version) is older than $min_node_major; skipping npm packages (e2e tests will be skipped)"
    return 0
  fi
  local stamp_file="$e2e_dir/node_modules/.qaloop-e2e-stamp"
  local want
  want="$(packages_stamp)"
  if [[ -f "$stamp_file" && "$(cat "$stamp_file")" == "$want" ]]; then
    say "npm packages up to date"
    return 0
  fi
  cd "$e2e_dir"
  if [[ -f package-lock.json ]]; then
    say "npm ci in tests/e2e"
    npm ci --no-audit --no-fund
  else
    say "npm install in tests/e2e (no package-lock.json yet: commit the one it writes)"
    npm install --no-audit --no-fund
    want="$(packages_stamp)"
  fi
  printf '%s\n' "$want" >"$stamp_file"
}

install_chromium
install_node_packages
say "done"
