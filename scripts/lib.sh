# shellcheck shell=bash
# Shared by scripts/setup, scripts/run and scripts/test: paths and small helpers.
# Sourced, not executed.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Tools the project installs outside the system package manager (npm's binaryen, pip's zizmor).
TOOLS_DIR=${SRE_TOOLS_DIR:-$ROOT/.tools}
export PATH="$TOOLS_DIR/node_modules/.bin:$TOOLS_DIR/venv/bin:$HOME/.cargo/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The wasm-bindgen version Cargo.lock resolved; wasm-bindgen-cli must match it exactly.
locked_version() {
  awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}
