"""The demo's crisis path: history for the surge detector's baseline, the default playbook with
approved statements, an escalation chain, and a closed past crisis with its report.

The live path then needs nothing more: Crisis → Playbooks → "Rehearse a crisis" stages a surge on the
demo brand's sandbox channels; the detector (which learned its baseline from the history loaded here)
raises a rehearsal alert; the team starts crisis mode as a rehearsal (scheduled posts pause), runs the
checklist, ends it, and reads the report.

The history is demo data, and says so: per-minute counts (crisis.Bucket) of the brand's watch (and of
its listening queries' watches, scaled to the share of mentions each matches) for the past two weeks,
drawn from a seeded generator with a daily rhythm (quiet nights, a busy midday and evening) and quieter
weekends, at the level of the demo's simulated traffic. It is written once, and only
up to an hour ago: the detector counts the live traffic from there on. Everything is loaded once
(idempotent), in bulk, so `tertulia demo` starts quickly.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, User
from tertulia.core.models.audit import Via

if TYPE_CHECKING:  # the crisis app may not be migrated yet when the demo module is imported
    from tertulia.crisis.models import Watch

HISTORY_DAYS = 14
# The watch's counting resumes this long before now, from the inbox's real messages.
LIVE_MINUTES = 60
PAST_CRISIS_TITLE = "Demo: retraso en los envíos de Navidad"
NEGATIVE_SHARE = 0.12


def _crisis_tables_exist() -> bool:
    from tertulia.crisis.models import Watch

    return Watch._meta.db_table in connection.introspection.table_names()


def rate_at(moment: datetime, level: float) -> float:
    """The expected messages per minute at `moment` (UTC): a daily wave around `level` (low at night,
    peaks at 13:00 and 21:00 Madrid time), 20 % quieter at weekends."""
    hour = (moment.hour + 1 + moment.minute / 60) % 24  # roughly Madrid
    daily = 0.55 + 0.35 * math.exp(-(((hour - 13) / 3.0) ** 2)) + 0.45 * math.exp(-(((hour - 21) / 2.5) ** 2))
    night = 0.45 if hour < 7 else 1.0
    weekly = 0.8 if moment.weekday() >= 5 else 1.0
    return max(level * daily * night * weekly, 0.05)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def seed_history(brand: Brand, level: float, now: datetime, seed: int = 2026) -> int:
    """Two weeks of per-minute counts for the brand's watch (once), with the past crisis; returns the
    buckets written."""
    from tertulia.crisis.models import Watch, WatchKind

    watch, _created = Watch.objects.get_or_create(
        brand=brand, kind=WatchKind.BRAND, defaults={"organization_id": brand.organization_id}
    )
    rng = random.Random(seed + brand.pk)  # noqa: S311  # demo data, reproducible
    return _seed_watch(watch, level, now, rng, past_crisis=True)


def seed_query_history(brand: Brand, level: float, now: datetime, seed: int = 2026) -> int:
    """The same for the watches of the brand's listening queries (once). Every inbound message of the
    live traffic is matched against them, so each gets the traffic's level times the share of the demo's
    mentions it matched: otherwise the month of mentions loaded for the listening charts (far fewer a
    minute than the live traffic) would be its baseline, and the first minutes of the demo a surge."""
    from tertulia.crisis.models import Watch, WatchKind
    from tertulia.listening.models import ListeningQuery, Mention, QueryMatch

    mentions = Mention.objects.filter(organization_id=brand.organization_id).count()
    if not mentions:
        return 0
    written = 0
    for query in ListeningQuery.objects.filter(brand=brand, is_active=True).order_by("pk"):
        share = QueryMatch.objects.filter(query=query).count() / mentions
        if share <= 0:
            continue
        watch, _created = Watch.objects.get_or_create(
            kind=WatchKind.QUERY,
            query=query,
            defaults={"organization_id": brand.organization_id, "brand": brand},
        )
        rng = random.Random(seed + query.pk)  # noqa: S311  # demo data, reproducible
        written += _seed_watch(watch, level * share, now, rng, past_crisis=False)
    return written


def _seed_watch(watch: Watch, level: float, now: datetime, rng: random.Random, *, past_crisis: bool) -> int:
    from tertulia.crisis.models import Bucket, Watch

    end = now.replace(second=0, microsecond=0) - timedelta(minutes=LIVE_MINUTES)
    start = end - timedelta(days=HISTORY_DAYS)
    if Bucket.objects.filter(watch=watch, minute__lt=start + timedelta(days=1)).exists():
        return 0
    rows = []
    surge_start = _past_surge_start(now)
    moment = start
    while moment < end:
        mean = rate_at(moment, level)
        if past_crisis and surge_start <= moment < surge_start + timedelta(minutes=40):
            mean *= 6  # the past crisis below
            share = 0.7
        else:
            share = NEGATIVE_SHARE
        volume = _poisson(rng, mean)
        if volume:
            negative = sum(1 for _ in range(volume) if rng.random() < share)
            # Now and then someone writes twice in a minute.
            people = volume - sum(1 for _ in range(volume - 1) if rng.random() < 0.15)
            rows.append(Bucket(watch=watch, minute=moment, volume=volume, negative=negative, people=people))
        moment += timedelta(minutes=1)
    with transaction.atomic():
        Bucket.objects.filter(watch=watch, minute__gte=start, minute__lt=end).delete()
        Bucket.objects.bulk_create(rows, batch_size=2000)
        counted = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
        if watch.counted_until is None or watch.counted_until < counted:
            Watch.objects.filter(pk=watch.pk).update(counted_until=counted)
    return len(rows)


def _past_surge_start(now: datetime) -> datetime:
    """Nine days ago at 11:20 UTC: the past crisis."""
    day = (now - timedelta(days=9)).replace(hour=11, minute=20, second=0, microsecond=0)
    return day


def _approve_statements(owner: User, brand: Brand) -> None:
    from tertulia.crisis import playbooks

    playbook = playbooks.default_playbook(brand, Actor.system("demo loader"))
    actor = Actor(user=owner, via=Via.SYSTEM, label_override="demo loader")
    for statement in playbook.statements.filter(approved_at__isnull=True):
        playbooks.approve_statement(actor, statement)


def _escalation_chain(brand: Brand, people: list[User]) -> None:
    from tertulia.crisis.models import EscalationStep

    if EscalationStep.objects.filter(brand=brand).exists():
        return
    EscalationStep.objects.bulk_create(
        EscalationStep(brand=brand, position=i, user=user, wait_minutes=wait, by_email=True)
        for i, (user, wait) in enumerate(zip(people, (0, 10, 20), strict=False))
    )


def _past_crisis(brand: Brand, people: dict[str, User], now: datetime) -> None:
    from tertulia.crisis.models import (
        Alert,
        AlertState,
        ChecklistItem,
        Crisis,
        CrisisRole,
        CrisisState,
        Surge,
        TimelineEntry,
        TimelineKind,
        Watch,
        WatchKind,
    )
    from tertulia.crisis.playbooks import default_playbook
    from tertulia.crisis.report import write_report

    if Crisis.objects.filter(organization_id=brand.organization_id, title=PAST_CRISIS_TITLE).exists():
        return
    cm, manager, owner = people["cm"], people["manager"], people["owner"]
    watch = Watch.objects.get(brand=brand, kind=WatchKind.BRAND)
    playbook = default_playbook(brand)
    start = _past_surge_start(now)

    def at(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    examples = [
        "Pedí el lote de Navidad hace tres semanas y sigue sin llegar. ¿Nadie responde?",
        "Tercer día esperando el jamón para la cena de empresa. Vergüenza.",
        "¿Qué pasa con los envíos de @despensadelsur? Nadie contesta al teléfono.",
    ]
    surge = Surge.objects.create(
        organization_id=brand.organization_id,
        brand=brand,
        watch=watch,
        metric="volume",
        started_at=at(0),
        detected_at=at(2),
        ended_at=at(45),
        window_minutes=5,
        observed=180,
        expected=30,
        ratio=6.0,
        p_value=1e-12,
        explanation={
            "metric": "volume",
            "window_minutes": 5,
            "observed": 180,
            "expected": 30,
            "ratio": 6.0,
            "messages": 180,
            "negative": 126,
            "top_terms": [
                {"term": "envío", "count": 92, "share": 0.51, "baseline_share": 0.04, "lift": 12.7},
                {"term": "navidad", "count": 61, "share": 0.34, "baseline_share": 0.05, "lift": 6.8},
                {"term": "lote", "count": 40, "share": 0.22, "baseline_share": 0.02, "lift": 11.0},
            ],
            "authors": [
                {"handle": "gastro_mar", "name": "Mar (gastro)", "followers": 48200, "posts": 3},
                {"handle": "pepe_cocina", "name": "Pepe", "followers": 5100, "posts": 2},
            ],
            "examples": [
                {
                    "source": "inbox",
                    "id": i,
                    "text": text,
                    "author": "demo",
                    "author_name": "Demo",
                    "followers": 1000,
                    "url": "",
                    "at": at(3).isoformat(),
                    "sentiment": "negative",
                }
                for i, text in enumerate(examples, start=1)
            ],
        },
    )
    alert = Alert.objects.create(
        organization_id=brand.organization_id,
        brand=brand,
        surge=surge,
        title="Demo: 6 veces más mensajes de lo esperado (envíos, navidad, lote)",
        summary="Demo data: a past surge of complaints about late Christmas deliveries.",
        state=AlertState.RESOLVED,
        raised_at=at(2),
        acknowledged_by=cm,
        acknowledged_at=at(6),
        resolved_at=at(95),
    )
    crisis = Crisis.objects.create(
        organization_id=brand.organization_id,
        brand=brand,
        title=PAST_CRISIS_TITLE,
        alert=alert,
        playbook=playbook,
        opened_by=manager,
        opened_at=at(9),
        state=CrisisState.CLOSED,
        closed_by=manager,
        closed_at=at(95),
        lessons=(
            "Demo: the holding statement was out within 10 minutes of crisis mode. The logistics contact "
            "was missing from the playbook: added."
        ),
    )
    CrisisRole.objects.bulk_create(
        [
            CrisisRole(crisis=crisis, user=manager, role="lead"),
            CrisisRole(crisis=crisis, user=cm, role="responder"),
            CrisisRole(crisis=crisis, user=owner, role="approver"),
        ]
    )
    steps = list(playbook.steps.all())
    done_by = {"monitor": cm, "responder": cm, "spokesperson": cm, "lead": manager, "approver": owner}
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            crisis=crisis,
            position=step.position,
            title=step.title,
            details=step.details,
            role=step.role,
            done_by=None if i == 5 else done_by.get(step.role, manager),
            done_at=None if i == 5 else at(10 + 8 * i),
        )
        for i, step in enumerate(steps)
    )
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(crisis=crisis, at=at(2), kind=TimelineKind.ALERT, text=alert.title),
            TimelineEntry(
                crisis=crisis, at=at(6), kind=TimelineKind.ALERT, text="Alerta reconocida", actor=cm
            ),
            TimelineEntry(
                crisis=crisis, at=at(9), kind=TimelineKind.OPENED, text="Modo crisis activado", actor=manager
            ),
            TimelineEntry(
                crisis=crisis,
                at=at(9),
                kind=TimelineKind.PUBLISHING,
                text="Publicación pausada: 3 publicaciones programadas retenidas",
                actor=manager,
            ),
            TimelineEntry(
                crisis=crisis,
                at=at(19),
                kind=TimelineKind.NOTE,
                text="Logística confirma un retraso de 48 h en el almacén de Sevilla",
                actor=manager,
            ),
            TimelineEntry(
                crisis=crisis,
                at=at(95),
                kind=TimelineKind.CLOSED,
                text="Modo crisis desactivado",
                actor=manager,
            ),
        ]
    )
    write_report(crisis)


def load_crisis(brand: Brand, owner: User, rate_per_minute: int) -> str:
    """The crisis part of the demo (once); returns a line for the loader's progress."""
    from tertulia.core.models import Membership, Role

    if not _crisis_tables_exist():
        return "crisis: tables not created yet (no migration), skipped"
    now = timezone.now()
    written = seed_history(brand, level=max(rate_per_minute, 2), now=now)
    written += seed_query_history(brand, level=max(rate_per_minute, 2), now=now)
    people: dict[str, User] = {"owner": owner}
    for member in Membership.objects.filter(
        organization_id=brand.organization_id, is_active=True
    ).select_related("user"):
        if member.role == Role.COMMUNITY_MANAGER:
            people.setdefault("cm", member.user)
        elif member.role == Role.BRAND_MANAGER:
            people.setdefault("manager", member.user)
    people.setdefault("cm", owner)
    people.setdefault("manager", owner)
    with transaction.atomic():
        _approve_statements(owner, brand)
        _escalation_chain(brand, [people["cm"], people["manager"], owner])
        _past_crisis(brand, people, now)
    return f"crisis: {written} minutes of demo history, playbook, escalation chain, a past crisis"
