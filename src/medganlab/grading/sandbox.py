"""Where a submission's kernel runs: a bubblewrap sandbox as an unprivileged user.

The kernel of a graded submission runs untrusted code. :func:`detect` picks the strongest
isolation this machine offers and :class:`Sandbox` turns a kernel command into a sandboxed
one:

``bwrap`` (bubblewrap, Debian package ``bubblewrap``)
    New user, PID, IPC, UTS, cgroup and network namespaces; a root file system made only of
    read-only system folders (``/usr``, ``/etc``...), the Python environment and the package
    (read-only), the data sets and artifacts (read-only, at ``/srv/medganlab``), a private
    ``/tmp`` and the submission's scratch folder (the only writable place). Nothing of the
    course checkout, ``solutions/``, the gradebook, other submissions or the instructor's home
    is mounted. When the grader runs as root, bubblewrap itself is started as ``nobody``
    (``setpriv``), so the kernel is an unprivileged user on the host too. When the kernel ends,
    the PID namespace ends and every process it started (detached or not) is killed.
    The kernel talks to the grader over Unix sockets (ZeroMQ ``ipc``) in a folder bound into
    the sandbox, so it needs no network at all.
``user`` (fallback: no bubblewrap)
    A private scratch folder as working directory, the unprivileged ``nobody`` user when the
    grader is root, and a sweep that kills every process carrying the submission's token
    after the run. Files readable by every user (the course checkout) stay readable: this is
    *not* a sandbox, and grading says so loudly (a ``RuntimeWarning``, a log line and the
    ``isolation`` column of ``grades.csv``).
``none`` (``MEDGANLAB_SANDBOX=none``, only for debugging the grader)
    The kernel runs as the grader's user in the scratch folder, with the token sweep.

``MEDGANLAB_SANDBOX`` = ``bwrap`` | ``user`` | ``none`` forces a mode (``bwrap`` fails if
bubblewrap cannot start).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

__all__ = [
    "MODES",
    "SANDBOX_DATA",
    "Sandbox",
    "SandboxUnavailable",
    "detect",
    "kill_tagged",
]

log = logging.getLogger("medganlab.grading")

MODES = ("bwrap", "user", "none")
SANDBOX_DATA = "/srv/medganlab"  # where data sets and artifacts appear inside the sandbox
SANDBOX_HOME = "/home/student"
NOBODY = 65534
_SYSTEM_DIRS = ("/usr", "/etc", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/opt")
# Per-kernel limits: processes/threads of the sandbox user, largest file written, no cores.
LIMITS = {"nproc": 4096, "fsize": 1 << 30, "core": 0, "nofile": 4096}
TMP_SIZE = 512 << 20  # bytes of the sandbox's private /tmp (RAM)


class SandboxUnavailable(RuntimeError):
    """The requested isolation cannot run on this machine."""


def _bwrap_works(as_root: bool) -> str | None:
    """None when bubblewrap can start a sandbox here, else why not."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    cmd = [bwrap, *_namespaces(as_root), "--ro-bind", "/", "/", "--proc", "/proc", "true"]
    if as_root:
        cmd[-1:] = [*_drop_privileges(), "true"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start: {exc}"
    if proc.returncode != 0:
        return f"bwrap could not create namespaces: {proc.stderr.strip()[-300:]}"
    return None


def _namespaces(as_root: bool) -> list[str]:
    # As root, bubblewrap mounts with root's rights (it can bind a Python under /root) and
    # the kernel drops to nobody inside; otherwise a user namespace does the same job.
    if as_root:
        ns = ["--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts"]
        return [*ns, "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    return ["--unshare-all", "--die-with-parent", "--new-session", "--disable-userns"]


def _drop_privileges() -> list[str]:
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def _limits() -> list[str]:
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return []
    return [prlimit] + [f"--{name}={value}" for name, value in LIMITS.items()]


@dataclass(frozen=True)
class Sandbox:
    """How to start a kernel for one submission (see the module docstring).

    Attributes:
        mode: ``bwrap``, ``user`` or ``none``.
        reason: why a weaker mode was chosen (empty for ``bwrap``).
        as_nobody: run as the unprivileged ``nobody`` user (the grader is root).
    """

    mode: str
    reason: str = ""
    as_nobody: bool = False
    read_only: tuple[str, ...] = field(default_factory=tuple)

    @property
    def isolated(self) -> bool:
        return self.mode == "bwrap"

    def describe(self) -> str:
        who = "nobody" if self.as_nobody else "the grader's user"
        if self.mode == "bwrap":
            return f"bubblewrap sandbox as {who}"
        return f"NOT SANDBOXED ({self.mode}, as {who}): {self.reason}"

    def prepare(self, scratch: Path, run_dir: Path) -> None:
        """Give the kernel's user its scratch and socket folders (nothing else)."""
        for folder in (scratch, run_dir):
            folder.mkdir(parents=True, exist_ok=True)
            if self.as_nobody:
                os.chown(folder, NOBODY, NOBODY)
                for path in folder.rglob("*"):
                    os.chown(path, NOBODY, NOBODY, follow_symlinks=False)
            folder.chmod(0o700)
        # Parents must be traversable (not listable) by the kernel's user.
        for parent in {scratch.parent, run_dir.parent}:
            parent.chmod(0o711)

    def wrap(
        self,
        kernel_cmd: list[str],
        env: dict[str, str],
        scratch: Path,
        run_dir: Path,
        mounts: dict[str, Path],
    ) -> list[str]:
        """The full command that starts ``kernel_cmd`` inside this sandbox.

        Args:
            kernel_cmd: the kernel's own command (python -m ipykernel_launcher -f ...).
            env: the kernel's whole environment (nothing is inherited from the grader).
            scratch: the submission's writable working folder.
            run_dir: the folder of the connection file and sockets (same path inside).
            mounts: read-only folders, ``name -> host path``, shown at
                ``/srv/medganlab/<name>`` inside the sandbox.
        """
        drop = _drop_privileges() if self.as_nobody else []
        if self.mode != "bwrap":
            envcmd = ["env", "-i", *(f"{k}={v}" for k, v in env.items())]
            return _limits() + drop + envcmd + kernel_cmd
        args = [shutil.which("bwrap") or "bwrap", *_namespaces(self.as_nobody)]
        args += ["--hostname", "grader", "--clearenv"]
        for folder in _SYSTEM_DIRS:
            args += ["--ro-bind-try", folder, folder]
        args += ["--proc", "/proc", "--dev", "/dev", "--size", str(TMP_SIZE), "--tmpfs", "/tmp"]
        # bubblewrap makes missing parents 0700 (unusable by nobody): make them 0711 first.
        targets = [*self.read_only, str(scratch), str(run_dir), SANDBOX_DATA + "/x"]
        for parent in _parents(targets):
            args += ["--perms", "0711", "--dir", parent]
        for folder in self.read_only:
            args += ["--ro-bind-try", folder, folder]
        for name, host in mounts.items():
            if Path(host).exists():
                args += ["--ro-bind", str(host), f"{SANDBOX_DATA}/{name}"]
        args += ["--bind", str(scratch), str(scratch), "--bind", str(run_dir), str(run_dir)]
        args += ["--chdir", str(scratch)]
        for key, value in env.items():
            args += ["--setenv", key, value]
        return _limits() + args + drop + kernel_cmd


def _parents(paths: list[str]) -> list[str]:
    """Ancestors of ``paths`` that are not system folders, shallowest first."""
    found: set[str] = set()
    for path in paths:
        for parent in Path(path).parents:
            text = str(parent)
            if text != "/" and text not in ("/tmp", *_SYSTEM_DIRS):
                found.add(text)
    return sorted(found, key=lambda p: (p.count("/"), p))


def _python_folders() -> tuple[str, ...]:
    """Folders the kernel needs to run Python and import the package (read-only)."""
    import medganlab

    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    package_parent = Path(medganlab.__file__).resolve().parent.parent
    folders.add(str(package_parent))  # an editable install's src/
    real = Path(sys.executable).resolve().parent.parent
    folders.add(str(real))
    system = tuple(_SYSTEM_DIRS)
    return tuple(sorted(f for f in folders if not f.startswith(system)))


@cache
def detect(requested: str | None = None) -> Sandbox:
    """The strongest isolation available (or the one ``MEDGANLAB_SANDBOX`` asks for).

    Warns loudly (``RuntimeWarning`` and a log line) when the kernel cannot be sandboxed.
    """
    requested = requested or os.environ.get("MEDGANLAB_SANDBOX") or "auto"
    if requested not in (*MODES, "auto"):
        raise ValueError(f"MEDGANLAB_SANDBOX={requested!r}; expected one of {MODES} or auto")
    as_nobody = hasattr(os, "geteuid") and os.geteuid() == 0 and bool(shutil.which("setpriv"))
    folders = _python_folders()
    if requested in ("auto", "bwrap") and sys.platform.startswith("linux"):
        why = _bwrap_works(as_nobody)
        if why is None:
            return Sandbox("bwrap", as_nobody=as_nobody, read_only=folders)
        if requested == "bwrap":
            raise SandboxUnavailable(why)
    elif requested in ("auto", "bwrap"):
        why = f"bubblewrap needs Linux (this is {sys.platform})"
        if requested == "bwrap":
            raise SandboxUnavailable(why)
    else:
        why = f"MEDGANLAB_SANDBOX={requested}"
    mode = "none" if requested == "none" else "user"
    if as_nobody and mode == "user":  # nobody must be able to run this Python at all
        probe = [*_drop_privileges(), sys.executable, "-c", "import medganlab"]
        ok = subprocess.run(probe, capture_output=True, cwd="/", timeout=60).returncode == 0
        as_nobody = ok
        if not ok:
            why += "; and nobody cannot run this Python, so the kernel runs as root"
    box = Sandbox(mode, reason=why, as_nobody=as_nobody and mode == "user", read_only=folders)
    message = (
        f"medganlab grade: submissions are NOT sandboxed ({why}). Their code can read every "
        "file the grading user can read (solutions included). Install bubblewrap and grade "
        "again before publishing grades; see autograder/README.md."
    )
    warnings.warn(message, RuntimeWarning, stacklevel=2)
    log.warning(message)
    return box


def kill_tagged(token: str) -> int:
    """Kill every process whose environment carries ``MEDGANLAB_GRADE_TOKEN=<token>``.

    The fallback modes' way of ending processes a submission detached from its kernel.
    Returns how many were killed.
    """
    needle = f"MEDGANLAB_GRADE_TOKEN={token}".encode()
    killed = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        except (OSError, ValueError):
            continue
    return killed
