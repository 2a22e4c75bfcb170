from __future__ import annotations

import click
from django.db.models import Count

from tertulia.cli.bootstrap import fail
from tertulia.config import ConfigError
from tertulia.vault import actions
from tertulia.vault.keys import add_key, load_keyring
from tertulia.vault.models import Credential


def print_status() -> None:
    try:
        keyring = load_keyring()
    except ConfigError as exc:
        fail(str(exc))
    counts = dict(Credential.objects.values_list("key_id").annotate(n=Count("id")).values_list("key_id", "n"))
    click.echo(f"keys from {keyring.source}")
    for key_id in keyring.keys:
        mark = " (current)" if key_id == keyring.current_id else ""
        click.echo(f"  {key_id}{mark}: {counts.pop(key_id, 0)} credentials")
    for key_id, n in counts.items():
        click.secho(f"  {key_id} (MISSING): {n} credentials cannot be opened", fg="red")


def rotate_keys(new_key: bool) -> None:
    try:
        if new_key:
            click.echo(f"new current key: {add_key()}")
        changed = actions.rotate()
    except ConfigError as exc:
        fail(str(exc))
    click.echo(f"re-wrapped {changed} credentials with the current key")
