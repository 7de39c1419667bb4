"""Run one prepared notebook in a sandboxed kernel, cell by cell, and say what happened.

The grader (this process) drives the kernel over ZeroMQ with nbclient; the notebook itself
is never written where the kernel can read it. Each cell gets ``cell_timeout`` seconds (then
the kernel is interrupted and the next cell runs) and the whole notebook ``wall_timeout``
seconds (then the kernel is killed and the remaining cells do not run). A kernel death
(``os._exit``, out of memory) stops the run at that cell; the cells before it keep their
results.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from medganlab.grading.sandbox import SANDBOX_DATA, Sandbox, kill_tagged

__all__ = ["RunOutcome", "kernel_environment", "new_token", "run_notebook", "tree_cpu_seconds"]


@dataclass
class RunOutcome:
    """What running a notebook gave: the executed notebook and how it ended."""

    notebook: nbformat.NotebookNode
    ran: list[bool] = field(default_factory=list)  # per cell: did it run to an answer
    died_in: int | None = None  # index of the cell during which the kernel died
    timed_out_in: int | None = None  # index of the cell running at the wall-clock limit
    start_error: str | None = None  # the kernel could not start
    seconds: float = 0.0
    leftovers_killed: int = 0
    kernel_cpu: float = 0.0  # CPU-seconds of the kernel's process tree (user + system)


def kernel_environment(
    base: dict[str, str], scratch: Path, sandbox: Sandbox, token: str, mounts: dict[str, Path]
) -> dict[str, str]:
    """The kernel's whole environment: a fixed list, never the grader's own.

    ``base`` holds the caller's choices (``MEDGANLAB_PROFILE``...); it is copied, not
    changed.
    """
    venv_bin = str(Path(sys.executable).parent)
    data = {
        name: f"{SANDBOX_DATA}/{name}" if sandbox.isolated else str(p) for name, p in mounts.items()
    }
    env = {
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "agg",
        "MPLCONFIGDIR": str(scratch / ".config" / "matplotlib"),
        "IPYTHONDIR": str(scratch / ".ipython"),
        "XDG_CACHE_HOME": str(scratch / ".cache"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MEDGANLAB_HOME": str(scratch),
        "MEDGANLAB_BUILD": str(scratch / "build"),
        "MEDGANLAB_QUIET": "1",
        "NBGRADER_EXECUTION": "autograde",
        "MEDGANLAB_PROFILE": "smoke",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "MEDGANLAB_GRADE_TOKEN": token,
    }
    if "data" in data:
        env["MEDGANLAB_DATA"] = data["data"]
    if "artifacts" in data:
        env["MEDGANLAB_ARTIFACTS"] = data["artifacts"]
    env.update(base)
    return env


def _kernel_manager(sandbox, wrap_args):
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        """Starts the kernel through the sandbox's command; sockets are Unix sockets."""

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            if sandbox.as_nobody:  # the kernel's user must read its connection file
                os.chown(self.connection_file, 65534, 65534)
            return sandbox.wrap(cmd, **wrap_args)

    return SandboxedKernelManager


def run_notebook(
    nb: nbformat.NotebookNode,
    *,
    sandbox: Sandbox,
    scratch: Path,
    run_dir: Path,
    env: dict[str, str],
    mounts: dict[str, Path],
    cell_timeout: int = 180,
    wall_timeout: int = 900,
) -> RunOutcome:
    """Execute ``nb`` in place in a fresh sandboxed kernel (see the module docstring)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    token = env["MEDGANLAB_GRADE_TOKEN"]
    sandbox.prepare(scratch, run_dir)
    wrap_args = {"env": env, "scratch": scratch, "run_dir": run_dir, "mounts": mounts}
    km = _kernel_manager(sandbox, wrap_args)(
        kernel_name="python3",
        transport="ipc",
        ip=str(run_dir / "kernel"),
        connection_file=str(run_dir / "kernel.json"),
    )
    km.kernel_spec.interrupt_mode = "message"  # signals cannot cross the sandbox's session
    client = NotebookClient(
        nb,
        km=km,
        timeout=cell_timeout,
        startup_timeout=120,
        allow_errors=True,
        interrupt_on_timeout=True,
        record_timing=False,
    )
    outcome = RunOutcome(notebook=nb, ran=[False] * len(nb.cells))
    start = time.monotonic()
    deadline = start + wall_timeout
    killed = threading.Event()

    def watchdog():  # a cell that ignores the interrupt: kill the kernel at the deadline
        while not killed.wait(1.0):
            if time.monotonic() > deadline + 10 and km.has_kernel:
                killed.set()
                try:
                    km.provisioner.process.kill()
                except Exception:  # already gone
                    pass

    current = -1
    try:
        log = open(run_dir.parent / "kernel.log", "wb")  # noqa: SIM115 (closed below)
        launch = {"cwd": str(run_dir), "env": {"PATH": os.environ.get("PATH", "")}}
        with log, client.setup_kernel(**launch, stdout=log, stderr=log):
            guard = threading.Thread(target=watchdog, daemon=True)
            guard.start()
            for index, cell in enumerate(nb.cells):
                current = index
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    outcome.timed_out_in = index
                    break
                if cell.cell_type != "code" or cell.metadata.get("medganlab", {}).get("skip"):
                    outcome.ran[index] = True  # skip: a teaching cell (see merge.py)
                    continue
                client.timeout = max(1, int(min(cell_timeout, remaining)))
                try:
                    client.execute_cell(cell, index)
                except DeadKernelError:
                    if killed.is_set():
                        outcome.timed_out_in = index
                    else:
                        outcome.died_in = index
                    break
                outcome.ran[index] = True
                if time.monotonic() > deadline and _interrupted(cell):
                    outcome.timed_out_in = index
                    outcome.ran[index] = False
                    break
    except DeadKernelError:
        outcome.died_in = max(current, 0)
    except RuntimeError as exc:  # the kernel did not start
        if current < 0:
            tail = (run_dir.parent / "kernel.log").read_text(errors="replace")[-600:]
            outcome.start_error = f"{type(exc).__name__}: {exc}\n{tail}"
        else:
            outcome.died_in = current
    finally:
        killed.set()
        process = getattr(km.provisioner, "process", None) if km.provisioner else None
        if process is not None:
            outcome.kernel_cpu = tree_cpu_seconds(process.pid)
        _shutdown(km, client)
        if not sandbox.isolated:
            outcome.leftovers_killed = kill_tagged(token)
        outcome.seconds = time.monotonic() - start
    return outcome


def _shutdown(km, client) -> None:
    """End the kernel now (nbclient leaves a kernel it did not create running)."""
    from jupyter_core.utils import run_sync

    try:
        if getattr(client, "kc", None) is not None:
            client.kc.stop_channels()
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # the kernel is gone already; make sure its process is too
        process = getattr(km.provisioner, "process", None) if km.provisioner else None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU-seconds of ``root`` and its live descendants, their reaped children
    included (read from ``/proc`` before the kernel is killed: a killed sandbox's time is
    never reported to any waiting parent). 0.0 where ``/proc`` is missing."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    children: dict[int, list[int]] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0)
        todo += children.get(pid, [])
    return total / tick


def _interrupted(cell) -> bool:
    return any(o.get("ename") == "KeyboardInterrupt" for o in cell.get("outputs", []))


def new_token() -> str:
    return secrets.token_hex(8)
