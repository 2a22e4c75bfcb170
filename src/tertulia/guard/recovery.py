"""The compromised-account runbook: the checklist of an incident, and where each network takes
reports of hacked accounts (seed 000: "contact the network through its official process, prove you
own the brand"). docs/hijack-guard.md explains each step."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Step:
    key: str
    title: Promise
    help: Promise


CHECKLIST: tuple[Step, ...] = (
    Step(
        "contact_network",
        _("Report it to the network"),
        _("Use the network's official process for hacked accounts (link below), never a link sent to you."),
    ),
    Step(
        "prove_ownership",
        _("Prove the account is the brand's"),
        _(
            "Have ready what the network may ask: the e-mail or phone on the account, the brand's "
            "registration, invoices of ads paid from the account, an official letterhead."
        ),
    ),
    Step(
        "recover_access",
        _("Recover access"),
        _(
            "Reset the account's password through the network, end its other sessions, turn its "
            "second factor on."
        ),
    ),
    Step(
        "secure_email",
        _("Secure the account's e-mail"),
        _(
            "Change the password and the second factor of the e-mail address the account is registered "
            "with: whoever controls it can reset the account again."
        ),
    ),
    Step(
        "review_posts",
        _("Review what was published"),
        _(
            "Look at everything the account published since the compromise was suspected (list below and "
            "on the network itself) and delete what the attacker posted."
        ),
    ),
    Step(
        "review_apps",
        _("Review connected apps"),
        _("In the account's settings on the network, remove every app and session you do not recognise."),
    ),
    Step(
        "reconnect",
        _("Reconnect the channel in Tertulia"),
        _("Sign in again from Settings → Channels (or mark it reconnected for a network without sign-in)."),
    ),
    Step(
        "resume",
        _("Resume publishing"),
        _(
            "Only when the account is safe: closing the incident asks whether to resume. Held deliveries "
            "go out then; cancel the ones you do not want first."
        ),
    ),
    Step(
        "write_up",
        _("Write what happened"),
        _("How it was noticed, what the attacker did, how access was recovered, what changes now."),
    ),
)

STEP_KEYS = tuple(step.key for step in CHECKLIST)
# Ticked by closing the incident, never by hand.
CLOSING_STEPS = frozenset({"resume", "write_up"})


@dataclass(frozen=True)
class HelpLink:
    label: Promise
    url: str


# Official pages for hacked or compromised accounts. Mastodon and WordPress are run by their own
# servers' administrators: the incident page links to the server itself.
HELP: dict[str, HelpLink] = {
    "x": HelpLink(
        _("X: help with a compromised account"),
        "https://help.x.com/en/safety-and-security/x-account-compromised",
    ),
    "facebook": HelpLink(_("Facebook: report a hacked account"), "https://www.facebook.com/hacked"),
    "instagram": HelpLink(_("Instagram: report a hacked account"), "https://www.instagram.com/hacked/"),
    "linkedin": HelpLink(
        _("LinkedIn: compromised accounts"), "https://www.linkedin.com/help/linkedin/answer/a1340402"
    ),
    "bluesky": HelpLink(_("Bluesky: support"), "https://bsky.social/about/support"),
}


def help_for(network: str, settings: dict[str, object] | None = None) -> HelpLink | None:
    """Where to report the account on its network (None: the network has no such page)."""
    if network in HELP:
        return HELP[network]
    server = str((settings or {}).get("base_url") or "")
    if network == "mastodon" and server.startswith(("https://", "http://")):
        return HelpLink(
            _("The Mastodon server's administrators (its About page)"), server.rstrip("/") + "/about"
        )
    if network == "wordpress" and server.startswith(("https://", "http://")):
        return HelpLink(_("The WordPress site's administrators"), server.rstrip("/") + "/wp-admin/")
    return None
