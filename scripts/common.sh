# Shared settings for FaceScope's developer scripts. Sourced, not run.
# shellcheck shell=bash
FS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Everything the scripts install or start lives here (git ignores it).
FS_STATE="${FACESCOPE_STATE_DIR:-$FS_ROOT/.services}"
FS_VENV="$FS_STATE/venv"
# Loopback ports of our own, so a Redis or Triton a user already runs is never touched.
FS_REDIS_PORT="${FACESCOPE_DEV_REDIS_PORT:-16379}"
FS_TRITON_HTTP_PORT="${FACESCOPE_DEV_TRITON_PORT:-18000}"
FS_TRITON_GRPC_PORT="$((FS_TRITON_HTTP_PORT + 1))"
FS_TRITON_METRICS_PORT="$((FS_TRITON_HTTP_PORT + 2))"
# The machine's Debian architecture and its multiarch library folder (libssl1.1 is unpacked there).
FS_DEB_ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
case "$FS_DEB_ARCH" in
  amd64) FS_MULTIARCH=x86_64-linux-gnu ;;
  arm64) FS_MULTIARCH=aarch64-linux-gnu ;;
  *) FS_MULTIARCH="$(uname -m)-linux-gnu" ;;
esac
FS_SSL_LIB="$FS_STATE/libssl1.1/usr/lib/$FS_MULTIARCH"
FS_REDIS_URL="redis://127.0.0.1:$FS_REDIS_PORT/0"
FS_TRITON_URL="127.0.0.1:$FS_TRITON_HTTP_PORT"

fs_log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
fs_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

fs_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Waits until a command succeeds, polling; fails after $1 seconds.
fs_wait_for() {
  local limit="$1"; shift
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
