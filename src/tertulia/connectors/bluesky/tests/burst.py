"""Stage a burst of due deliveries on Bluesky channels, inside a child `tertulia` process.

test_publish_kill.py runs it in the child's data directory, the way an operator's command would:

    tertulia manage shell -c "from tertulia.connectors.bluesky.tests.burst import main; main()"

with a JSON request on standard input — {"name", "pds", "targets", "accounts": [{"handle",
"app_password"}], "service"} — and reads one JSON line back: {"organization", "targets", "channels":
{handle: did}}. Each account is connected as a channel the way Settings does it (an app password, only
the session kept, sealed in the vault), except that the channel talks to its PDS through `service` when
one is given (the test's proxy). The deliveries are staged by publishing_burst's `stage_burst`, due now,
each with a text of its own so the network can be counted target by target.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace

from django.utils import timezone

from tertulia.connectors.bluesky.connector import BlueskyConnector
from tertulia.core.actions.channels import connect_or_reconnect
from tertulia.core.actions.context import Actor
from tertulia.core.models import Channel
from tertulia.publishing.management.commands.publishing_burst import burst_brand, stage_burst


def main() -> None:
    request = json.load(sys.stdin)
    actor = Actor.cli()
    brand = burst_brand(str(request["name"]))
    channels: list[Channel] = []
    for account in request["accounts"]:
        # What connecting.connect_with_password does, with the service the test asks for.
        connected = BlueskyConnector.connect_with_password(
            str(account["handle"]), str(account["app_password"]), str(request["pds"])
        )
        service = str(request.get("service") or connected.credentials["service"])
        connected = replace(connected, credentials={**connected.credentials, "service": service})
        channels.append(connect_or_reconnect(actor, brand, "bluesky", connected, {"service": service}))
    count = stage_burst(brand, channels, int(request["targets"]), timezone.now())
    summary = {
        "organization": brand.organization_id,
        "targets": count,
        "channels": {channel.handle: channel.external_id for channel in channels},
    }
    sys.stdout.write(json.dumps(summary) + "\n")
