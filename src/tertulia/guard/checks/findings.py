"""What a signal found, its weight, and its reason in the reader's language.

The weights are documented in docs/hijack-guard.md; an item is held when the sum reaches the
organization's threshold (tertulia.guard.models.settings.THRESHOLDS: 70, 50 or 35).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class Finding:
    code: str
    weight: int
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "weight": self.weight, "params": dict(self.params)}


# Weights of the signals that have one fixed weight (scam vocabulary adds up per category, see
# tertulia.guard.checks.vocabulary.CATEGORY_WEIGHTS).
NEW_NETWORK = 25  # an address range the person has never worked from
NEW_DEVICE = 15  # a browser or client family never seen for the person
ODD_HOUR = 20  # an hour of the week the brand (almost) never sends at
BURST = 35  # many sends in a few minutes, beyond the usual rate
NEW_DOMAIN = 25  # a link to a domain the brand never linked to
COMPROMISED = 100  # the channel was reported compromised (its publishing paused): everything waits


def score(findings: Sequence[Finding]) -> int:
    return sum(finding.weight for finding in findings)


def _list(values: Any, limit: int = 5) -> str:
    items = [str(value) for value in (values or [])][:limit]
    return ", ".join(items)


def describe(reason: Mapping[str, Any]) -> str:
    """A stored finding ({"code", "weight", "params"}) as a sentence in the active language."""
    code = str(reason.get("code", ""))
    params: Mapping[str, Any] = reason.get("params") or {}
    if code == "new_network":
        return _("First time this person works from the network %(network)s.") % {
            "network": params.get("network", "?")
        }
    if code == "new_device":
        return _("First time this person works from “%(device)s”.") % {"device": params.get("device", "?")}
    if code == "odd_hour":
        return _(
            "The brand almost never sends at this hour: %(sends)d of its last %(total)d sends were "
            "within an hour of %(weekday)s %(hour)02d:00."
        ) % {
            "sends": int(params.get("sends", 0)),
            "total": int(params.get("total", 0)),
            "weekday": _weekday(int(params.get("weekday", 0))),
            "hour": int(params.get("hour", 0)),
        }
    if code == "burst_person":
        count = int(params.get("count", 0))
        return ngettext(
            "A burst: %(count)d item sent by this person in %(minutes)d minutes (usually up to %(usual)d).",
            "A burst: %(count)d items sent by this person in %(minutes)d minutes (usually up to %(usual)d).",
            count,
        ) % {"count": count, "minutes": int(params.get("minutes", 10)), "usual": int(params.get("usual", 0))}
    if code == "burst_channel":
        count = int(params.get("count", 0))
        return ngettext(
            "A burst: %(count)d item going out on @%(handle)s within %(minutes)d minutes "
            "(usually up to %(usual)d).",
            "A burst: %(count)d items going out on @%(handle)s within %(minutes)d minutes "
            "(usually up to %(usual)d).",
            count,
        ) % {
            "count": count,
            "handle": params.get("handle", "?"),
            "minutes": int(params.get("minutes", 10)),
            "usual": int(params.get("usual", 0)),
        }
    if code == "new_domain":
        return _("Links to a domain the brand never linked to: %(domains)s.") % {
            "domains": _list(params.get("domains"))
        }
    if code == "scam_vocabulary":
        labels = [_category(str(name)) for name in params.get("categories", [])]
        found = _list(params.get("matches"), 3)
        return _("Scam vocabulary: %(kinds)s (%(found)s).") % {"kinds": "; ".join(labels), "found": found}
    if code == "channel_paused":
        return _(
            "Publishing on %(handles)s is paused (the account was reported compromised): "
            "everything it would send waits for review."
        ) % {"handles": ", ".join(f"@{handle}" for handle in (params.get("handles") or [])[:5])}
    if code == "crisis_mode":
        return _(
            "The brand is in crisis mode: a reply by someone who is not a crisis approver waits for one."
        )
    if code == "compromised":
        return _("The channel was reported compromised: everything it would send waits for review.")
    return code


def _category(name: str) -> str:
    labels = {
        "send_and_get_back": _("“send crypto, get more back”"),
        "doubling": _("an offer to double money or crypto"),
        "wallet_secret": _("a request for a wallet's seed phrase or private key"),
        "giveaway": _("a crypto giveaway"),
        "phishing": _("an account-verification lure"),
        "wallet_address": _("a crypto wallet address"),
    }
    return str(labels.get(name, name))


def _weekday(number: int) -> str:
    names = [
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    ]
    return str(names[number % 7])
