#!/usr/bin/env bash
# Runs FaceScope's benchmarks and prints their tables (markdown on stdout, progress on stderr).
#   scripts/bench.sh          both benchmarks
#   scripts/bench.sh store    the store: BENCH_DOCS documents (default 100000, ~3 minutes)
#   scripts/bench.sh detect   detection: FaceScope vs the Python client, preprocessing vs the bare
#                             decode, vs what Triton sustains, HTTP vs shared memory, peak RSS of
#                             `facescope detect` over 100 and 1,000 files (~5-8 minutes;
#                             BENCH_QUICK=1: smaller counts, under a minute)
#   scripts/bench.sh phone    12-megapixel JPEGs: client CPU vs the Python client, decode CPU per
#                             DCT scale, accuracy against full-size decoding (~3 minutes)
#   scripts/bench.sh queue    the detection queue: 1, 2, 4 workers against one and two Triton
#                             servers (a second CPU backend is started on port 18100 for the run
#                             and stopped after; BENCH_TRITON_SECOND=none: one server only)
# Installs what is missing and starts the local services (scripts/setup.sh, scripts/services.sh),
# then builds in release mode into .build-bench (a scratch path of its own, so it never waits on
# another build's lock). Other knobs: BENCH_ROUNDS, BENCH_IMAGES_PER_ROUND, BENCH_CONCURRENCY,
# BENCH_RSS_FILES (e.g. 100,1000), BENCH_IMAGES (colon-separated files or folders).
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$FS_ROOT"

what="${1:-all}"
case "$what" in
  all | store | detect | phone | queue) ;;
  -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
  *) fs_die "unknown benchmark: $what (store, detect, phone, queue or nothing for store and detect)" ;;
esac

scripts/setup.sh
if [ "$what" = all ] || [ "$what" = store ]; then scripts/services.sh start redis; fi
if [ "$what" != store ]; then scripts/services.sh start triton; fi

# A source edited while the build runs fails it ("modified during the build"): try again.
build() {
  local attempt
  for attempt in 1 2 3; do
    swift build -c release --scratch-path .build-bench --product "$1" && return 0
    fs_log "building $1 failed (attempt $attempt)"
    sleep 5
  done
  fs_die "cannot build $1"
}
fs_log "building (release, .build-bench)"
build facescope-bench
if [ "$what" = all ] || [ "$what" = detect ] || [ "$what" = queue ]; then build facescope; fi

bench="$FS_ROOT/.build-bench/release/facescope-bench"
# The knobs above, as facescope-bench's flags (facescope-bench SUBCOMMAND --help lists them all).
services=(--redis-url "$FS_REDIS_URL" --triton-url "$FS_TRITON_URL")
detect_flags=("${services[@]}" --python "$FS_VENV/bin/python" --facescope "$FS_ROOT/.build-bench/release/facescope")
[ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ] && detect_flags+=(--quick)
[ -n "${BENCH_ROUNDS:-}" ] && detect_flags+=(--rounds "$BENCH_ROUNDS")
[ -n "${BENCH_IMAGES_PER_ROUND:-}" ] && detect_flags+=(--images-per-round "$BENCH_IMAGES_PER_ROUND")
[ -n "${BENCH_CONCURRENCY:-}" ] && detect_flags+=(--concurrency "$BENCH_CONCURRENCY")
[ -n "${BENCH_RSS_FILES:-}" ] && detect_flags+=(--rss-files "$BENCH_RSS_FILES")
if [ -n "${BENCH_IMAGES:-}" ]; then
  IFS=: read -r -a images <<<"$BENCH_IMAGES"
  for image in "${images[@]}"; do detect_flags+=(--images "$image"); done
fi

echo "FaceScope benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs: $(lscpu | sed -n 's/^Model name: *//p')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$what" = all ] || [ "$what" = store ]; then
  echo
  fs_log "store benchmark (BENCH_DOCS=${BENCH_DOCS:-100000})"
  "$bench" store "${services[@]}" --docs "${BENCH_DOCS:-100000}"
fi
if [ "$what" = all ] || [ "$what" = detect ]; then
  echo
  fs_log "detection benchmark${BENCH_QUICK:+ (BENCH_QUICK)}"
  "$bench" detect "${detect_flags[@]}"
fi
if [ "$what" = phone ]; then
  echo
  fs_log "phone-photo benchmark (BENCH_ROUNDS=${BENCH_ROUNDS:-8})"
  "$bench" phone "${detect_flags[@]}"
fi
if [ "$what" = queue ]; then
  second_pid=""
  if [ "${BENCH_TRITON_SECOND:-}" = none ]; then
    unset BENCH_TRITON_SECOND
  elif [ -z "${BENCH_TRITON_SECOND:-}" ]; then
    fs_log "starting a second Triton CPU backend on 127.0.0.1:18100"
    setsid "$FS_VENV/bin/python" "$FS_ROOT/backends/cpu/serve.py" --http-port 18100 --grpc-port 18101 \
      --metrics-port 18102 >"$FS_STATE/triton-bench.log" 2>&1 </dev/null &
    second_pid=$!
    trap '[ -n "$second_pid" ] && kill -TERM -- "-$second_pid" 2>/dev/null || true' EXIT
    second_ready() { curl -sf http://127.0.0.1:18100/v2/health/ready >/dev/null; }
    fs_wait_for 180 second_ready || fs_die "the second Triton did not start; see $FS_STATE/triton-bench.log"
    BENCH_TRITON_SECOND=127.0.0.1:18100
  fi
  queue_flags=("${services[@]}" --facescope "$FS_ROOT/.build-bench/release/facescope")
  [ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ] && queue_flags+=(--quick)
  [ -n "${BENCH_ROUNDS:-}" ] && queue_flags+=(--rounds "$BENCH_ROUNDS")
  [ -n "${BENCH_TRITON_SECOND:-}" ] && queue_flags+=(--second-triton "$BENCH_TRITON_SECOND")
  echo
  fs_log "queue benchmark${BENCH_QUICK:+ (BENCH_QUICK)}"
  "$bench" queue "${queue_flags[@]}"
fi
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
