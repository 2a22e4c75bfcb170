"""The checkpoint every outgoing post and reply passes before it can leave.

Called where a person's action puts something on its way to a network, with that person's `Actor`
(who, and from which address and browser):

- a post, when it enters the delivery ledger (tertulia.publishing.actions.scheduling: scheduled or
  published now by a person, or scheduled by the approval that completed its review). The
  scheduler that sends it days later is not a person and judges nothing: the post was judged on
  who scheduled it and from where. A held post never enters the ledger, so it cannot reach a
  network until a second person releases it;
- a reply or direct message, when it is stored (tertulia.inbox.actions.replies): a held one stays
  in the "held" delivery state, which the delivery task never sends.

The reading is a few small indexed queries (a pause on the channels, the person's devices, two
rate aggregates, and the known domains when there are links; the settings and the brand's hour
pattern are cached), one insert into the short log bursts are measured on, and the signals are
pure functions (tertulia.guard.checks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Organization
from tertulia.guard.checks import burst, device, domains, hours, vocabulary
from tertulia.guard.checks.findings import COMPROMISED, Finding, score
from tertulia.guard.models import GuardSettings, ItemKind, KnownDevice, KnownDomain, OutgoingEvent

HOUR_PATTERN_WEEKS = 12
HOUR_PATTERN_CACHE_SECONDS = 900
KNOWN_DEVICES_READ = 200


@dataclass(frozen=True)
class Outgoing:
    """What is about to leave: on which channels, with which texts, when."""

    kind: str  # ItemKind
    organization: Organization
    brand: Brand
    channels: Sequence[Channel]
    texts: Sequence[str]
    send_at: datetime
    item: str  # "post:12", "reply:34"


@dataclass
class Verdict:
    findings: list[Finding]
    threshold: int
    device: device.Device | None = None
    domains: list[str] = field(default_factory=list)
    # The domains not known yet (None: not looked up, the domain signal is off).
    new_domains: list[str] | None = None
    known_devices: list[tuple[str, str, datetime]] = field(default_factory=list)

    @property
    def score(self) -> int:
        return score(self.findings)

    @property
    def held(self) -> bool:
        return bool(self.findings) and self.score >= self.threshold


SETTINGS_CACHE_SECONDS = 60


def settings_key(organization_id: int) -> str:
    return f"guard:settings:{organization_id}"


def settings_for(organization: Organization) -> GuardSettings:
    """The organization's settings (defaults if it never saved any). Cached a minute: a change is
    dropped from the cache when saved, and reaches other processes' local caches within the minute."""
    key = settings_key(organization.pk)
    cached = cache.get(key)
    if isinstance(cached, GuardSettings):
        return cached
    found = GuardSettings.objects.filter(organization=organization).first()
    config = found if found is not None else GuardSettings(organization=organization)
    cache.set(key, config, SETTINGS_CACHE_SECONDS)
    return config


def actor_device(actor: Actor) -> device.Device | None:
    network = device.network_of(actor.ip_address)
    if actor.user is None or not network:
        return None
    return device.Device(device.device_family(actor.user_agent), network)


def judge(actor: Actor, outgoing: Outgoing, config: GuardSettings) -> Verdict:
    """Every signal the organization has on, for this item. Reads only."""
    verdict = Verdict(findings=[], threshold=config.threshold)
    now = timezone.now()
    paused = _paused_channels(outgoing.channels)
    if paused:
        verdict.findings.append(Finding("channel_paused", COMPROMISED, {"handles": paused}))
    person = actor.user
    verdict.device = actor_device(actor)
    if config.check_device and verdict.device is not None and person is not None:
        verdict.known_devices = list(
            KnownDevice.objects.filter(user=person)
            .order_by("-last_seen")
            .values_list("family", "network", "last_seen")[:KNOWN_DEVICES_READ]
        )
        verdict.findings += device.device_findings(
            verdict.device, [(family, network) for family, network, _ in verdict.known_devices]
        )
    if config.check_hour and person is not None:
        zone = _zone(outgoing.brand)
        local = outgoing.send_at.astimezone(zone)
        found = hours.hour_finding(
            _hour_pattern(outgoing.brand, outgoing.kind, zone), local.weekday(), local.hour
        )
        if found is not None:
            verdict.findings.append(found)
    if config.check_burst and person is not None:
        verdict.findings += _bursts(person.pk, outgoing, now)
    verdict.domains = domains.domains_in(outgoing.texts)
    if config.check_domains and verdict.domains:
        known = _known_domains(outgoing.brand, verdict.domains, config)
        verdict.new_domains = [domain for domain in verdict.domains if not domains.is_known(domain, known)]
        found = domains.domain_finding(verdict.domains, known)
        if found is not None:
            verdict.findings.append(found)
    if config.check_vocabulary:
        found = vocabulary.vocabulary_finding(list(outgoing.texts))
        if found is not None:
            verdict.findings.append(found)
    return verdict


