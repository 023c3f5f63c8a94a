#!/usr/bin/env bash
# Idempotent setup: .venv (Python 3.11) with the pip ROS 2 wheels, the project's pinned
# dependencies, vlm_ros_interfaces built with CMake into the venv, and vlm_ros installed
# editable. Each step re-runs only when its inputs changed (stamp files hold their hashes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
PY=${PYTHON:-python3.11}
log() { printf '[setup] %s\n' "$*"; }
stamp_ok() { [ -f "$VENV/.stamp-$1" ] && [ "$(cat "$VENV/.stamp-$1")" = "$2" ]; }
stamp_set() { echo "$2" > "$VENV/.stamp-$1"; }
# pip warns once per package about this machine's extra local index folders; keep real messages.
quiet_pip() { grep -v "^WARNING: Location 'file://" || true; }
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

if [ ! -x "$VENV/bin/python" ]; then
  command -v "$PY" >/dev/null || { echo "Python 3.11 is required (the ROS 2 Kilted wheels are cp311): set PYTHON=/path/to/python3.11" >&2; exit 1; }
  log "creating $VENV"
  "$PY" -m venv "$VENV"
fi
export PATH=$VENV/bin:$PATH

# System packages: espeak-ng synthesises speech for the speech tests; portaudio backs sounddevice.
# flite, festival and MBROLA (through espeak-ng's mb-* voices) give the speech evaluation voices from
# other engines; MBROLA is in Debian's contrib component and its voices in non-free, both enabled here
# when the voices have no candidate (a stock Debian image lists main only).
apt_pkgs=(espeak-ng libportaudio2 sox flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts
          mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1)
contrib=/etc/apt/sources.list.d/vlm-ros-debian-contrib.sources
if [ "$(id -u)" = 0 ] && ! dpkg -s mbrola-us1 >/dev/null 2>&1 && [ -f /etc/debian_version ] \
   && ! apt-cache policy mbrola-us1 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  mirror=$(grep -hoE '^URIs: *[^ ]+/debian$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | cut -d' ' -f2)
  [ -n "$mirror" ] && printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: contrib non-free\nSigned-By: %s\n' \
    "$mirror" "$codename" /usr/share/keyrings/debian-archive-keyring.gpg > "$contrib"
fi
missing=()
for p in "${apt_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "apt-get install ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null 2>&1 \
      || log "warning: could not install ${missing[*]}; speech tests will be skipped"
  else
    log "warning: missing ${missing[*]} (install with apt-get); speech tests will be skipped"
  fi
fi

reqs_hash=$(hash_of requirements/ros.txt requirements/python.txt)
if ! stamp_ok reqs "$reqs_hash"; then
  log "installing pinned Python packages"
  python -m pip install -q --disable-pip-version-check -r requirements/ros.txt -r requirements/python.txt 2>&1 | quiet_pip
  python tools/fix_ros_cmake_paths.py "$VENV"
  stamp_set reqs "$reqs_hash"
  rm -f "$VENV/.stamp-interfaces" "$VENV/.stamp-tf2-msgs"
fi

# Optional serve extra (Ray Serve, for vlm-ros serve and its tests): VLM_ROS_SKIP_SERVE=1 skips it.
serve_hash=$(hash_of requirements/serve.txt)
if [ "${VLM_ROS_SKIP_SERVE:-0}" != 1 ] && ! stamp_ok serve "$serve_hash"; then
  log "installing the serve extra (Ray Serve, about 1 min)"
  python -m pip install -q --disable-pip-version-check -r requirements/serve.txt 2>&1 | quiet_pip
  stamp_set serve "$serve_hash"
fi


# Interface packages built with CMake into the venv: ours, and a wire-compatible tf2_msgs (not on PyPI;
# compat/COLCON_IGNORE keeps it out of a colcon workspace, where the real tf2_msgs comes from ROS).
build_interfaces() {  # $1: stamp name, $2: package source folder
  local name=$1 src=$2 pkg h
  pkg=$(basename "$src")
  h=$(hash_of $(find "$src" -type f \( -name '*.msg' -o -name '*.srv' -o -name '*.action' -o -name CMakeLists.txt -o -name package.xml \) | sort))
  stamp_ok "$name" "$h" && return 0
  log "building $pkg into the venv (about 30 s)"
  export AMENT_PREFIX_PATH=$VENV CMAKE_PREFIX_PATH=$VENV
  rm -rf "build/$pkg" && mkdir -p build
  cmake -S "$src" -B "build/$pkg" -DCMAKE_INSTALL_PREFIX="$VENV" \
    -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release >"build/$pkg-configure.log" 2>&1 \
    || { tail -40 "build/$pkg-configure.log"; exit 1; }
  cmake --build "build/$pkg" -j"$(nproc)" >"build/$pkg-build.log" 2>&1 || { tail -40 "build/$pkg-build.log"; exit 1; }
  cmake --install "build/$pkg" >"build/$pkg-install.log" 2>&1 || { tail -40 "build/$pkg-install.log"; exit 1; }
  stamp_set "$name" "$h"
}
build_interfaces interfaces vlm_ros_interfaces
build_interfaces tf2-msgs compat/tf2_msgs

pkg_hash=$(hash_of setup.py setup.cfg)
if ! stamp_ok package "$pkg_hash"; then
  log "installing vlm_ros (editable)"
  python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>&1 | quiet_pip
  stamp_set package "$pkg_hash"
fi
log "ready: $VENV"
