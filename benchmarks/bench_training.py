"""Training throughput on this CPU: steps/s and achieved GFLOP/s beside the machine's peak.

Every measurement runs in its own process (one configuration per process): Paddle's built-in
AdamW leaves a process in a state where every later convolution is slower, so "before" and
"after" must never share one. Variants are run in turn, `--repeats` times, and medians reported
(the machine is shared).

Two tables:
- network step (forward + backward + optimiser, random data) for the shipped network and the
  1.4 M-parameter variant (widths from 16): the old eager step (paddle.optimizer.AdamW), the
  eager step with segmentation_core.training.optim.InPlaceAdamW, and the static-graph step with
  oneDNN kernels (segmentation_core.training.static_graph, the trainer's default engine);
- the trainer's full step (patch drawing and augmentation, simulated clicks, step) on a generated
  case, one lever at a time.

  python benchmarks/bench_training.py            # quick subset (48^3, batch 2), ~10 min loaded
  python benchmarks/bench_training.py --full     # 48^3 and 64^3, batch 2 and 4, both networks
  python benchmarks/bench_training.py --repeats 5 --steps 8

FLOPs count the convolutions (segmentation_core/training/flops.py): a step is 3x the forward
(backward ~2x), plus one forward per simulated click round in the trainer's step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

WIDE = (16, 32, 64, 128)  # the 1.4 M-parameter variant


def shipped_widths() -> tuple[int, ...]:
    meta = REPO / "resources" / "models" / "base" / "meta.json"
    if meta.is_file():
        return tuple(json.loads(meta.read_text(encoding="utf-8"))["widths"])
    from segmentation_core.network import DEFAULT_WIDTHS

    return tuple(DEFAULT_WIDTHS)


# --- measurements, each in its own process ------------------------------------------------------
def _set_threads(n: int) -> None:
    import paddle

    paddle.base.core.set_num_threads(n)


def _optimiser(kind: str, params, lr: float = 1e-3):
    import paddle

    from segmentation_core.training.optim import InPlaceAdamW

    clip = paddle.nn.ClipGradByGlobalNorm(5.0)
    if kind == "inplace":
        return InPlaceAdamW(params, lr, weight_decay=1e-4, clip_norm=5.0)
    if kind == "paddle-multi":  # AdamW has no multi-tensor path in Paddle 3.3; Adam does
        return paddle.optimizer.Adam(lr, parameters=params, grad_clip=clip, use_multi_tensor=True)
    return paddle.optimizer.AdamW(lr, parameters=params, weight_decay=1e-4, grad_clip=clip)


def worker_peak(args) -> dict:
    """The machine's float32 matrix-product rate, Paddle's and numpy's, best of a few."""
    import numpy as np
    import paddle

    _set_threads(args.threads)
    n = 2048
    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    pa = paddle.to_tensor(a)
    best = {}
    for name, fn in (("paddle", lambda: paddle.matmul(pa, pa).numpy()), ("numpy", lambda: a @ a)):
        fn()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        best[name] = 2 * n**3 / min(times) / 1e9
    return {"gflops": max(best.values()), "by": best}


def _static_net_step(args, net, shape, flops) -> dict:
    """The same step through the static graph (training/static_graph.py): whole-step times."""
    import numpy as np

    from segmentation_core.network import InteractiveUNet3D, count_parameters
    from segmentation_core.training.static_graph import StaticGraphTrainer
    from segmentation_core.training.trainer import interactive_loss

    widths = net.widths
    free = [-1, -1, -1]
    graph = StaticGraphTrainer(
        lambda: InteractiveUNet3D(widths),
        {
            "x": ([-1, shape[1], *free], "float32"),
            "y": ([-1, 1, *free], "float32"),
            "v": ([-1, 1, *free], "float32"),
        },
        lambda out, f: interactive_loss(out, f["y"], f["v"]),
        lr=1e-3,
        weight_decay=1e-4,
        clip_norm=5.0,
    )
    graph.load_weights(net.state_dict())
    rng = np.random.default_rng(0)
    feed = {
        "x": rng.normal(0, 1, shape).astype(np.float32),
        "y": (rng.random((args.batch, 1) + shape[2:]) > 0.7).astype(np.float32),
        "v": np.ones((args.batch, 1) + shape[2:], np.float32),
    }
    times, fwd = [], []
    for _ in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        graph.step(feed, 1e-3)
        t1 = time.perf_counter()
        graph.predict(feed["x"])
        times.append(t1 - t0)
        fwd.append(time.perf_counter() - t1)
    step = statistics.median(times[args.warmup :])
    return {
        "params": count_parameters(net),
        "flops": flops,
        "forward": statistics.median(fwd[args.warmup :]),  # a no-gradient forward pass
        "backward": 0.0,
        "update": 0.0,
        "step": step,
    }


