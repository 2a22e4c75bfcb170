"""`tertulia serve`: the ASGI web server, plus a worker process in the same process tree."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading

import click

from tertulia.cli.bootstrap import fail

logger = logging.getLogger(__name__)


def port_problem(host: str, port: int) -> str | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return f"cannot listen on {host}:{port} ({exc.strerror}): choose another --port or --host"
    return None


def start_worker_process(threads: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "tertulia",
        "worker",
        "--threads",
        str(threads),
        "--parent-pid",
        str(os.getpid()),
    ]
    return subprocess.Popen(command, env=os.environ.copy())


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # Huey's graceful stop: finish running tasks
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class WorkerSupervisor(threading.Thread):
    """Keeps the worker subprocess running: a crashed worker is logged and restarted.

    Without this the web server would go on serving while no background work (traffic,
    sweeps) happened, and nothing would say so. Restarts back off up to a minute.
    """

    def __init__(self, threads: int) -> None:
        super().__init__(name="tertulia-worker-supervisor", daemon=True)
        self.threads = threads
        self.process = start_worker_process(threads)
        self.stopping = threading.Event()
        self.restarts = 0

    def run(self) -> None:
        delay = 1.0
        while not self.stopping.wait(1.0):
            code = self.process.poll()
            if code is None:
                delay = 1.0
                continue
            logger.error("the worker exited with code %s; restarting it in %.0f s", code, delay)
            if self.stopping.wait(delay):
                return
            self.process = start_worker_process(self.threads)
            self.restarts += 1
            delay = min(delay * 2, 60.0)

    def stop(self) -> None:
        self.stopping.set()
        stop_process(self.process)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run_server(host: str, port: int, with_worker: bool = True, worker_threads: int = 2) -> None:
    import uvicorn

    problem = port_problem(host, port)
    if problem:
        fail(problem)
    supervisor = WorkerSupervisor(worker_threads) if with_worker else None
    if supervisor is not None:
        supervisor.start()
    config = uvicorn.Config(
        "tertulia.asgi:application",
        host=host,
        port=port,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    click.echo(
        f"Tertulia is running at http://{'[' + host + ']' if ':' in host else host}:{port}/  (Ctrl+C to stop)"
    )
    # uvicorn stops gracefully on SIGINT/SIGTERM and then re-raises the signal with the handler
    # it found: make that a clean exit, so the worker below is still stopped and the exit code is 0.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # Ctrl+C: the server has already stopped gracefully
    finally:
        # We are stopping: a second Ctrl+C, or the one uvicorn re-raises arriving late, must not cut
        # the worker's stop short (click would print "Aborted!" and exit non-zero).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if supervisor is not None:
            with contextlib.suppress(KeyboardInterrupt):
                supervisor.stop()
