"""Export one trained stage network as a Paddle inference model (static graph + parameters).

The folder gets `model.json` + `model.pdiparams` (what `paddle.jit.save` writes: a JSON graph and
a dense-tensor stream read by Paddle's C++ loader, never unpickled) and is published atomically:
written to a temporary sibling, then renamed into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from segmentation_core.model_store import MODEL_PREFIX


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
        backup = None
        if out_dir.exists():
            backup = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(backup, ignore_errors=True)
            os.replace(out_dir, backup)
        os.replace(tmp, out_dir)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if was_training:
            net.train()
    return out_dir
