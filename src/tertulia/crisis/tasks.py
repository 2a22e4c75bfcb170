"""The crisis app's periodic jobs (each worker runs them: work is claimed in the database)."""

from __future__ import annotations

from tertulia.tasks.ticker import every


# --- alerts: tell whoever's turn it is (tertulia.crisis.escalation; claimed per alert) ---------------
@every(30.0, name="crisis.escalate")
def escalate_alerts() -> None:
    from tertulia.crisis.escalation import escalate_due

    escalate_due()


# --- detect: count, relearn, test every watch (tertulia.crisis.detection.run; claimed per watch) -----
# Every 20 s, at 5, 25 and 45 s past each minute, on the minutes so far (the one under way as far as it
# has gone): a surge is found on what has arrived, not at the next whole minute. Pushed messages land
# within seconds; a polled channel's a poll later (docs/crisis-detection.md, "The test").
@every(20.0, name="crisis.detect", offset=5.0)
def detect_surges() -> None:
    from tertulia.crisis.detection.run import detect_all

    detect_all()


# --- retention: delete old per-minute counts (tertulia.crisis.retention; batched, safe on every worker) -
@every(3600.0, name="crisis.prune")
def prune_buckets() -> None:
    from tertulia.crisis.retention import prune_buckets as prune

    prune()