def _paused_channels(channels: Sequence[Channel]) -> list[str]:
    from tertulia.publishing.models import ChannelPause

    paused = set(
        ChannelPause.objects.filter(channel__in=list(channels), ended_at__isnull=True).values_list(
            "channel_id", flat=True
        )
    )
    return [channel.handle for channel in channels if channel.pk in paused]


def _zone(brand: Brand) -> ZoneInfo:
    from tertulia.publishing.actions.queue import brand_zone

    return brand_zone(brand)


def _hour_pattern(brand: Brand, kind: str, zone: ZoneInfo) -> dict[int, int]:
    """The brand's sends of this kind over the last 12 weeks, per hour of the week (cached)."""
    key = f"guard:hours:{kind}:{brand.pk}:{zone.key}"
    cached = cache.get(key)
    if isinstance(cached, dict):
        return cached
    since = timezone.now() - timedelta(weeks=HOUR_PATTERN_WEEKS)
    rows: QuerySet[Any]
    if kind == ItemKind.POST:
        from tertulia.publishing.models import DeliveryTarget, TargetState

        rows = DeliveryTarget.objects.filter(brand=brand, state=TargetState.SENT, sent_at__gte=since)
    else:
        from tertulia.inbox.models import Delivery, Direction, Message

        rows = Message.objects.filter(
            brand=brand, direction=Direction.OUTBOUND, delivery=Delivery.SENT, sent_at__gte=since
        )
    field_name = "sent_at"
    pattern: dict[int, int] = {}
    grouped = (
        rows.annotate(
            day=ExtractIsoWeekDay(field_name, tzinfo=zone), hour=ExtractHour(field_name, tzinfo=zone)
        )
        .values("day", "hour")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in grouped:
        cell = hours.slot(int(row["day"]) - 1, int(row["hour"]))
        pattern[cell] = pattern.get(cell, 0) + int(row["n"])
    cache.set(key, pattern, HOUR_PATTERN_CACHE_SECONDS)
    return pattern


def bucket_of(moment: datetime) -> int:
    return int(moment.timestamp()) // (burst.WINDOW_MINUTES * 60)


def _bursts(user_id: int, outgoing: Outgoing, now: datetime) -> list[Finding]:
    window = timedelta(minutes=burst.WINDOW_MINUTES)
    since = now - timedelta(days=burst.HISTORY_DAYS)
    found: list[Finding] = []
    person = OutgoingEvent.objects.filter(user_id=user_id, kind=outgoing.kind, acted_at__gte=since).aggregate(
        recent=Count("item", distinct=True, filter=Q(acted_at__gte=now - window)),
        items=Count("item", distinct=True, filter=Q(acted_at__lt=now - window, held=False)),
        windows=Count("bucket", distinct=True, filter=Q(acted_at__lt=now - window, held=False)),
    )
    rate = burst.Rate(int(person["recent"] or 0) + 1, int(person["items"] or 0), int(person["windows"] or 0))
    hit = burst.person_burst(rate, outgoing.kind)
    if hit is not None:
        found.append(hit)
    # The channel: what goes out around this item's own time (a post scheduled for next week is
    # compared with what else goes out then).
    when = outgoing.send_at
    start, end = (
        (when - window / 2, when + window / 2) if outgoing.kind == ItemKind.POST else (when - window, when)
    )
    rows = (
        OutgoingEvent.objects.filter(
            channel__in=list(outgoing.channels),
            kind=outgoing.kind,
            sends_at__gte=when - timedelta(days=burst.HISTORY_DAYS),
            sends_at__lte=end,
        )
        .values("channel_id")
        .annotate(
            recent=Count("item", distinct=True, filter=Q(sends_at__gte=start)),
            items=Count("item", distinct=True, filter=Q(sends_at__lt=start, held=False)),
            windows=Count("send_bucket", distinct=True, filter=Q(sends_at__lt=start, held=False)),
        )
        .order_by()
    )
    handles = {channel.pk: channel.handle for channel in outgoing.channels}
    for row in rows:
        rate = burst.Rate(int(row["recent"] or 0) + 1, int(row["items"] or 0), int(row["windows"] or 0))
        hit = burst.channel_burst(rate, outgoing.kind, handles.get(row["channel_id"], "?"))
        if hit is not None:
            found.append(hit)
            break  # one channel is enough to say it
    return found


def _known_domains(brand: Brand, found: Sequence[str], config: GuardSettings) -> set[str]:
    candidates = {parent for domain in found for parent in domains.parents(domain)}
    known = set(
        KnownDomain.objects.filter(brand=brand, domain__in=sorted(candidates)).values_list(
            "domain", flat=True
        )
    )
    return known | {domains.normalize_domain(domain) for domain in config.trusted()}
