#!/usr/bin/env bash
# The terminal browser's benchmark over 100,000 documents: launch to first screen, search
# keystroke to updated list, 12-megapixel preview, memory while scrolling. Builds the release
# binary, starts Redis Stack, seeds the documents once under their own key prefix (kept for the
# next run; scripts/bench-tui.sh --clean deletes them) and prints a table.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$FS_ROOT"

PREFIX="${FACESCOPE_BENCH_TUI_PREFIX:-benchtui:utils.Model:}"
SCRATCH="${FACESCOPE_BENCH_SCRATCH:-.build-tui}"

if [ "${1:-}" = "--clean" ]; then
  "$FS_VENV/bin/python" - "$FS_REDIS_URL" "$PREFIX" <<'EOF'
import sys, redis
r = redis.Redis.from_url(sys.argv[1]); p = sys.argv[2]
for name in (f"{p}index", f"facescope:{p}index"):
    try: r.execute_command("FT.DROPINDEX", name, "DD")
    except redis.ResponseError: pass
for key in r.scan_iter(match=f"*{p}*"): r.delete(key)
EOF
  rm -rf "$FS_STATE/bench-tui"
  fs_log "deleted the benchmark's documents and images"
  exit 0
fi

command -v tmux >/dev/null || fs_die "the benchmark drives the browser in tmux: install tmux"
scripts/services.sh start redis
fs_log "building the release binary"
swift build -c release --scratch-path "$SCRATCH" --product facescope
"$FS_VENV/bin/python" scripts/bench_tui.py --bin "$FS_ROOT/$SCRATCH/release/facescope" \
  --redis-url "$FS_REDIS_URL" --prefix "$PREFIX" --images "$FS_STATE/bench-tui" "$@"
