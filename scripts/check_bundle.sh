#!/usr/bin/env bash
# Check of the PyInstaller bundle (run by `make bundle`): versions and licences, THIRD_PARTY.md,
# the CLI on the demo study (info, screenshot, STL meshes, the classic engine), the DICOM codecs
# when ../shared/data is there, then the application's own self-test (window, 2D/3D rendering, a 3D
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
# paths the self-test does not take: scikit-image's marching cubes (meshes) and watershed (classic)
"$app" export --format stl --image "$demo" --label "$label" --out "$tmp/stl" >/dev/null
test -s "$tmp/stl/5_liver.stl" || { echo "bundle: no STL mesh written" >&2; exit 1; }
"$app" evaluate --image "$demo" --label "$label" --values 5 --clicks 2 --engine classic \
  | grep -q "^mean of 1 targets" || { echo "bundle: the classic engine failed" >&2; exit 1; }
# DICOM codecs: the nine transfer syntaxes of one series (raw, RLE, JPEG lossless, JPEG-LS,
# JPEG 2000) must convert to the same NIfTI bytes as the uncompressed file
ts=../shared/data/dicom/transfer_syntaxes/In
if [ -d "$ts" ]; then
  for i in 1 2 3 4 5 6 7 8 9; do "$app" convert "$ts/$i.dcm" "$tmp/ts$i.nii.gz" >/dev/null; done
  for i in 2 3 4 5 6 7 8 9; do
    cmp -s "$tmp/ts1.nii.gz" "$tmp/ts$i.nii.gz" || { echo "bundle: $ts/$i.dcm decodes differently" >&2; exit 1; }
  done
  echo "DICOM codecs: 9 transfer syntaxes decode identically"
fi
internal="$(dirname "$app")/_internal"
grep -q "^| vtk | " "$internal/THIRD_PARTY.md" || { echo "bundle: no THIRD_PARTY.md" >&2; exit 1; }
"$app" --self-test || { echo "bundle: the self-test failed" >&2; exit 1; }
echo "bundle OK: $(du -sh "$(dirname "$app")" | cut -f1) in $(dirname "$app")"
