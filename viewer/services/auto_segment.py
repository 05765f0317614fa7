"""Runs an automatic segmentation model on one image in a separate process (Qt-free).

Paddle's Predictor holds Python's GIL while it runs (STACK-NOTES), so inference in a thread of
the GUI process would freeze the window: `run_auto_segment` starts a 'spawn' child that calls
`segmentation_core.auto.predict_volume`, passes the image and the result through .npy files in a
private temporary folder (a 1 GB CT through a pipe would be pickled and copied twice), reports
progress, and on cancel asks the child to stop (it raises `Cancelled` at its next check) and
kills it when it does not within CANCEL_GRACE_S. The caller (a `BackgroundJob` in the GUI)
waits here; this thread only sleeps on the pipe.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from viewer.errors import LoadError

log = logging.getLogger(__name__)
CANCEL_GRACE_S = 5.0  # a child that does not stop by then is killed (it writes nothing we keep)
POLL_S = 0.1
PROGRESS_EVERY_S = 0.2  # the child sends at most this often


def default_threads() -> int:
    """Threads for inference: the machine's cores, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


def _child_main(
    model_dir, image_path, out_path, spacing, direction, threads, conn, stop_event
) -> None:
    """The child process: load the image, predict, save the label map, say how it ended."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    import warnings

    warnings.filterwarnings("ignore")
    last = [0.0]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S or fraction >= 1.0:
            last[0] = now
            conn.send(("progress", float(fraction)))

    try:
        from segmentation_core.auto import Cancelled, predict_volume

        image = np.load(image_path, allow_pickle=False)
        try:
            labels = predict_volume(
                model_dir,
                image,
                spacing,
                direction=direction,
                threads=threads,
                progress=progress,
                should_stop=stop_event.is_set,
            )
        except Cancelled:
            conn.send(("cancelled", None))
            return
        labels = np.asarray(labels)
        if labels.size and (labels.min() < 0 or labels.max() > 65535):
            raise ValueError("the model returned label values outside 0..65535")
        np.save(out_path, labels.astype(np.uint16, copy=False), allow_pickle=False)
        conn.send(("done", None))
    except Exception as e:  # one line for the user; the child's traceback in its log
        reason, path = getattr(e, "reason", None), getattr(e, "path", None)
        if isinstance(reason, str) and path:  # AutoModelError: already names its file
            conn.send(("error", (reason, str(path))))
            return
        logging.getLogger(__name__).exception("automatic segmentation failed")
        conn.send(("error", (f"automatic segmentation failed: {type(e).__name__}: {e}", "")))


def run_auto_segment(
    model_dir: str | os.PathLike,
    image: np.ndarray,
    spacing_zyx: tuple[float, float, float],
    *,
    direction=None,
    threads: int | None = None,
    progress: Callable[[float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> np.ndarray | None:
    """The model's label map (uint16, the image's shape) for `image` (z, y, x); None when
    `should_stop()` became true first. LoadError(reason, model_dir) when the model fails."""
    image = np.asarray(image)
    if image.ndim != 3:
        raise LoadError(
            f"automatic segmentation needs a single-channel 3D image, not shape {image.shape}",
            model_dir,
        )
    tmp = Path(tempfile.mkdtemp(prefix="radlabel-auto-"))
    ctx = mp.get_context("spawn")
    proc = None
    try:
        image_path, out_path = tmp / "image.npy", tmp / "labels.npy"
        np.save(image_path, np.ascontiguousarray(image), allow_pickle=False)
        receiver, sender = ctx.Pipe(duplex=False)
        stop = ctx.Event()
        args = (os.fspath(model_dir), str(image_path), str(out_path))
        flat = None if direction is None else tuple(np.asarray(direction, float).ravel())
        args += (tuple(float(s) for s in spacing_zyx), flat, threads or default_threads())
        args += (sender, stop)
        proc = ctx.Process(target=_child_main, args=args, daemon=True, name="radlabel-auto")
        proc.start()
        sender.close()  # the child holds the only writer: EOF tells us it died
        kind, message = _wait(proc, receiver, stop, progress, should_stop)
        if kind in ("cancelled", "stopped"):
            return None
        if kind == "error":
            reason, path = message
            raise LoadError(reason, path or model_dir)
        if kind == "died":
            raise LoadError(
                f"the automatic segmentation process ended unexpectedly (exit code "
                f"{proc.exitcode}); too little memory?",
                model_dir,
            )
        labels = np.load(out_path, allow_pickle=False)
        if labels.shape != image.shape:
            raise LoadError(
                f"the model returned a label map of shape {labels.shape} for an image of "
                f"shape {image.shape}",
                model_dir,
            )
        return labels
    finally:
        if proc is not None:
            proc.join(timeout=CANCEL_GRACE_S)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=CANCEL_GRACE_S)
        shutil.rmtree(tmp, ignore_errors=True)


def _wait(proc, receiver, stop, progress, should_stop) -> tuple[str, object]:
    """Follow the child until it ends: ("done" | "cancelled" | "error" | "died" | "stopped",
    message). "stopped": cancelled by the caller, the child killed after the grace time."""
    deadline = None
    while True:
        if deadline is None and should_stop is not None and should_stop():
            stop.set()
            deadline = time.monotonic() + CANCEL_GRACE_S
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            return "stopped", None
        try:
            ready = receiver.poll(POLL_S)
            msg = receiver.recv() if ready else None
        except (EOFError, OSError):
            return "died", None
        if msg is None:
            if not proc.is_alive() and not receiver.poll(0):
                return "died", None
            continue
        kind, value = msg
        if kind == "progress":
            if progress is not None and deadline is None:
                progress(value)
            continue
        if deadline is not None:  # the caller cancelled: whatever came back is dropped
            return "cancelled", None
        return kind, value
