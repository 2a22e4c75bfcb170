from __future__ import annotations

import subprocess
import sys
import time

import tertulia.cli.server as server


def test_a_crashed_worker_is_restarted(monkeypatch):
    started: list[subprocess.Popen[bytes]] = []

    def fake_worker(threads: int) -> subprocess.Popen[bytes]:
        # The first "worker" dies at once; the replacement keeps running.
        code = "import sys; sys.exit(3)" if not started else "import time; time.sleep(60)"
        process = subprocess.Popen([sys.executable, "-c", code])
        started.append(process)
        return process

    monkeypatch.setattr(server, "start_worker_process", fake_worker)
    supervisor = server.WorkerSupervisor(threads=1)
    supervisor.start()
    try:
        deadline = time.monotonic() + 20
        while supervisor.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert supervisor.restarts == 1
        assert started[0].returncode == 3
        assert supervisor.process is started[1]
        assert supervisor.process.poll() is None
    finally:
        supervisor.stop()
    assert started[1].poll() is not None, "stopping the supervisor stops its worker"
