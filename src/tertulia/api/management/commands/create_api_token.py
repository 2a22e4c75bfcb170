"""`tertulia manage create_api_token`: issue a personal access token from the command line.

For operators and scripts (the web UI calls the same action). The token is
printed once, on standard output; it is never stored or logged.
"""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tertulia.api.actions import TokenRefused, create_token
from tertulia.api.scopes import ALL_SCOPES
from tertulia.core.actions.context import Actor
from tertulia.core.models import Organization, User


class Command(BaseCommand):
    help = "Create a personal API token for a member of an organization and print it once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--email", required=True, help="The token's owner.")
        parser.add_argument("--organization", required=True, help="The organization's short name (slug).")
        parser.add_argument("--name", default="command line", help="A name to recognise the token by.")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            default=[],
            help="Repeat for each scope; 'all' (the default) for all the role allows. Known: "
            + ", ".join(ALL_SCOPES),
        )
        parser.add_argument("--days", type=int, default=None, help="Expire after this many days.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email=str(options["email"]).lower()).first()
        if user is None:
            raise CommandError(f"nobody has the e-mail address {options['email']}")
        organization = Organization.objects.filter(slug=options["organization"]).first()
        if organization is None:
            raise CommandError(f"there is no organization with the short name {options['organization']}")
        scopes: list[str] = options["scopes"] or ["all"]
        if "all" in scopes:
            from tertulia.api.scopes import allowed_scopes
            from tertulia.core.permissions import membership, permissions_of

            scopes = allowed_scopes(permissions_of(membership(user, organization)))
        days = options["days"]
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            _token, plaintext = create_token(
                Actor.cli(user), user, organization, options["name"], scopes, expires_at
            )
        except (TokenRefused, ValidationError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(plaintext)
