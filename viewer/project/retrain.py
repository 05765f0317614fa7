"""Retraining the project's interactive model on its finished cases, in the background.

`RetrainJob.start()` takes the project's retrain lock (one retrain at a time, whichever
instance asks), writes the run's settings to `runs/<run_id>/run.json` and starts a separate OS
process (`main.py project retrain-worker DIR RUN_ID`): the UI never waits, and Paddle never runs
in the UI's process. The worker adopts the lock (it was taken by its parent: the worker checks
the owner is its parent before rewriting it with its own pid), touches it as a heartbeat, and
reports through `runs/<run_id>/events.jsonl`, which `poll()` reads -- from any instance, so a
GUI that re-opens the project re-attaches with `RetrainJob.attach()`. Cancel: a `cancel` file in
the run folder (or SIGTERM to the worker): the trainer checkpoints and stops. Resume: start
again with `resume=run_id`: the same settings, cases and starting model, so the trainer picks up
its checkpoint.

A run: load the cases (the project's image and final label of each training case, through
viewer.io.training_cases) -> fine-tune the model that was active at the start
(`segmentation_core.training.finetune`) -> measure the candidate and the model active now on the
validation cases (viewer.project.gating) -> publish `models/<version>/` atomically, activated only
if better. Every step also goes to the project journal.

The automatic model's training (issue 15) runs through the same machinery: a run whose run.json
says `"kind": "auto"` (`viewer.project.auto_train_run`) is started with `RetrainJob.launch`,
holds the same lock (one training of a project at a time, whichever kind), and its worker
executes `auto_train_run.execute_auto_run` instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from viewer.errors import RadLabelError, one_line
from viewer.io.atomic_save import atomic_write_text
from viewer.io.training_cases import find_cases, load_training_case
from viewer.project.gating import EVAL_MAX_CASES, better, evaluate_model
from viewer.project.locks import LockOwner, ProjectBusy, pid_alive, read_owner
from viewer.project.runs import RunFolder, list_runs
from viewer.project.store import default_user
from viewer.project.workspace import Project

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
TERMINAL = ("done", "error", "cancelled")
RETRAIN_KIND = "retrain"
AUTO_KIND = "auto"  # run.json "kind" of the automatic model's training


# --- one run, in this process ------------------------------------------------------------------
def prepare_run(
    project: Project,
    *,
    minutes: float,
    threads: int,
    max_steps: int = 0,
    seed: int = 0,
    user: str = "",
    options: dict | None = None,
) -> RunFolder:
    """Fix what a run trains on and from: the finished training cases, the validation cases
    (or, with no split yet, the training cases) and the model active now. `options`: more
    FinetuneConfig fields (patch, batch, lr, ...) for experiments and tests."""
    cases = project.training_cases()
    if not cases:
        raise RadLabelError("no finished cases to train on: submit at least one", project.folder)
    val = project.validation_cases()
    measured_on = "validation cases" if val else "training cases"
    settings = {
        "minutes": float(minutes),
        "threads": int(threads),
        "max_steps": int(max_steps),
        "seed": int(seed),
        "user": user or default_user(),
        "parent_version": project.active_version(),
        "parent_model_dir": str(project.active_model_dir()),
        "cases": cases,
        "eval_cases": (val or cases)[:EVAL_MAX_CASES],
        "measured_on": measured_on,
        "options": dict(options or {}),
        "replay": _replay_specs(project),
    }
    return RunFolder.create(project.store, settings)


MAX_REPLAY_CASES = 8


def _replay_specs(project: Project) -> list[list[str]]:
    """[name, image, label] of the replay cases (the first MAX_REPLAY_CASES of `replay_dir`)."""
    folder = project.settings().get("replay_dir") or ""
    if not folder:
        return []
    root = Path(folder) if Path(folder).is_absolute() else project.folder / folder
    return [[n, str(i), str(lab)] for n, i, lab in find_cases([root])[:MAX_REPLAY_CASES]]


def _load_case(project: Project, case_id: str):
    final = project.label_path(case_id, "final")
    if final is None:
        raise RadLabelError(f"case {case_id} has no final label", project.folder)
    return load_training_case(
        case_id,
        project.image_path(case_id),
        final,
        series_uid=project.image_series_uid(case_id),
        grid=project.case_grid(case_id),
    )


def _hardware(threads: int) -> dict:
    return {
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "python": platform.python_version(),
    }


def _finetune(cases, init_model_dir, work_dir, config_kwargs, progress, should_stop, replay):
    from segmentation_core.training.finetune import FinetuneConfig, finetune

    return finetune(
        cases,
        Path(init_model_dir),
        Path(work_dir),
        FinetuneConfig(**config_kwargs),
        replay_cases=replay,
        progress=progress,
        should_stop=should_stop,
    )


def execute_run(
    project: Project,
    run: RunFolder,
    *,
    progress: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    trainer: Callable | None = None,
    evaluator: Callable | None = None,
) -> dict:
    """Train, measure, publish; every event goes to the run's events.jsonl (and `progress`).
    Returns the last event (done or cancelled). The caller holds the retrain lock."""
    s = run.settings()
    if s.get("kind") == AUTO_KIND:  # the automatic model: its own steps, the same run folder
        from viewer.project.auto_train_run import execute_auto_run

        return execute_auto_run(project, run, progress=progress, should_stop=should_stop)
    user = s.get("user", "")
    trainer = trainer or _finetune
    evaluator = evaluator or evaluate_model

    def emit(event: dict) -> dict:
        event = run.emit(event)
        if progress is not None:
            progress(event)
        return event

    def stop() -> bool:
        return run.cancel_requested() or (should_stop is not None and bool(should_stop()))

    def cancelled(steps: int | None = None) -> dict:
        with project.store.locked(user):
            project.store.append_journal("retrain_cancelled", user, run=run.run_id, steps=steps)
        return emit({"type": "cancelled", "steps": steps})

    with project.store.locked(user):
        project.store.append_journal(
            "retrain_start", user, run=run.run_id, parent=s["parent_version"], cases=s["cases"]
        )
    emit({"type": "phase", "name": "loading"})
    cases = [_load_case(project, cid) for cid in s["cases"]]
    by_id = {c.name: c for c in cases}
    eval_cases = [by_id.get(cid) or _load_case(project, cid) for cid in s["eval_cases"]]
    values = sorted(project.label_values())
    replay = [load_training_case(n, i, lab) for n, i, lab in s.get("replay", [])]

    emit({"type": "phase", "name": "training"})

    def on_progress(info: dict) -> None:
        emit(
            {
                "type": "progress",
                "step": info.get("step"),
                "loss": info.get("loss"),
                "elapsed_s": info.get("elapsed_s"),
                "budget_s": info.get("budget_s"),
                "lr": info.get("lr"),
                "val": info.get("val"),
            }
        )

    config = {
        "minutes": s["minutes"],
        "threads": s["threads"],
        "seed": s["seed"],
        "max_steps": s["max_steps"],
        **s.get("options", {}),
    }
    result = trainer(cases, s["parent_model_dir"], run.work_dir, config, on_progress, stop, replay)
    if result.cancelled:
        return cancelled(result.steps)

    emit({"type": "phase", "name": "evaluating"})
    active_version = project.active_version()
    active_dir = project.active_model_dir()
    threads = s["threads"]
    candidate = evaluator(result.model_dir, eval_cases, values, threads=threads, should_stop=stop)
    active = evaluator(active_dir, eval_cases, values, threads=threads, should_stop=stop)
    if stop():
        return cancelled(result.steps)
    for m in (candidate, active):
        m["measured_on"] = s["measured_on"]
    activate = better(candidate, active)

    emit({"type": "phase", "name": "publishing"})
    record = {
        "parent": s["parent_version"],
        "parent_model_dir": s["parent_model_dir"],
        "run_id": run.run_id,
        "cases": s["cases"],
        "eval_cases": s["eval_cases"],
        "replay_cases": [n for n, _, _ in s.get("replay", [])],
        "settings": {**config, "trainer": "segmentation_core.training.finetune"},
        "hardware": _hardware(threads),
        "train_steps": result.steps,
        "train_seconds": result.seconds,
        "history": [list(h) for h in result.history][-2000:],
        "metrics": {
            "candidate": candidate,
            "active_before": active,
            "active_before_version": active_version,
            "active_before_model_dir": str(active_dir),
            "rule": "activated when mean(dice@1, dice@3, dice@5) is higher than the active's",
        },
        "user": user,
    }
    version = project.publish_version(
        result.model_dir, record, activate=activate, only_if_active=active_version, user=user
    )
    activated = project.version(version).activated
    emit({"type": "phase", "name": "ranking"})
    _rank_open_cases(project, threads, stop)
    done = {
        "type": "done",
        "version": version,
        "activated": activated,
        "candidate": candidate,
        "active": active,
        "active_version": active_version,
        "steps": result.steps,
        "seconds": result.seconds,
    }
    with project.store.locked(user):
        project.store.append_journal(
            "retrain_done", user, run=run.run_id, version=version, activated=activated
        )
    return emit(done)


def _rank_open_cases(project: Project, threads: int, stop: Callable[[], bool]) -> None:
    """Measure the cases in progress with the model now active, for *Next case*
    (`viewer.project.uncertainty`); a failure there never fails the retrain."""
    from viewer.project.uncertainty import refresh

    try:
        refresh(project, threads=threads, should_stop=stop)
    except RadLabelError as e:
        log.warning("open cases not ranked: %s", e.message)
    except Exception:  # the version is published already: ranking is only a convenience
        log.exception("open cases not ranked")


class _Heartbeat:
    """Touches the retrain lock now and then, so other hosts see the run is alive."""

    def __init__(self, project: Project) -> None:
        self._lock = project.store.retrain_lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retrain-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            self._lock.touch()

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _busy(project: Project) -> ProjectBusy:
    lock = project.store.retrain_lock()
    owner = lock.owner()
    who = owner.describe() if owner else "another program"
    # the lock is shared by the retrain and the automatic model's training: one at a time
    return ProjectBusy(
        f"a training of this project is running (started by {who}): one at a time, "
        "retrain or automatic model",
        lock.path,
    )


@contextlib.contextmanager
def training_lock(project: Project, user: str = ""):
    """Hold the project's training lock (with its heartbeat) for a training in this process,
    e.g. `train-auto --project`; ProjectBusy when another training of the project runs."""
    lock = project.store.retrain_lock()
    if not lock.acquire(user or default_user()):
        raise _busy(project)
    try:
        with _Heartbeat(project):
            yield
    finally:
        lock.release()


def _open_run(project, resume, minutes, threads, max_steps, seed, user, options) -> RunFolder:
    """The run to execute: the interrupted one named by `resume` (its cancel request cleared),
    else a new one with these settings."""
    if resume:
        run = RunFolder.find(project.store, resume)
        run.clear_cancel()
        return run
    return prepare_run(
        project,
        minutes=minutes,
        threads=threads,
        max_steps=max_steps,
        seed=seed,
        user=user,
        options=options,
    )


def retrain_blocking(
    project_folder,
    *,
    minutes: float = 10.0,
    threads: int = 2,
    progress: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    user: str = "",
    max_steps: int = 0,
    seed: int = 0,
    resume: str | None = None,
    options: dict | None = None,
    trainer: Callable | None = None,
    evaluator: Callable | None = None,
) -> dict:
    """A whole retrain in this process (scripts, benchmarks, the worker); the last event."""
    project = Project.open(project_folder)
    with training_lock(project, user):
        run = _open_run(project, resume, minutes, threads, max_steps, seed, user, options)
        return execute_run(
            project,
            run,
            progress=progress,
            should_stop=should_stop,
            trainer=trainer,
            evaluator=evaluator,
        )


# --- the worker process ------------------------------------------------------------------------
def run_worker(project_folder, run_id: str) -> int:
    """The body of `main.py project retrain-worker`: adopt the lock, run, report; exit code."""
    project = Project.open(project_folder)
    run = RunFolder.find(project.store, run_id)
    lock = project.store.retrain_lock()
    user = run.settings().get("user", "") or default_user()
    owner = read_owner(lock.path)
    me = socket.gethostname()
    if owner is not None and owner.host == me and owner.pid == os.getppid():
        # taken for us by RetrainJob.start: ours now (the owner file is rewritten in place)
        atomic_write_text(lock.path, LockOwner.me(owner.user).to_json())
    elif not lock.acquire(user):
        run.emit({"type": "error", "message": _busy(project).message})
        return 1
    run.write_worker(os.getpid(), me)
    stop_flag = threading.Event()

    def on_sigterm(*_) -> None:
        stop_flag.set()

    handler_state = {"paddle": False}

    def install_handler() -> None:
        with contextlib.suppress(ValueError):  # not the main thread: the cancel file still works
            signal.signal(signal.SIGTERM, on_sigterm)

    def should_stop() -> bool:
        # Paddle's import (mid-run, in the trainer) installs C-level handlers that abort on
        # SIGTERM behind Python's back: once it is loaded, switch them off and put ours back
        paddle = sys.modules.get("paddle")
        if paddle is not None and not handler_state["paddle"]:
            handler_state["paddle"] = True
            with contextlib.suppress(Exception):
                paddle.disable_signal_handler()
            install_handler()
        return stop_flag.is_set()

    install_handler()
    try:
        with _Heartbeat(project):
            execute_run(project, run, should_stop=should_stop)
        return 0
    except RadLabelError as e:
        run.emit({"type": "error", "message": e.message})
        _journal_error(project, run, user, e.message)
        return 1
    except Exception as e:  # still one line for the UI; the traceback to the worker log
        log.exception("training run %s failed", run.run_id)
        what = "automatic training" if run_kind(run) == AUTO_KIND else "retrain"
        message = f"{what} failed: {one_line(str(e)) or type(e).__name__}"
        run.emit({"type": "error", "message": message})
        _journal_error(project, run, user, message)
        return 1
    finally:
        lock.release()


def _journal_error(project: Project, run: RunFolder, user: str, message: str) -> None:
    event = "auto_train_error" if run_kind(run) == AUTO_KIND else "retrain_error"
    with contextlib.suppress(RadLabelError), project.store.locked(user):
        project.store.append_journal(event, user, run=run.run_id, message=message)


def run_kind(run: RunFolder) -> str:
    """ "retrain" (the interactive model) or "auto" (the automatic model)."""
    try:
        return str(run.settings().get("kind") or RETRAIN_KIND)
    except RadLabelError:
        return RETRAIN_KIND


def worker_command(project_folder, run_id: str) -> list[str]:
    """How to start the worker: the frozen app runs itself, a checkout runs main.py."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "project", "retrain-worker", str(project_folder), run_id]
    main_py = Path(__file__).resolve().parent.parent.parent / "main.py"
    return [sys.executable, str(main_py), "project", "retrain-worker", str(project_folder), run_id]


