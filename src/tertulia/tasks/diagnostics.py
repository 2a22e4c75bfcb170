"""A task that proves a worker is consuming the queue (used by `tests/process` and by operators).

Enqueue it from any machine (`tertulia manage shell -c "..."`) and watch which worker
writes the marker file; with an organization, every open page of it also gets a
`diagnostics.ping` live event, which shows that worker → broker → web fan-out works.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from huey.contrib.djhuey import db_task

from tertulia.live.publish import notify_organization


@db_task()
def ping(marker_path: str, organization_id: int | None = None) -> str:
    """Write `<hostname> <pid>` of the worker that ran this into `marker_path`; return it too."""
    who = f"{socket.gethostname()} {os.getpid()}"
    Path(marker_path).write_text(who + "\n")
    if organization_id is not None:
        notify_organization(organization_id, "diagnostics.ping", worker=who)
    return who
