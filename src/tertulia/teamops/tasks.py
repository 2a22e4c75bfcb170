"""On-call's ticker jobs (registered from TeamOpsConfig.ready); each claims its work in the database."""

from __future__ import annotations

from tertulia.tasks.ticker import every
from tertulia.teamops import jobs


@every(60.0, name="teamops.handovers", offset=2.0)
def handovers() -> None:
    """Tell incoming on-call people at their hand-over (within a minute of it)."""
    jobs.tell_handovers()


@every(60.0, name="teamops.gaps")
def gaps() -> None:
    """Warn managers of new on-call gaps (the sweep itself runs at most every 10 minutes)."""
    jobs.warn_gaps()