def _detached() -> dict:
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    return {"start_new_session": True}


class RetrainJob:
    """A training run (the retrain, or the automatic model's: `kind`) in its own process. The
    caller polls (`poll()`), never waits."""

    def __init__(self, project_folder, run: RunFolder, proc: subprocess.Popen | None) -> None:
        self.folder = Path(project_folder)
        self.run = run
        self.run_id = run.run_id
        self._proc = proc
        self._offset = 0
        self._ended = False
        self._synthesised = False
        self._kind: str | None = None

    @classmethod
    def start(
        cls,
        project_folder,
        *,
        minutes: float = 10.0,
        threads: int = 2,
        user: str = "",
        max_steps: int = 0,
        seed: int = 0,
        resume: str | None = None,
        options: dict | None = None,
    ) -> RetrainJob:
        """Start (or, with `resume=run_id`, resume) a retrain; ProjectBusy if one is running."""

        def prepare(project: Project) -> RunFolder:
            return prepare_run(
                project,
                minutes=minutes,
                threads=threads,
                max_steps=max_steps,
                seed=seed,
                user=user,
                options=options,
            )

        return cls.launch(project_folder, prepare, user=user, resume=resume)

    @classmethod
    def launch(
        cls,
        project_folder,
        prepare: Callable[[Project], RunFolder],
        *,
        user: str = "",
        resume: str | None = None,
    ) -> RetrainJob:
        """Take the project's training lock, fix a run (`prepare(project)`, or the interrupted
        run `resume`) and start its worker. Every kind of training (the interactive retrain,
        the automatic model: `viewer.project.auto_train_run`) starts here: one lock, one
        worker, one event file. ProjectBusy when a training of the project runs."""
        project = Project.open(project_folder)
        lock = project.store.retrain_lock()
        if not lock.acquire(user or default_user()):
            raise _busy(project)
        try:
            if resume:
                run = RunFolder.find(project.store, resume)
                last = run.last_event()
                if last is not None and last.get("type") == "done":
                    raise RadLabelError(f"run {resume} has finished already", run.folder)
                run.clear_cancel()
                run.emit({"type": "resumed"})
            else:
                run = prepare(project)
            logfile = open(run.folder / "worker.log", "ab")  # noqa: SIM115 (the child keeps it)
            try:
                proc = subprocess.Popen(
                    worker_command(project.folder.absolute(), run.run_id),
                    stdin=subprocess.DEVNULL,
                    stdout=logfile,
                    stderr=subprocess.STDOUT,
                    # a Ctrl+C in a terminal goes to the CLI alone, which cancels gracefully
                    **_detached(),
                )
            finally:
                logfile.close()
        except BaseException:
            lock.release()
            raise
        job = cls(project.folder, run, proc)
        job._offset = run.read_events()[1] if resume else 0
        return job

    @classmethod
    def attach(cls, project_folder, run_id: str | None = None) -> RetrainJob | None:
        """The running (or given) run of a project, for a GUI that re-opens it; None if none."""
        project = Project.open(project_folder)
        if run_id is not None:
            return cls(project.folder, RunFolder.find(project.store, run_id), None)
        for run in reversed(list_runs(project.store)):
            if not run.finished():
                job = cls(project.folder, run, None)
                if job.running():
                    return job
        return None

    @property
    def kind(self) -> str:
        """ "retrain" or "auto": which model this run trains (its run.json says)."""
        if self._kind is None:
            self._kind = run_kind(self.run)
        return self._kind

    def running(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        worker = self.run.worker()
        if worker is None or worker.get("host") != socket.gethostname():
            lock_owner = read_owner(self.folder / "retrain.lock")
            return lock_owner is not None and not self.run.finished()
        try:
            alive = pid_alive(int(worker["pid"]))
        except (ValueError, TypeError):
            alive = True
        return alive and not self.run.finished()

    def poll(self) -> list[dict]:
        """Events since the last poll. A worker that died without a last word gets one (error)."""
        events, self._offset = self.run.read_events(self._offset)
        if any(e.get("type") in TERMINAL for e in events):
            self._ended = True
        if not self._ended and not events and not self.running():
            more, self._offset = self.run.read_events(self._offset)  # written just before exit
            events += more
            if any(e.get("type") in TERMINAL for e in more):
                self._ended = True
            elif not self._synthesised:
                self._synthesised = True
                self._ended = True
                code = self._proc.returncode if self._proc is not None else None
                what = "automatic training" if self.kind == AUTO_KIND else "retrain"
                message = (
                    f"the {what} process ended unexpectedly (exit code {code}); "
                    f"see {self.run.folder / 'worker.log'}"
                )
                events.append(self.run.emit({"type": "error", "message": message}))
                # a worker that died before adopting the lock left it in our name
                Project.open(self.folder).store.retrain_lock().release()
        return events

    def cancel(self) -> None:
        """Ask the worker to stop: it checkpoints, stops and reports 'cancelled'."""
        self.run.request_cancel()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the worker ends (scripts and tests; the GUI polls instead)."""
        if self._proc is None:
            raise RadLabelError("wait() needs a job started here; poll() an attached one")
        try:
            self._proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return True
