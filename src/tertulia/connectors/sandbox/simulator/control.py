"""Starting, steering and rehearsing on the simulator: what the demo, the pages and the tests call."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.connectors.sandbox import hooks, network
from tertulia.connectors.sandbox.handles import normalize_handle
from tertulia.connectors.sandbox.models import SandboxAccount, SandboxCrisis, SandboxSimulation
from tertulia.connectors.sandbox.simulator import community, corpus
from tertulia.connectors.sandbox.simulator.apply import Stage, apply_message
from tertulia.connectors.sandbox.simulator.planner import plan_burst

MAX_RATE_PER_MINUTE = 6_000
RECENT_CRISES = 20
BURST_BATCH = 500


class NoSimulation(LookupError):
    """No simulation targets exactly these handles."""


def simulation_key(handles: Iterable[str]) -> str:
    normalized = sorted({normalize_handle(h) for h in handles})
    if not normalized:
        raise ValueError(_("A simulation needs at least one target account."))
    return ",".join(normalized)


def _check_rate(rate_per_minute: int) -> None:
    if not 0 <= rate_per_minute <= MAX_RATE_PER_MINUTE:
        raise ValueError(
            _("The rate must be between 0 and %(max)d messages per minute.") % {"max": MAX_RATE_PER_MINUTE}
        )


def _brands(key: str) -> list[SandboxAccount]:
    return [network.create_account(handle, is_brand=True) for handle in key.split(",")]


def ensure_simulation(handles: list[str], seed: int = 2026, rate_per_minute: int = 12) -> SandboxSimulation:
    """The simulation towards these accounts, enabled at this seed and rate (created if missing)."""
    key = simulation_key(handles)
    _check_rate(rate_per_minute)
    community.ensure_community()
    with transaction.atomic():
        brands = _brands(key)
        for brand in brands:
            community.ensure_brand_audience(brand)
        simulation, created = SandboxSimulation.objects.get_or_create(
            key=key, defaults={"seed": seed, "rate_per_minute": rate_per_minute}
        )
        if not created:
            simulation.seed, simulation.rate_per_minute, simulation.enabled = seed, rate_per_minute, True
            simulation.save(update_fields=["seed", "rate_per_minute", "enabled"])
        simulation.targets.set(brands)
    return simulation


def get_simulation(handles: list[str]) -> SandboxSimulation:
    simulation = SandboxSimulation.objects.filter(key=simulation_key(handles)).first()
    if simulation is None:
        raise NoSimulation(_("No simulation targets %(handles)s.") % {"handles": ", ".join(handles)})
    return simulation


def set_rate(handles: list[str], rate_per_minute: int) -> SandboxSimulation:
    _check_rate(rate_per_minute)
    simulation = get_simulation(handles)
    SandboxSimulation.objects.filter(pk=simulation.pk).update(rate_per_minute=rate_per_minute)
    simulation.rate_per_minute = rate_per_minute
    return simulation


def stop_simulation(handles: list[str]) -> bool:
    """Pause the traffic; True if it was running. `ensure_simulation` resumes it (without a flood)."""
    return (
        SandboxSimulation.objects.filter(key=simulation_key(handles), enabled=True).update(enabled=False) == 1
    )


def _pick_topic(simulation: SandboxSimulation) -> str:
    """Rehearsals rotate through the built-in topics, predictably."""
    topics = corpus.CRISIS_TOPICS
    return topics[(simulation.seed + simulation.crises.count()) % len(topics)].label


def stage_crisis(
    handles: list[str], topic: str | None = None, minutes: int = 15, multiplier: int = 8
) -> SandboxCrisis:
    """Start a surge of negative posts about `topic` now, at `multiplier` times the base rate.

    A brand without a running simulation gets one (with no base traffic beyond
    the crisis), so a rehearsal always produces something to handle.
    """
    if not 1 <= minutes <= 24 * 60:
        raise ValueError(_("A crisis lasts between 1 minute and 24 hours."))
    if not 2 <= multiplier <= 100:
        raise ValueError(_("The crisis multiplier must be between 2 and 100."))
    topic = (topic or "").strip()[:120]
    try:
        simulation = get_simulation(handles)
    except NoSimulation:
        simulation = ensure_simulation(handles, rate_per_minute=0)
    if not simulation.enabled:
        SandboxSimulation.objects.filter(pk=simulation.pk).update(enabled=True)
    started = timezone.now()
    crisis = SandboxCrisis.objects.create(
        simulation=simulation,
        topic=topic or _pick_topic(simulation),
        started_at=started,
        ends_at=started + timedelta(minutes=minutes),
        multiplier=multiplier,
    )
    return crisis


def crises_for(handles: list[str]) -> QuerySet[SandboxCrisis]:
    """Recent crises on any simulation targeting any of these accounts, newest first."""
    wanted = {normalize_handle(h) for h in handles}
    ids = SandboxCrisis.objects.filter(simulation__targets__handle__in=wanted).values("pk")
    return SandboxCrisis.objects.filter(pk__in=ids).order_by("-started_at", "-id")[:RECENT_CRISES]


def generate_burst(handles: list[str], count: int, seed: int = 2026) -> int:
    """Write `count` community messages to these accounts now (tests, benchmarks); return how many landed.

    Message i of a burst depends only on (seed, i, handles): two bursts with
    the same arguments write the same texts.
    """
    key = simulation_key(handles)
    community.ensure_community()
    with transaction.atomic():
        brands = _brands(key)
        for brand in brands:
            community.ensure_brand_audience(brand)
    targets = [b.handle for b in brands]
    generated = 0
    for start in range(0, count, BURST_BATCH):
        with transaction.atomic():
            stage = Stage.load(seed, brands)
            now = timezone.now()
            for index in range(start, min(start + BURST_BATCH, count)):
                generated += apply_message(stage, plan_burst(seed, index, targets), None, now)
    if generated:
        hooks.notify_inbox(targets)
    return generated
