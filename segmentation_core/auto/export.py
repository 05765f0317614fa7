"""Export one trained stage network as a Paddle inference model (static graph + parameters).

The folder gets `model.json` + `model.pdiparams` (what `paddle.jit.save` writes: a JSON graph and
a dense-tensor stream read by Paddle's C++ loader, never unpickled) and is published atomically:
written to a temporary sibling, then renamed into place.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from segmentation_core.model_store import MODEL_PREFIX, swap_into_place


def export_network(net, in_channels: int, out_dir: Path) -> Path:
    """Trace `net` (eval mode: full-resolution logits only) and publish it at `out_dir`."""
    import paddle

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    was_training = net.training
    try:
        net.eval()
        spec = [paddle.static.InputSpec([None, in_channels, None, None, None], "float32", "x")]
        static = paddle.jit.to_static(net, input_spec=spec, full_graph=True)
        paddle.jit.save(static, str(tmp / MODEL_PREFIX))
        if not (tmp / f"{MODEL_PREFIX}.pdiparams").is_file():
            raise OSError(f"{out_dir}: the exported parameters were not written")
        swap_into_place(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if was_training:
            net.train()
    return out_dir
