"""The crisis app's periodic jobs (each worker runs them: work is claimed in the database)."""

from __future__ import annotations

from tertulia.tasks.ticker import every


# --- alerts: tell whoever's turn it is (tertulia.crisis.escalation; claimed per alert) ---------------
@every(30.0, name="crisis.escalate")
def escalate_alerts() -> None:
    from tertulia.crisis.escalation import escalate_due

    escalate_due()


# --- detect: count, relearn, test every watch (tertulia.crisis.detection.run; claimed per watch) -----
@every(60.0, name="crisis.detect")
def detect_surges() -> None:
    from tertulia.crisis.detection.run import detect_all

    detect_all()
