"""The analytics app's periodic jobs (each worker runs them: work is claimed in the database)."""

from __future__ import annotations

from tertulia.tasks.ticker import every


# --- collect: ask the networks for account and post figures (tertulia.analytics.collect; per channel) --
@every(60.0, name="analytics.collect")
def collect_metrics() -> None:
    from tertulia.analytics.collect import collect_due

    collect_due()


# --- roll up: recount each brand's recent days (tertulia.analytics.rollup; claimed per brand) ---------
@every(60.0, name="analytics.rollup", offset=30.0)
def roll_up_recent() -> None:
    from tertulia.analytics.rollup import roll_up_due

    roll_up_due()
