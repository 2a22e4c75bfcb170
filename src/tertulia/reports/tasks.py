"""The reports app's background work (each worker runs the ticker: schedules are claimed in the
database, so the queue only wakes the work up and the ticker recovers what it missed)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from tertulia.tasks.ticker import every


@db_task()
def send_requested_reports() -> None:
    """Reports someone asked to send now (tertulia.reports.actions.request_send)."""
    from tertulia.reports.delivery import run_requested

    run_requested()


# --- send due reports (tertulia.reports.delivery; claimed per schedule) ------------------------
@every(60.0, name="reports.send", offset=15.0)
def send_due_reports() -> None:
    from tertulia.reports.delivery import run_due, run_requested

    run_due()
    run_requested()  # a request whose wake-up was lost, or whose worker died (its lease ended)
