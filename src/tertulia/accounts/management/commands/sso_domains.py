"""`tertulia manage sso_domains`: the operator's say on which organization owns an e-mail domain.

An organization's owner lists the domains its single sign-on covers; a domain does nothing (no
routing, no "SSO only", no accounts created or linked) until the installation's operator, who can
check that the organization really controls it, verifies it here. See docs/security.md.

    tertulia manage sso_domains list
    tertulia manage sso_domains verify example.com
    tertulia manage sso_domains unverify example.com
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tertulia.accounts.actions.sso import SsoError, unverify_domain, verify_domain
from tertulia.accounts.models import SsoDomain
from tertulia.core.actions.context import Actor


class Command(BaseCommand):
    help = "List, verify or unverify the e-mail domains organizations claim for their single sign-on."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["list", "verify", "unverify"])
        parser.add_argument("domain", nargs="?", default="", help="The domain, for verify and unverify.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            rows = SsoDomain.objects.select_related("connection__organization").order_by("domain")
            if not rows:
                self.stdout.write("No organization claims a domain for single sign-on.")
            for row in rows:
                state = (
                    f"verified {row.verified_at:%Y-%m-%d} by {row.verified_by}"
                    if row.is_verified
                    else "NOT verified"
                )
                self.stdout.write(
                    f"{row.domain}\t{row.connection.organization.slug}\t{row.connection.issuer}\t{state}"
                )
            return
        if not options["domain"]:
            raise CommandError(f"say which domain to {action}")
        try:
            if action == "verify":
                found = verify_domain(Actor.cli(), options["domain"])
            else:
                found = unverify_domain(Actor.cli(), options["domain"])
        except SsoError as exc:
            raise CommandError(str(exc)) from None
        organization = found.connection.organization
        self.stdout.write(
            f"{found.domain} ({organization.slug}): {'verified' if found.is_verified else 'not verified'}"
        )