def worker_net(args) -> dict:
    """Forward + backward + optimiser step on fixed random data, times per phase."""
    import numpy as np
    import paddle

    from segmentation_core.encoding import IN_CHANNELS
    from segmentation_core.network import InteractiveUNet3D, count_parameters
    from segmentation_core.training.flops import conv_flops
    from segmentation_core.training.trainer import interactive_loss

    _set_threads(args.threads)
    paddle.seed(0)
    widths = tuple(int(w) for w in args.widths.split(","))
    net = InteractiveUNet3D(widths)
    shape = (args.batch, IN_CHANNELS, args.patch, args.patch, args.patch)
    flops = 3 * conv_flops(net, shape)
    if args.engine == "static":
        return _static_net_step(args, net, shape, flops)
    opt = _optimiser(args.opt, net.parameters())
    rng = np.random.default_rng(0)
    x = paddle.to_tensor(rng.normal(0, 1, shape).astype(np.float32))
    y = paddle.to_tensor((rng.random((args.batch, 1) + shape[2:]) > 0.7).astype(np.float32))
    ones = paddle.ones_like(y)
    net.train()
    rows = []
    for _ in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        loss = interactive_loss(net(x), y, ones)
        float(loss)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        opt.clear_grad()
        t3 = time.perf_counter()
        rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0))
    rows = rows[args.warmup :]
    med = [statistics.median(r[i] for r in rows) for i in range(4)]
    return {
        "params": count_parameters(net),
        "flops": flops,
        "forward": med[0],
        "backward": med[1],
        "update": med[2],
        "step": med[3],
    }


def _generated_case(seed: int = 0):
    """A CT-sized crop with six ellipsoid structures of different sizes and contrasts."""
    import numpy as np

    from segmentation_core.training.dataset import TrainingCase

    rng = np.random.default_rng(seed)
    shape = (96, 160, 160)
    zz, yy, xx = np.indices(shape, dtype=np.float32)
    label = np.zeros(shape, np.int32)
    for v in range(1, 7):
        c = rng.uniform(0.25, 0.75, 3) * shape
        r = rng.uniform(6, 22, 3)
        label[
            ((zz - c[0]) / r[0]) ** 2 + ((yy - c[1]) / r[1]) ** 2 + ((xx - c[2]) / r[2]) ** 2 < 1
        ] = v
    image = (rng.normal(0, 20, shape) + label * 30.0).astype(np.float32)
    return TrainingCase("generated", image, label, (1.5, 1.5, 1.5), lo=-50.0, hi=250.0)


def worker_trainer(args) -> dict:
    """The trainer's own loop (Trainer.run) on a generated case, seconds per step."""
    from segmentation_core.encoding import IN_CHANNELS
    from segmentation_core.training.flops import conv_flops
    from segmentation_core.training.trainer import TrainConfig, Trainer

    widths = tuple(int(w) for w in args.widths.split(","))
    extra = {"prefetch": args.prefetch} if "prefetch" in TrainConfig.__dataclass_fields__ else {}
    cfg = TrainConfig(
        patch=args.patch,
        batch=args.batch,
        widths=widths,
        threads=args.threads,
        val_every=0,
        minutes=1e6,
        checkpoint_every_s=1e9,
        seed=1,
        engine=args.engine,
        **extra,
    )
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer([_generated_case()], Path(tmp), cfg)
        if args.opt != "inplace":
            trainer.opt = _optimiser(args.opt, trainer.net.parameters())
        shape = (args.batch, IN_CHANNELS, args.patch, args.patch, args.patch)
        fwd = conv_flops(trainer.net, shape)
        calls = [0]
        predict = trainer._predict

        def counted(x):
            calls[0] += 1
            return predict(x)

        trainer._predict = counted
        trainer.save_checkpoint = lambda: None  # timing the steps, not the disk
        cfg.max_steps = args.warmup
        trainer.run()
        calls[0] = 0
        cfg.max_steps = args.warmup + args.steps
        t = time.perf_counter()
        trainer.run()
        dt = (time.perf_counter() - t) / args.steps
        close = getattr(trainer, "close", None)
        if close:
            close()
    flops = (3 * fwd * args.steps + fwd * calls[0]) / args.steps
    return {"step": dt, "flops": flops, "sim_forwards": calls[0] / args.steps}


WORKERS = {"peak": worker_peak, "net": worker_net, "trainer": worker_trainer}


# --- orchestration ------------------------------------------------------------------------------
def run_one(kind: str, **kw) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind]
    for k, v in kw.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{' '.join(cmd[2:])} failed: {out.stderr.strip().splitlines()[-1:]}")


