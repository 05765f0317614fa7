#!/usr/bin/env bash
# Smoke test of the PyInstaller bundle (run by `make bundle`): versions, loading the demo study,
# rendering a screenshot off-screen, and one Paddle click when a shipped model is in the bundle.
set -euo pipefail
app="${1:-dist/radlabel/radlabel}"
demo=resources/demo/ct_abdomen_demo.nii.gz
label=resources/demo/ct_abdomen_demo_label.nii.gz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export RADLABEL_DATA_DIR="$tmp" QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

"$app" --version | head -1
"$app" info "$demo" | grep -q "size         \[122, 101, 30\]" || { echo "bundle: info on the demo failed" >&2; exit 1; }
"$app" screenshot "$demo" --label "$label" --view axial --size 200 --out "$tmp/shot.png" >/dev/null
test -s "$tmp/shot.png" || { echo "bundle: no screenshot written" >&2; exit 1; }
internal="$(dirname "$app")/_internal"
if [ -f "$internal/resources/models/base/meta.json" ]; then
  "$app" evaluate --image "$demo" --label "$label" --values 5 --clicks 1 | grep -q "mean of 1 targets" \
    || { echo "bundle: Paddle inference failed" >&2; exit 1; }
  echo "bundle: Paddle click-to-segment ran"
else
  echo "bundle: no shipped model in resources/models/base: Paddle inference not checked"
fi
echo "bundle OK: $(du -sh "$(dirname "$app")" | cut -f1) in $(dirname "$app")"
