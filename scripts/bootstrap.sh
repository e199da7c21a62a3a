#!/bin/sh
# Makes sure Bun and the project's dependencies are installed, then runs the given command with Bun on
# PATH. Needs only Node.js and npm: Bun comes from the npm registry into a user-level tools folder, so no
# root rights are needed. Usage: sh scripts/bootstrap.sh <command> [args...]
set -eu
BUN_VERSION=1.4.5
cd "$(dirname "$0")/.."

tools="${VBATCH_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vbatch/tools}"
have_bun() { command -v bun >/dev/null 2>&1 && bun --version 2>/dev/null | grep -q "^1\.4\."; }

if ! have_bun; then
  PATH="$tools/node_modules/.bin:$PATH"
  export PATH
fi
if ! have_bun; then
  echo "Installing Bun $BUN_VERSION from the npm registry into $tools ..." >&2
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"private":true}' > "$tools/package.json"
  # The package's postinstall picks the platform binary; it is run by hand because npm refuses
  # --allow-scripts in a folder install.
  (cd "$tools" && npm install --no-save --no-audit --no-fund --ignore-scripts "bun@$BUN_VERSION" >&2 \
    && cd node_modules/bun && node install.js >&2)
  have_bun || { echo "Could not install Bun $BUN_VERSION into $tools" >&2; exit 1; }
fi

# Install dependencies when the lockfile changed since the last install.
stamp=node_modules/.vbatch-lock-sha
want=$(sha256sum bun.lock | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  bun install --frozen-lockfile >&2
  echo "$want" > "$stamp"
fi

exec "$@"
