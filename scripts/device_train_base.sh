#!/usr/bin/env bash
# Train the interactive base model on the GPU device machine with the PyTorch twin.
#
# The one command a session passes to the device tool (docs/gpu_training.md), with
# carry: ["out/twin_pack", "out/twin_check"] (the second is optional):
#
#     bash scripts/device_train_base.sh
#
# It runs in the repository root there; $OUT is the folder whose files come back. Budget: about
# 11 minutes in all, MINUTES (default 8) of them training. Prints the GPU, the twin-vs-Paddle
# difference on that GPU (when out/twin_check was carried), steps/s and the loss curve; writes
# weights.safetensors, checkpoint.safetensors, train_log.json and stdout.txt into $OUT.
# Settings by environment: MINUTES, BATCH, LR, INIT (pack = the shipped weights, '' = from
# scratch), SYNTH_SHARE, WORKERS, SEED, EXTRA (more trainer arguments), PYTHON, DEVICE.
set -euo pipefail

OUT=${OUT:?"set OUT to the folder for the results"}
PACK=${PACK:-out/twin_pack}
MINUTES=${MINUTES:-8}
BATCH=${BATCH:-16}
LR=${LR:-5e-4}
INIT=${INIT-pack}
SYNTH_SHARE=${SYNTH_SHARE:-0}
WORKERS=${WORKERS:-$(($(nproc) - 2))}
SEED=${SEED:-0}
PYTHON=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}  # cpu: a dry run of this script on a machine without a GPU
mkdir -p "$OUT"
exec > >(tee "$OUT/stdout.txt") 2>&1

if [ ! -f "$PACK/pack.json" ]; then
    echo "error: $PACK/pack.json: no training pack (make it with scripts/make_twin_pack.py and carry it)"
    exit 2
fi
DEVICE=$DEVICE "$PYTHON" - <<'EOF'
import os, sys
import torch
if os.environ["DEVICE"] == "cpu":
    print(f"CPU dry run, torch {torch.__version__}", flush=True)
    sys.exit(0)
if not torch.cuda.is_available():
    sys.exit("error: torch sees no GPU on this machine")
p = torch.cuda.get_device_properties(0)
print(f"GPU {p.name}, {p.total_memory / 2**30:.0f} GiB, torch {torch.__version__}, "
      f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}", flush=True)
EOF

if [ "$DEVICE" != cpu ] && [ -f out/twin_check/paddle_out.safetensors ]; then
    # the twin on this GPU against the Paddle network's logits computed on the CPU machine
    "$PYTHON" scripts/check_torch_twin.py torch --dir out/twin_check --device cuda || true
fi

INIT_ARGS=()
[ -n "$INIT" ] && INIT_ARGS=(--init-from "$INIT")
# the budget plus start-up and the final save; the tool's own limit is 600 s a command
timeout $((${MINUTES%.*} * 60 + 90)) "$PYTHON" -m segmentation_core.training.twin.train \
    --pack "$PACK" --out "$OUT" --device "$DEVICE" --minutes "$MINUTES" --batch "$BATCH" \
    --lr "$LR" --workers "$WORKERS" --seed "$SEED" --synth-share "$SYNTH_SHARE" \
    --checkpoint-every-s 120 ${INIT_ARGS[@]+"${INIT_ARGS[@]}"} ${EXTRA:-}

"$PYTHON" - "$OUT/train_log.json" <<'EOF'
import json, sys
log = json.load(open(sys.argv[1]))
h = log["history"]
print(f"{log['steps']} steps in {log['seconds']} s: {log['steps_per_s']} steps/s, "
      f"{log['patches_per_s']} patches/s on {log['device']}; time in {log['timing_s']}")
print("loss curve (step, mean loss of the last 50, val Dice@1, s):")
for row in h[:: max(1, len(h) // 15)] + h[-1:]:
    print("  ", row)
if len(h) < 3:
    print("every step's loss:", log["losses"])
vals = [r for r in h if r[2] is not None]
if vals:
    print("validation Dice@1:", [(r[0], round(r[2], 3)) for r in vals])
EOF
ls -la "$OUT"