def medians(variants: dict[str, dict], repeats: int, kind: str) -> dict[str, dict]:
    """Each variant `repeats` times, interleaved; per-key medians."""
    got: dict[str, list[dict]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, kw in variants.items():
            got[name].append(run_one(kind, **kw))
    out = {}
    for name, results in got.items():
        out[name] = {k: statistics.median(r[k] for r in results) for k in results[0]}
        out[name]["steps_all"] = [round(r["step"], 3) for r in results]
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="48^3 and 64^3, batch 2 and 4")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, default=5, help="timed steps per process")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-levers", action="store_true", help="only the network-step table")
    p.add_argument("--levers-only", action="store_true", help="only the trainer-step table")
    p.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    p.add_argument("--widths", default="8,16,32,64", help=argparse.SUPPRESS)
    p.add_argument("--patch", type=int, default=48, help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=2, help=argparse.SUPPRESS)
    p.add_argument("--opt", default="inplace", help=argparse.SUPPRESS)
    p.add_argument("--prefetch", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--engine", default="eager", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)), flush=True)
        return 0

    common = dict(steps=args.steps, warmup=args.warmup)
    shipped = ",".join(map(str, shipped_widths()))
    wide = ",".join(map(str, WIDE))
    print(f"# bench_training: {args.repeats} repeats x {args.steps} steps (after {args.warmup}),")
    print(f"# {args.threads} threads, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    # the best of three: a peak, and the machine is shared
    peak = max(run_one("peak", threads=args.threads)["gflops"] for _ in range(3))
    print(f"peak: float32 2048^2 matrix product, {args.threads} threads: {peak:.1f} GFLOP/s\n")

    cells = [(shipped, 48, 2), (wide, 48, 2)]
    if args.full:
        cells = [(w, p_, b) for w in (shipped, wide) for p_ in (48, 64) for b in (2, 4)]
    if args.levers_only:
        cells = []
    if cells:
        print("network step (forward + backward + AdamW), s/step, median of repeats")
        print("old: eager, paddle.optimizer.AdamW; in-place: eager, InPlaceAdamW;")
        print("static: the oneDNN static graph (the trainer's default engine)")
        head = "| widths | params | patch | batch | GFLOP/step | old s/step | in-place s/step "
        head += "| static s/step | in-place speed-up | static speed-up | static steps/s "
        print(head + "| static GFLOP/s | % of peak |")
        print("|" + "---|" * 13)
    for widths, patch, batch in cells:
        kw = dict(widths=widths, patch=patch, batch=batch, threads=args.threads, **common)
        res = medians(
            {
                "old": dict(kw, opt="paddle"),
                "in-place": dict(kw, opt="inplace"),
                "static": dict(kw, engine="static"),
            },
            args.repeats,
            "net",
        )
        old, inp, st = res["old"], res["in-place"], res["static"]
        gf = st["flops"] / 1e9
        print(
            f"| {widths} | {st['params'] / 1e6:.2f} M | {patch}^3 | {batch} | {gf:.1f} "
            f"| {old['step']:.2f} | {inp['step']:.2f} | {st['step']:.2f} "
            f"| {old['step'] / inp['step']:.2f}x | {old['step'] / st['step']:.2f}x "
            f"| {1 / st['step']:.2f} | {gf / st['step']:.1f} | {100 * gf / st['step'] / peak:.1f} |"
        )
        for name, r in res.items():
            if name == "static":
                what = f"no-gradient forward {r['forward']:.2f} s"
            else:
                what = (
                    f"forward {r['forward']:.2f} s, backward {r['backward']:.2f} s, "
                    f"update {1000 * r['update']:.0f} ms"
                )
            print(f"|   {name}: {what}; per repeat {r['steps_all']} |")
    if args.skip_levers:
        return 0

    print(
        "\ntrainer step (Trainer.run: patches, simulated clicks, step), shipped net, 48^3, batch 2"
    )
    base = dict(widths=shipped, patch=48, batch=2, **common)
    levers = {
        "today: paddle AdamW, 2 threads": dict(base, opt="paddle", threads=2),
        "paddle Adam use_multi_tensor, 2 threads": dict(base, opt="paddle-multi", threads=2),
        "in-place AdamW, 1 thread": dict(base, opt="inplace", threads=1),
        "in-place AdamW, 2 threads": dict(base, opt="inplace", threads=2),
        "in-place AdamW, 2 threads, prefetch worker": dict(
            base, opt="inplace", threads=2, prefetch=1
        ),
        "static graph (oneDNN), 1 thread": dict(base, engine="static", threads=1),
        "static graph (oneDNN), 2 threads": dict(base, engine="static", threads=2),
        "static graph (oneDNN), 2 threads, prefetch worker": dict(
            base, engine="static", threads=2, prefetch=1
        ),
    }
    res = medians(levers, args.repeats, "trainer")
    ref = res["today: paddle AdamW, 2 threads"]["step"]
    print("| setting | s/step | steps/s | vs today | GFLOP/s | sim. forwards/step | per repeat |")
    print("|---|---|---|---|---|---|---|")
    for name, r in res.items():
        print(
            f"| {name} | {r['step']:.2f} | {1 / r['step']:.2f} | {ref / r['step']:.2f}x "
            f"| {r['flops'] / 1e9 / r['step']:.1f} | {r['sim_forwards']:.1f} | {r['steps_all']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
