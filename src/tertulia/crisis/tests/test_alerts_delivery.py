"""Telling people for real: e-mail through a real SMTP server (aiosmtpd) in each person's language with
the signed acknowledge link, and webhooks to a real local HTTP receiver in Slack and Mattermost
format. The link: GET changes nothing, POST acknowledges; expired, tampered, someone else's or used
links are refused."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from tertulia.core.tests.outbound_server import Site
from tertulia.crisis import alerts, escalation
from tertulia.crisis.models import Alert, AlertNotice, AlertState, Medium
from tertulia.crisis.tests.alerts_support import HOSTILE, Team, actor, chain, make_surge, team
from tertulia.governance.tests.conftest import StartSmtp, smtp_server, tls_authority
from tertulia.webhooks import actions as webhook_actions
from tertulia.webhooks.models import Delivery, DeliveryState, Format

__all__ = ["smtp_server", "team", "tls_authority"]

LINK = re.compile(r"https?://\S+/crisis/alerts/ack/(\S+)/")


def tell_now(alert: Alert) -> None:
    escalation.escalate_due(timezone.now() + timedelta(seconds=1), only=alert.pk)


def test_each_person_gets_the_email_in_their_language_with_a_link(
    team: Team, smtp_server: StartSmtp, settings
) -> None:
    settings.TERTULIA_PUBLIC_URL = "https://social.example.com"
    server = smtp_server()
    chain(team, (team.owner, 0, True), (team.lead, 0, True))  # the owner reads Spanish, the lead English
    alert = alerts.raise_for_surge(make_surge(team.brand))
    tell_now(alert)
    escalation.escalate_due(timezone.now() + timedelta(minutes=1))
    assert [m.rcpt_tos for m in server.messages] == [["duena@example.com"], ["jefa@example.com"]]
    spanish, english = (m.message for m in server.messages)
    with translation.override("es"):
        prefix_es = gettext("Crisis alert: %(title)s").split("%")[0]
    assert spanish["Subject"].startswith(prefix_es) and english["Subject"].startswith("Crisis alert: ")
    body_es = spanish.get_content()
    body_en = english.get_content()
    assert "refund" in body_en and "@loud_customer" in body_en and "5.2 times" in body_en
    assert "https://social.example.com/crisis/alerts/ack/" in body_en
    assert f"https://social.example.com/crisis/alerts/{alert.pk}/" in body_en
    assert body_es != body_en
    assert all(n.error == "" for n in AlertNotice.objects.filter(medium=Medium.EMAIL))


def _link_for(team: Team, smtp_server: StartSmtp, who: str = "guardia@example.com") -> tuple[Alert, str]:
    server = smtp_server()
    chain(team, (team.oncall, 0, True))
    alert = alerts.raise_for_surge(make_surge(team.brand))
    tell_now(alert)
    [arrived] = [m for m in server.messages if who in m.rcpt_tos]
    found = LINK.search(arrived.message.get_content())
    assert found is not None
    return alert, "/crisis/alerts/ack/" + found.group(1) + "/"


def test_the_link_confirms_on_get_and_acknowledges_on_post(team: Team, smtp_server: StartSmtp) -> None:
    alert, path = _link_for(team, smtp_server)
    browser = Client()
    page = browser.get(path)
    assert page.status_code == 200 and b"ack-confirm" in page.content
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN  # GET changes nothing
    done = browser.post(path)
    assert done.status_code == 200 and b"ack-done" in done.content
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == team.oncall
    # Used: the same link is refused now.
    again = browser.post(path)
    assert again.status_code == 400
    assert Alert.objects.get(pk=alert.pk).acknowledged_by == team.oncall


def test_an_expired_link_is_refused(team: Team, smtp_server: StartSmtp, settings, monkeypatch) -> None:
    alert, path = _link_for(team, smtp_server)
    settings.TERTULIA_CRISIS_ACK_LINK_HOURS = 1
    assert Client().get(path).status_code == 200  # fresh: fine
    # The same link made two hours ago.
    now = time.time()
    with monkeypatch.context() as patched:
        patched.setattr(time, "time", lambda: now - 7200)
        expired = escalation.ack_token(alert, team.oncall)
    response = Client().post(f"/crisis/alerts/ack/{expired}/")
    assert response.status_code == 400 and b"expired" in response.content
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN


def test_a_tampered_link_is_refused(team: Team, smtp_server: StartSmtp) -> None:
    alert, path = _link_for(team, smtp_server)
    token = path.split("/")[-2]
    # The same signature over a payload that names another alert.
    payload, stamp, signature = escalation.ack_token(alert, team.oncall).split(":")
    forged = json.dumps({"a": alert.pk + 1, "u": team.oncall.pk}, separators=(",", ":")).encode()
    other = ":".join((signing.b64_encode(forged).decode(), stamp, signature))
    assert other.split(":")[0] != payload
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), other, "nonsense"):
        response = Client().post(f"/crisis/alerts/ack/{bad}/")
        assert response.status_code == 400
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN


def test_someone_elses_link_or_a_person_who_left_the_brand(team: Team, smtp_server: StartSmtp) -> None:
    alert, path = _link_for(team, smtp_server)
    browser = Client()
    browser.force_login(team.lead)  # signed in as someone else on this browser
    assert browser.post(path).status_code == 400
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN
    # A link made for someone who does not work in the brand does nothing.
    outsider = escalation.ack_token(alert, team.elsewhere)
    assert Client().post(f"/crisis/alerts/ack/{outsider}/").status_code == 400
    rival = escalation.ack_token(alert, team.rival)
    assert Client().post(f"/crisis/alerts/ack/{rival}/").status_code == 400
    assert Alert.objects.get(pk=alert.pk).state == AlertState.OPEN


@pytest.fixture
def receiver(settings):
    with Site().running() as site:
        settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{site.port}"
        site.route("/slack", b"ok")
        site.route("/mattermost", b"ok")
        site.route("/generic", b"ok")
        yield site


EVENTS = ["crisis.alert", "crisis.escalated", "crisis.acknowledged", "crisis.resolved"]


def test_webhooks_get_a_text_that_explains_itself(
    team: Team, receiver: Site, django_capture_on_commit_callbacks, settings
) -> None:
    settings.TERTULIA_PUBLIC_URL = "https://social.example.com"
    system = actor(team.owner)
    for fmt, path in (
        (Format.SLACK, "/slack"),
        (Format.MATTERMOST, "/mattermost"),
        (Format.GENERIC, "/generic"),
    ):
        webhook_actions.create_endpoint(
            system, team.org, name=f"Crisis {fmt}", url=receiver.url + path, format=fmt, event_types=EVENTS
        )
    chain(team, (team.oncall, 0, False), (team.lead, 5, False))
    surge = make_surge(
        team.brand,
        explanation={
            "top_terms": [HOSTILE, "@channel", "refund"],
            "authors": [],
            "examples": [{"text": HOSTILE}],
        },
    )
    alert = alerts.raise_for_surge(surge)
    with django_capture_on_commit_callbacks(execute=True):
        tell_now(alert)
    [slack] = receiver.seen("/slack")
    [mattermost] = receiver.seen("/mattermost")
    [generic] = receiver.seen("/generic")
    text = json.loads(slack.body)["text"]
    assert "Marca" in text and "5.2 times" in text and "Ana Guardia" in text and "refund" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "https://social.example.com/crisis/alerts/" in text
    mm = json.loads(mattermost.body)["text"]
    assert "@channel" not in mm and "\uff20channel" in mm
    envelope = json.loads(generic.body)
    assert envelope["type"] == "crisis.alert"
    assert envelope["data"]["alert"]["id"] == alert.pk and envelope["data"]["surge"]["ratio"] == 5.2
    # Nobody acknowledges: escalated; then acknowledged and resolved, each told to the webhooks.
    with django_capture_on_commit_callbacks(execute=True):
        escalation.escalate_due(timezone.now() + timedelta(minutes=6))
    escalated = json.loads(receiver.seen("/slack")[-1].body)["text"]
    assert "Bea Jefa" in escalated and "step 2 of 2" in escalated
    with django_capture_on_commit_callbacks(execute=True):
        alerts.acknowledge(actor(team.lead), alert)
    assert "acknowledged" in json.loads(receiver.seen("/slack")[-1].body)["text"]
    with django_capture_on_commit_callbacks(execute=True):
        alerts.resolve(actor(team.lead), alert)
    assert "resolved" in json.loads(receiver.seen("/slack")[-1].body)["text"]
    types = [json.loads(s.body)["type"] for s in receiver.seen("/generic")]
    assert types == EVENTS
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}
    # One notice per telling and announcement, each recorded as sent.
    hooks = AlertNotice.objects.filter(alert=alert, medium=Medium.WEBHOOK)
    assert hooks.count() == 4 and not hooks.exclude(error="").exists()
