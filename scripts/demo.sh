#!/usr/bin/env bash
# FaceScope's demo: installs what is missing, starts Redis Stack and the Triton CPU backend on
# loopback, detects faces in the bundled sample photos and opens the terminal browser on them.
# Quick when run again (photos already stored are skipped). Stop the services with
# scripts/services.sh stop.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$FS_ROOT"

scripts/setup.sh
scripts/services.sh start redis
scripts/services.sh start triton

fs_log "building facescope"
swift build --product facescope 2>&1 | grep -vE '^(warning: prohibited flag|Building|\[)' || true
BIN="$(swift build --show-bin-path)/facescope"
[ -x "$BIN" ] || fs_die "the build did not produce $BIN"

export REDIS_OM_URL="$FS_REDIS_URL" TRITON_SERVER_URL="$FS_TRITON_URL" IMAGES_DIR="$FS_ROOT/samples"
fs_log "detecting faces in samples/"
"$BIN" detect "$FS_ROOT/samples"

if [ -t 0 ] && [ -t 1 ]; then
  fs_log "opening the browser (q quits, ? shows the keys)"
  exec "$BIN" "$@"
fi
"$BIN" list
