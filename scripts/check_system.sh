#!/usr/bin/env bash
# Checks the Debian packages RadLabel needs before the venv is built; prints how to install what is missing.
set -u
missing=()
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib 'libGL.so.1' || missing+=(libgl1)
have_lib 'libEGL.so.1' || missing+=(libegl1)
have_lib 'libxkbcommon.so.0' || missing+=(libxkbcommon0)
have_lib 'libfontconfig.so.1' || missing+=(libfontconfig1)
have_lib 'libdbus-1.so.3' || missing+=(libdbus-1-3)
have_lib 'libgomp.so.1' || missing+=(libgomp1)
python3 -c 'import venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "RadLabel needs these Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing them with apt-get (running as root)..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" || {
      echo "apt-get failed: install them by hand: sudo apt-get install ${missing[*]}" >&2; exit 1; }
  else
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
