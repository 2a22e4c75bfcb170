"""The reports app's periodic job (each worker runs it: schedules are claimed in the database)."""

from __future__ import annotations

from tertulia.tasks.ticker import every


# --- send due reports (tertulia.reports.delivery; claimed per schedule) ------------------------
@every(60.0, name="reports.send", offset=15.0)
def send_due_reports() -> None:
    from tertulia.reports.delivery import run_due

    run_due()
