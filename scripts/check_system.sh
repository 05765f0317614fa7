#!/usr/bin/env bash
# Checks what RadLabel needs from the system before the venv is built (a Python 3.10-3.12 with
# venv, and the Debian libraries that Qt, VTK and Paddle load); says how to install what is missing.
# `check_system.sh gui`, and any run where a display is set ($DISPLAY or $WAYLAND_DISPLAY), also
# checks what a window on a desktop needs (X11/xcb libraries, a display): with the venv built, by
# `ldd` on the venv's own Qt xcb plugin (viewer/qt/platform_check.py maps libraries to packages).
set -u
PY="${PY:-python3}"
mode="${1:-base}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VPY="${VPY:-$ROOT/.venv/bin/python}"

if ! command -v "$PY" >/dev/null 2>&1; then
  echo "RadLabel needs Python 3.10-3.12: '$PY' was not found (sudo apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(not ((3, 10) <= sys.version_info[:2] <= (3, 12)))'; then
  echo "RadLabel needs Python 3.10-3.12 (PaddlePaddle and PyQt5 wheels); '$PY' is $("$PY" -V 2>&1)." >&2
  echo "Point the Makefile at another interpreter, e.g.: make test PY=python3.11" >&2
  exit 1
fi

if [ "$mode" = gui ] && [ "${QT_QPA_PLATFORM:-}" != offscreen ] \
  && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display to open the window on (DISPLAY is not set). Run it on a desktop, under" >&2
  echo "xvfb-run -a make run, or headless with QT_QPA_PLATFORM=offscreen make run." >&2
  exit 1
fi

ldconfig_cmd=$(command -v ldconfig || echo /sbin/ldconfig)  # /sbin is not on a user's PATH
libs=$("$ldconfig_cmd" -p 2>/dev/null)
have_lib() { grep -qF "$1" <<<"$libs"; }
missing=()
need() { have_lib "$1" || missing+=("$2"); }

need libGL.so.1 libgl1               # VTK, Qt
need libEGL.so.1 libegl1             # VTK off-screen rendering
need libxkbcommon.so.0 libxkbcommon0 # Qt
need libfontconfig.so.1 libfontconfig1
need libdbus-1.so.3 libdbus-1-3
need libgomp.so.1 libgomp1           # Paddle (OpenMP)
# Debian splits venv's pip bootstrap into python3-venv: `import venv` works without it.
"$PY" -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)

gui_checks=no
if [ "${QT_QPA_PLATFORM:-}" != offscreen ]; then
  if [ "$mode" = gui ] || [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    gui_checks=yes
  fi
fi
if [ "$gui_checks" = yes ] && [ -x "$VPY" ] \
  && PYTHONPATH="$ROOT" "$VPY" -c 'import PyQt5.QtCore' >/dev/null 2>&1; then
  # What the venv's own xcb plugin cannot load (ldd), mapped to Debian packages.
  read -r -a xcb_missing <<<"$(PYTHONPATH="$ROOT" "$VPY" -m viewer.qt.platform_check 2>/dev/null)"
  missing+=("${xcb_missing[@]}")
elif [ "$gui_checks" = yes ]; then
  # No venv yet: Qt's xcb platform plugin (the window on an X11 or XWayland desktop).
  need libxcb-icccm.so.4 libxcb-icccm4
  need libxcb-keysyms.so.1 libxcb-keysyms1
  need libxcb-xinerama.so.0 libxcb-xinerama0
  need libxcb-image.so.0 libxcb-image0
  need libxcb-randr.so.0 libxcb-randr0
  need libxcb-render-util.so.0 libxcb-render-util0
  need libxcb-shape.so.0 libxcb-shape0
  need libxkbcommon-x11.so.0 libxkbcommon-x11-0
fi

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

# The PACS tests run against a private Orthanc with its DICOMweb plugin (Debian packages). They
# are for the tests only: installed when running as root (CI), else the PACS tests skip.
optional=()
command -v Orthanc >/dev/null 2>&1 || [ -x /usr/sbin/Orthanc ] || optional+=(orthanc)
ls /usr/share/orthanc/plugins/libOrthancDicomWeb.so /usr/lib/orthanc/libOrthancDicomWeb.so* \
  >/dev/null 2>&1 || optional+=(orthanc-dicomweb)
if [ "$mode" = base ] && [ ${#optional[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${optional[*]} for the PACS tests (running as root)..." >&2
    # a policy-rc.d that answers 101 keeps the package from starting the system Orthanc
    # service: the tests start their own on a free port
    policy=/usr/sbin/policy-rc.d; added_policy=0
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
    fi
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${optional[@]}"; } \
      || echo "apt-get could not install ${optional[*]}: the PACS tests will be skipped" >&2
    [ "$added_policy" = 1 ] && rm -f "$policy"
  else
    echo "Note: the PACS tests need ${optional[*]} and will be skipped" \
      "(sudo apt-get install ${optional[*]})" >&2
  fi
fi

exit 0
