"""eflomal's child process dies with xlner (signals, kill -9) and its work folder goes away."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from xlner.align import eflomal
from xlner.align.eflomal import EflomalAligner

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux-only"
)

# An alignment that would run for hours: 10 million IBM1 iterations.
SLOW_SCRIPT = """
from xlner.align.eflomal import EflomalAligner
pairs = [([f"s{i % 7}", f"s{i * 3 % 11}", "x"], [f"t{i % 7}", "y", f"t{i * 3 % 11}"]) for i in range(200)]
EflomalAligner(progress=False, model=1, n_iterations=(10_000_000, 0, 0)).align(pairs)
"""


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def eflomal_children(parent: int) -> list[int]:
    """Processes whose parent is ``parent`` and whose command line runs eflomal's binary."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"bin/eflomal" in cmdline:
            found.append(int(proc.name))
    return found


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start_slow_alignment(tmp_path: Path) -> tuple[subprocess.Popen, int, Path]:
    """A python process aligning with eflomal (TMPDIR inside tmp_path), and its eflomal child."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    parent = subprocess.Popen([sys.executable, "-c", SLOW_SCRIPT], env=env, stderr=subprocess.PIPE)
    children: list[int] = []
    try:
        assert wait_for(lambda: bool(children.extend(eflomal_children(parent.pid)) or children), 30), (
            "eflomal never started"
        )
    except BaseException:
        parent.kill()
        raise
    return parent, children[0], tmp


def work_dirs(tmp: Path) -> list[Path]:
    return list(tmp.glob("xlner-eflomal-*"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_kills_child_and_removes_work_dir(tmp_path, signum):
    parent, child, tmp = start_slow_alignment(tmp_path)
    try:
        assert work_dirs(tmp)
        parent.send_signal(signum)
        code = parent.wait(timeout=10)
        assert wait_for(lambda: not alive(child), 5), "eflomal outlived xlner"
        assert work_dirs(tmp) == []
        stderr = parent.stderr.read().decode()
        if signum == signal.SIGINT:
            assert "KeyboardInterrupt" in stderr
        else:
            assert code == 128 + signum, stderr  # a clean SystemExit, not death by signal
    finally:
        parent.kill()
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_kill_9_kills_child_and_next_run_removes_work_dir(tmp_path, monkeypatch):
    parent, child, tmp = start_slow_alignment(tmp_path)
    try:
        parent.kill()  # SIGKILL: no handler runs; PR_SET_PDEATHSIG stops eflomal
        parent.wait(timeout=10)
        assert wait_for(lambda: not alive(child), 5), "eflomal outlived a kill -9 of xlner"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)
    left = work_dirs(tmp)
    assert len(left) == 1 and f"-{parent.pid}-" in left[0].name
    # a live process's folder is kept, a dead one's is removed
    mine = tmp / f"xlner-eflomal-{os.getpid()}-x"
    mine.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    eflomal._remove_stale_work_dirs()
    assert work_dirs(tmp) == [mine]


def test_handlers_are_restored_and_threads_work():
    pairs = [(["a", "b"], ["x", "y"])] * 5

    def custom(signum, frame):  # pragma: no cover - never called
        pass

    before = signal.signal(signal.SIGTERM, custom)
    try:
        expected = EflomalAligner(progress=False).align(pairs)
        assert signal.getsignal(signal.SIGTERM) is custom
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, before)
    # outside the main thread no handler can be set, and none is needed
    result: list = []
    worker = threading.Thread(target=lambda: result.append(EflomalAligner(progress=False).align(pairs)))
    worker.start()
    worker.join(60)
    assert result == [expected]


def test_failure_reports_stderr(tmp_path):
    code = eflomal.run_child(
        [sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"], os.environ, tmp_path / "err"
    )
    assert code == 3 and (tmp_path / "err").read_text() == "boom"
