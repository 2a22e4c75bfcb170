from __future__ import annotations

import click

from tertulia.cli.bootstrap import fail
from tertulia.connectors.registry import UnknownNetwork, connector_class, networks
from tertulia.core.actions.context import Actor
from tertulia.vault.actions import register_app
from tertulia.vault.models import NetworkApp

ALLOWED_SECRETS = {"client_secret", "webhook_secret"}


def parse_secrets(text: str) -> dict[str, str]:
    secrets: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or name not in ALLOWED_SECRETS:
            fail(f"line {number} of standard input: expected client_secret=... or webhook_secret=...")
        secrets[name] = value.strip()
    return secrets


def set_app(network: str, client_id: str, base_url: str, stdin: str) -> None:
    try:
        connector_class(network)
    except UnknownNetwork:
        fail(f"unknown network {network!r}: use one of {', '.join(networks())}")
    secrets = parse_secrets(stdin)
    register_app(Actor.cli(), network, client_id.strip(), secrets, base_url.strip().rstrip("/"))
    where = f" at {base_url}" if base_url else ""
    click.echo(f"app for {network}{where} saved ({', '.join(sorted(secrets)) or 'no secrets'})")


def list_apps() -> None:
    for app in NetworkApp.objects.order_by("network", "base_url"):
        click.echo(f"{app.network:<10} {app.base_url or '-':<40} client id {app.client_id}")
