"""Stage a burst of due posts on sandbox channels: for load tests, the benchmark and rehearsals.

    tertulia manage publishing_burst --channels 300 --targets 10000 --in 30

Creates (or reuses) an organization "Burst <name>" with one brand and N sandbox channels, then
posts with a variant on up to five channels each, all due at the same moment. Every target's text
is unique, so what reached the network can be counted target by target. Prints a JSON summary.
Sandbox only: it never touches a real network. (`burst_brand` and `stage_burst` stage the same burst on
channels of any network: the Bluesky kill test uses them on reference-network accounts.)
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tertulia.connectors.sandbox.models import SandboxAccount
from tertulia.core.actions.brands import create_brand
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import create_organization
from tertulia.core.models import Brand, Channel, Organization, User
from tertulia.publishing.delivery.ledger import new_idempotency_key
from tertulia.publishing.models import DeliveryTarget, Post, PostState, TargetState, Variant

PER_POST = 5
ACTOR = Actor.cli()


class Command(BaseCommand):
    help = "Stage a burst of posts due at one moment on sandbox channels (load tests, rehearsals)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default="load", help="Names the organization: Burst <name>.")
        parser.add_argument("--channels", type=int, default=10)
        parser.add_argument("--targets", type=int, default=100)
        when = parser.add_mutually_exclusive_group()
        when.add_argument(
            "--in", dest="in_seconds", type=float, default=0.0, help="Due in this many seconds."
        )
        when.add_argument("--at", help="Due at this moment (ISO 8601 with offset).")
        parser.add_argument("--write-limit", type=int, default=300, help="Posts per window per channel.")
        parser.add_argument("--write-window", type=int, default=300, help="The window, in seconds.")
        parser.add_argument(
            "--response-delay-ms",
            type=int,
            default=0,
            help="The network answers a post this much later (at most 1000).",
        )
        parser.add_argument(
            "--no-idempotency-keys",
            action="store_true",
            help="The channels' accounts ignore idempotency keys, as X and Facebook do.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["channels"] <= 5000 or not 1 <= options["targets"] <= 200_000:
            raise CommandError("--channels must be 1..5000 and --targets 1..200000")
        due_at = self._due(options)
        brand = burst_brand(options["name"])
        channels = self._channels(brand, options)
        count = stage_burst(brand, channels, options["targets"], due_at)
        summary = {
            "organization": brand.organization_id,
            "brand": brand.pk,
            "channels": len(channels),
            "targets": count,
            "due_at": due_at.isoformat(),
        }
        self.stdout.write(json.dumps(summary))

    def _due(self, options: dict[str, Any]) -> datetime:
        if options["at"]:
            parsed = parse_datetime(options["at"])
            if parsed is None or timezone.is_naive(parsed):
                raise CommandError("--at must be ISO 8601 with an offset, e.g. 2026-11-21T10:00:00+01:00")
            return parsed
        return timezone.now() + timedelta(seconds=options["in_seconds"])

    def _channels(self, brand: Brand, options: dict[str, Any]) -> list[Channel]:
        existing = {c.handle: c for c in Channel.objects.filter(brand=brand, network="sandbox")}
        channels = []
        for n in range(options["channels"]):
            handle = f"burst_{brand.pk}_{n}"[:30]
            channels.append(existing.get(handle) or connect_channel(ACTOR, brand, "sandbox", f"@{handle}"))
        SandboxAccount.objects.filter(handle__in=[c.handle for c in channels]).update(
            write_limit=options["write_limit"],
            write_window_seconds=options["write_window"],
            keeps_idempotency_keys=not options["no_idempotency_keys"],
            response_delay_ms=min(
                max(options["response_delay_ms"], 0), 1000
            ),  # see SandboxConnector.call_seconds
        )
        return channels


def burst_brand(name: str) -> Brand:
    """The brand of the organization "Burst <name>", created with its owner the first time."""
    organization = Organization.objects.filter(name=f"Burst {name}").first()
    if organization is None:
        owner, created = User.objects.get_or_create(email=f"burst-{name}@tertulia.invalid"[:200])
        if created:
            owner.set_unusable_password()
            owner.save(update_fields=["password"])
        organization = create_organization(ACTOR, f"Burst {name}", owner=owner)
    brand = organization.brands.first()
    return brand or create_brand(ACTOR, organization, name=f"Burst {name}")


@transaction.atomic
def stage_burst(brand: Brand, channels: list[Channel], targets: int, due_at: datetime) -> int:
    """`targets` deliveries due at `due_at`, spread over `channels`, each with a text of its own."""
    run = timezone.now().strftime("%H%M%S%f")
    # A post goes to each channel at most once: with fewer channels, each post has fewer targets.
    per_post = min(PER_POST, len(channels))
    posts = Post.objects.bulk_create(
        Post(
            organization_id=brand.organization_id,
            brand=brand,
            title=f"Burst {run} #{n}",
            text=f"Burst {run} #{n}",
            state=PostState.SCHEDULED,
            scheduled_at=due_at,
        )
        for n in range(math.ceil(targets / per_post))
    )
    # Consecutive targets of a post land on consecutive (so distinct) channels.
    variants = Variant.objects.bulk_create(
        Variant(post=posts[i // per_post], channel=channels[i % len(channels)]) for i in range(targets)
    )
    DeliveryTarget.objects.bulk_create(
        (
            DeliveryTarget(
                organization_id=brand.organization_id,
                brand=brand,
                post=v.post,
                variant=v,
                channel=v.channel,
                state=TargetState.SCHEDULED,
                due_at=due_at,
                next_attempt_at=due_at,
                payload={"text": f"{v.post.text} @ {v.channel.handle}", "media": []},
                idempotency_key=new_idempotency_key(),
            )
            for v in variants
        ),
        batch_size=1000,
    )
    return len(variants)
