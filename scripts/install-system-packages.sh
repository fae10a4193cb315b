#!/usr/bin/env bash
# Install the Debian packages in scripts/system-packages.txt that are missing.
# Needs root and apt-get; elsewhere it says what to install and the tests that need them skip.
set -euo pipefail
cd "$(dirname "$0")"
wanted=$(grep -v '^#' system-packages.txt | xargs)
missing=""
for p in $wanted; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages:$missing" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "note: missing system packages:$missing (install them as root; browser/PDF-font tests skip without them)" >&2
fi
