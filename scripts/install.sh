#!/bin/sh
# Installs sre-check, the SRE Challenge's checker, from the challenge site:
#
#   curl -fsSL https://<challenge site>/install.sh | sh
#
# Picks the build for this OS and CPU, verifies its SHA-256 against the site's SHA256SUMS before
# unpacking anything, and installs it into ~/.local/bin (or $SRE_CHECK_INSTALL_DIR).
# Environment:
#   SRE_CHECK_INSTALL_DIR  where to put sre-check (default: ~/.local/bin)
#   SRE_CHECK_SITE         the challenge site to download from (default: the site that served
#                          this script, which sre-intake writes below)
# Exit status: 0 installed, 1 not installed (the message says why; nothing is left behind).
set -eu

# sre-intake replaces this with its public address when it serves the script.
SERVED_BY='@SITE_URL@'

SUPPORTED="Linux x86_64, Linux arm64 (aarch64), macOS Intel, macOS Apple silicon; on Windows, run this in WSL 2"

fail() {
  printf 'sre-check install: %s\n' "$*" >&2
  exit 1
}

say() {
  printf '%s\n' "$*"
}

site=${SRE_CHECK_SITE:-$SERVED_BY}
case $site in
  http://*|https://*) site=${site%/} ;;
  *) fail "this copy of install.sh does not know its challenge site: run it as SRE_CHECK_SITE=https://<challenge site> sh install.sh" ;;
esac

os=$(uname -s)
arch=$(uname -m)
case $os in
  Linux) os_part=unknown-linux-musl ;;
  Darwin)
    os_part=apple-darwin
    # A shell under Rosetta reports x86_64 on Apple silicon: the native build is the better one.
    if [ "$arch" = x86_64 ] && [ "$(sysctl -n hw.optional.arm64 2>/dev/null || true)" = 1 ]; then
      arch=arm64
    fi
    ;;
  *) fail "there is no sre-check build for $os. Supported: $SUPPORTED." ;;
esac
case $arch in
  x86_64|amd64) arch_part=x86_64 ;;
  aarch64|arm64) arch_part=aarch64 ;;
  *) fail "there is no sre-check build for $os on $arch. Supported: $SUPPORTED." ;;
esac
target=$arch_part-$os_part

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  fail "neither curl nor wget is installed: install one of them (e.g. sudo apt-get install curl) and run this again"
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  fail "found neither sha256sum nor shasum to verify the download: install coreutils and run this again"
fi

[ -n "${HOME:-}" ] || [ -n "${SRE_CHECK_INSTALL_DIR:-}" ] || fail "HOME is not set: set SRE_CHECK_INSTALL_DIR to the folder to install into"
dir=${SRE_CHECK_INSTALL_DIR:-$HOME/.local/bin}

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t sre-check)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

fetch "$site/download/SHA256SUMS" "$tmp/SHA256SUMS" ||
  fail "cannot download $site/download/SHA256SUMS: are you online, and is $site the challenge site?"
line=$(grep " sre-check-[^ ]*-$target\.tar\.gz\$" "$tmp/SHA256SUMS" || true)
[ -n "$line" ] || fail "$site publishes no sre-check build for $target. Supported: $SUPPORTED."
expected=${line%% *}
file=${line##* }
file=${file#\*}

say "Downloading $file from $site"
fetch "$site/download/$file" "$tmp/$file" || fail "cannot download $site/download/$file: are you online?"
actual=$(sha256 "$tmp/$file")
[ "$actual" = "$expected" ] ||
  fail "checksum mismatch for $file: SHA256SUMS says $expected, the download is $actual. The file was damaged or altered on the way; nothing was installed. Run the installer again; if this persists, tell your contact at the challenge."

mkdir "$tmp/unpacked"
tar -xzf "$tmp/$file" -C "$tmp/unpacked" sre-check || fail "cannot unpack $file"
mkdir -p "$dir" || fail "cannot create $dir: set SRE_CHECK_INSTALL_DIR to a folder you can write to"
# Copied next to the old binary, then renamed over it: a running sre-check keeps working, and an
# interrupted install leaves either the old binary or the new one.
cp "$tmp/unpacked/sre-check" "$dir/.sre-check.new.$$" || fail "cannot write into $dir: set SRE_CHECK_INSTALL_DIR to a folder you can write to"
chmod 755 "$dir/.sre-check.new.$$"
mv -f "$dir/.sre-check.new.$$" "$dir/sre-check" || { rm -f "$dir/.sre-check.new.$$"; fail "cannot write $dir/sre-check"; }
version=$("$dir/sre-check" --version) || fail "installed $dir/sre-check, but it does not run on this machine"

say "Installed $version as $dir/sre-check"
case ":${PATH:-}:" in
  *":$dir:"*) run=sre-check ;;
  *)
    run="$dir/sre-check"
    say ""
    say "warning: $dir is not on your PATH. Add this line to your shell's profile (~/.profile, ~/.bashrc or ~/.zshrc), then open a new terminal:"
    say "  export PATH=\"$dir:\$PATH\""
    ;;
esac
say ""
say "Next:"
say "  $run doctor                 # is Docker ready?"
say "  $run init sre-challenge     # the challenge's files, in a new folder"
say "  cd sre-challenge && $run run"
