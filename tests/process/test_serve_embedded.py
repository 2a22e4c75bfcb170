"""`tertulia serve` in the embedded profile: one command runs the web server and its worker."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.processes import TertuliaProcess, free_port, is_running, run_tertulia, running, wait_until_gone

pytestmark = pytest.mark.slow


def test_serve_runs_web_and_worker_and_stops_both(
    embedded_env: dict[str, str], data_dir: Path, tmp_path: Path
) -> None:
    assert run_tertulia("migrate", env=embedded_env).returncode == 0
    port = free_port()
    server = TertuliaProcess(["serve", "--port", str(port)], embedded_env, tmp_path / "serve.log")
    with running(server):
        server.wait_healthy(f"http://127.0.0.1:{port}")
        workers = server.workers()
        assert len(workers) == 1, f"expected one worker child, found {workers}: {server.describe()}"
        (worker_pid,) = workers

        database = data_dir / "tertulia.sqlite3"
        assert database.is_file()
        # WAL lets the web process read while the worker writes; the mode is stored in the file.
        with sqlite3.connect(database) as connection:
            (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
        assert mode == "wal"
        assert (data_dir / "queue.sqlite3").is_file(), "the worker's Huey queue lives in the data directory"

    assert not is_running(worker_pid), "the worker outlived `tertulia serve`"
    assert "Traceback" not in server.output(), server.describe()


def test_worker_stops_when_serve_is_killed(embedded_env: dict[str, str], tmp_path: Path) -> None:
    """A SIGKILLed `serve` cannot clean up: the worker notices its parent is gone and stops itself."""
    assert run_tertulia("migrate", env=embedded_env).returncode == 0
    port = free_port()
    server = TertuliaProcess(["serve", "--port", str(port)], embedded_env, tmp_path / "serve.log")
    with running(server):
        server.wait_healthy(f"http://127.0.0.1:{port}")
        (worker_pid,) = server.workers()
        server.process.kill()
        server.process.wait(timeout=10)
        assert wait_until_gone(worker_pid, timeout=15), "the orphaned worker kept running"


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_stop_signals_exit_cleanly(
    stop_signal: signal.Signals, embedded_env: dict[str, str], tmp_path: Path
) -> None:
    """Ctrl+C at a terminal and SIGTERM from a service manager are normal stops: exit 0, worker stopped."""
    assert run_tertulia("migrate", env=embedded_env).returncode == 0
    port = free_port()
    server = TertuliaProcess(["serve", "--port", str(port)], embedded_env, tmp_path / "serve.log")
    with running(server):
        server.wait_healthy(f"http://127.0.0.1:{port}")
        (worker_pid,) = server.workers()
        server.process.send_signal(stop_signal)
        returncode = server.process.wait(timeout=30)
        # Stopped by serve itself, not by the worker's parent watch after serve died.
        worker_state_at_exit = is_running(worker_pid)
    assert returncode == 0, server.describe()
    assert not worker_state_at_exit, "serve exited before stopping its worker"
    assert "Aborted" not in server.output()


@pytest.mark.parametrize("delay", [0.1, 0.6, 1.5, 3.0])
def test_worker_stopped_while_starting_exits_quietly(
    delay: float, embedded_env: dict[str, str], tmp_path: Path
) -> None:
    """`tertulia serve` may stop its worker at any moment of the worker's start (importing, setting
    up Django, before the queue consumer takes over Ctrl+C): each is a normal stop, with no
    "Aborted!" or traceback in the shared output."""
    assert run_tertulia("migrate", env=embedded_env).returncode == 0
    worker = TertuliaProcess(["worker", "--threads", "1"], embedded_env, tmp_path / "worker.log")
    with running(worker):
        time.sleep(delay)  # the moment of the start at which the stop arrives
        worker.process.send_signal(signal.SIGINT)
        returncode = worker.process.wait(timeout=30)
    # 130 is an interrupt while Python is still importing; every later moment is a clean 0.
    assert returncode in (0, 130), worker.describe()
    assert "Aborted" not in worker.output(), worker.describe()
    assert "Traceback" not in worker.output(), worker.describe()
