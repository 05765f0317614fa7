#!/usr/bin/env bash
# Regenerates every screenshot of the README and docs/guide.md with the application's own
# screenshot code, headless, on the bundled demo study (run from the repository root; the PACS
# screenshot needs Orthanc and is made by docs/screenshots/pacs_search_screenshot.py).
set -euo pipefail
PYTHON="${PYTHON:-.venv/bin/python}"
export QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export RADLABEL_DATA_DIR="$(mktemp -d)"  # no user settings or recent files in the pictures
trap 'rm -rf "$RADLABEL_DATA_DIR"' EXIT
demo=resources/demo/ct_abdomen_demo.nii.gz
label=resources/demo/ct_abdomen_demo_label.nii.gz
out=docs/screenshots
"$PYTHON" main.py screenshot "$demo" --label "$label" --view all --size 400 --out "$out/demo_all.png"
"$PYTHON" main.py screenshot "$demo" --label "$label" --view axial --out "$out/demo_axial.png"
"$PYTHON" main.py screenshot "$demo" --label "$label" --view coronal --out "$out/demo_coronal.png"
"$PYTHON" main.py screenshot "$demo" --label "$label" --view 3d --volume-preset Off \
    --out "$out/demo_3d.png"
"$PYTHON" docs/screenshots/window_screenshot.py --size 1280x800 --out "$out/window.png"
"$PYTHON" docs/screenshots/guide_screenshots.py
ls -l "$out"/*.png
