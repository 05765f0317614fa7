#!/usr/bin/env bash
# Check of the PyInstaller bundle (run by `make bundle`): versions and licences, THIRD_PARTY.md,
# the CLI on the demo study, then the application's own self-test (window, 2D/3D rendering, a 3D
# drag, one Paddle click, fine-tuning steps, a label saved and read back).
set -euo pipefail
app="${1:-dist/radlabel/radlabel}"
demo=resources/demo/ct_abdomen_demo.nii.gz
label=resources/demo/ct_abdomen_demo_label.nii.gz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export RADLABEL_DATA_DIR="$tmp" QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

"$app" --version | head -1
"$app" --version | grep -q "^VTK .*(BSD)" || { echo "bundle: --version lacks licences" >&2; exit 1; }
"$app" info "$demo" | grep -q "size         \[122, 101, 30\]" || { echo "bundle: info on the demo failed" >&2; exit 1; }
"$app" screenshot "$demo" --label "$label" --view axial --size 200 --out "$tmp/shot.png" >/dev/null
test -s "$tmp/shot.png" || { echo "bundle: no screenshot written" >&2; exit 1; }
internal="$(dirname "$app")/_internal"
grep -q "^| vtk | " "$internal/THIRD_PARTY.md" || { echo "bundle: no THIRD_PARTY.md" >&2; exit 1; }
"$app" --self-test || { echo "bundle: the self-test failed" >&2; exit 1; }
echo "bundle OK: $(du -sh "$(dirname "$app")" | cut -f1) in $(dirname "$app")"
