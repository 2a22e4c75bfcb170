"""The post-incident report: what it says (timeline, durations, numbers, checklist, roles), that people's
text is escaped in the Markdown and in the page, the download, editing, permissions and tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from tertulia.api.tests.conftest import Api
from tertulia.connectors.sandbox import network  # noqa: F401  # registers the sandbox network
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry
from tertulia.crisis import report as reports
from tertulia.crisis.models import (
    Alert,
    AlertState,
    Bucket,
    ChecklistItem,
    Crisis,
    CrisisRole,
    CrisisState,
    HoldingStatement,
    Playbook,
    Surge,
    TimelineEntry,
    Watch,
    WatchKind,
)
from tertulia.guard.models import GuardHold, HoldCause, HoldState, ItemKind
from tertulia.inbox.models import Conversation, Message
from tertulia.web.tests.helpers import signed_in

from .playbooks_support import HOSTILE, Team, team, token, web

__all__ = ["team"]

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def build_crisis(team: Team, *, closed: bool = True) -> Crisis:
    """A surge at 09:00, detected 09:02, alerted 09:02, acknowledged 09:05, crisis 09:06, first holding
    statement 09:10, closed 10:30 UTC (the report speaks Europe/Madrid: one hour later)."""
    brand = team.brand
    watch = Watch.objects.create(organization=team.org, brand=brand, kind=WatchKind.BRAND)
    for minute in range(-10, 90):
        volume = 40 if 0 <= minute < 20 else 5
        Bucket.objects.create(
            watch=watch, minute=T0 + timedelta(minutes=minute), volume=volume, negative=volume // 2
        )
    Bucket.objects.filter(watch=watch, minute=T0 + timedelta(minutes=7)).update(volume=55, negative=50)
    surge = Surge.objects.create(
        organization=team.org,
        brand=brand,
        watch=watch,
        metric="volume",
        started_at=T0,
        detected_at=T0 + timedelta(minutes=2),
        window_minutes=5,
        observed=200,
        expected=25,
        ratio=8,
        p_value=1e-9,
    )
    alert = Alert.objects.create(
        organization=team.org,
        brand=brand,
        surge=surge,
        title=f"Alert {HOSTILE}",
        raised_at=T0 + timedelta(minutes=2),
        state=AlertState.RESOLVED,
        acknowledged_by=team.manager,
        acknowledged_at=T0 + timedelta(minutes=5),
    )
    playbook = Playbook.objects.create(organization=team.org, brand=brand, name=HOSTILE, is_default=True)
    HoldingStatement.objects.create(
        playbook=playbook, shortcut="holding", language="es", title="Espera", body="Lo estamos revisando."
    )
    crisis = Crisis.objects.create(
        organization=team.org,
        brand=brand,
        title=f"Caída {HOSTILE}",
        alert=alert,
        playbook=playbook,
        opened_by=team.manager,
        opened_at=T0 + timedelta(minutes=6),
        state=CrisisState.CLOSED if closed else CrisisState.ACTIVE,
        closed_by=team.owner if closed else None,
        closed_at=T0 + timedelta(minutes=90) if closed else None,
    )
    ChecklistItem.objects.create(
        crisis=crisis,
        position=0,
        title="Confirma qué pasa",
        role="monitor",
        done_by=team.cm,
        done_at=T0 + timedelta(minutes=8),
        note=f"nota {HOSTILE}",
    )
    ChecklistItem.objects.create(crisis=crisis, position=1, title=f"Avisa {HOSTILE}", role="lead")
    CrisisRole.objects.create(crisis=crisis, user=team.manager, role="lead")
    TimelineEntry.objects.create(
        crisis=crisis, at=T0 + timedelta(minutes=6), kind="opened", text="on", actor=team.manager
    )
    TimelineEntry.objects.create(
        crisis=crisis,
        at=T0 + timedelta(minutes=20),
        kind="note",
        text=f"# heading\n- {HOSTILE}",
        actor=team.cm,
    )
    channel = connect_channel(Actor.system(), brand, "sandbox", "@marca_pb", "Marca")
    conversation = Conversation.objects.create(
        organization=team.org, brand=brand, channel=channel, key="c1", kind="mention", last_message_at=T0
    )
    for minutes, text in ((10, "Hola. Lo estamos revisando. Gracias"), (12, "otra respuesta")):
        Message.objects.create(
            organization=team.org,
            brand=brand,
            channel=channel,
            conversation=conversation,
            kind="mention",
            direction="out",
            delivery="sent",
            text=text,
            sent_at=T0 + timedelta(minutes=minutes),
        )
    hold = GuardHold.objects.create(
        organization=team.org, brand=brand, kind=ItemKind.REPLY, cause=HoldCause.CRISIS
    )
    GuardHold.objects.filter(pk=hold.pk).update(
        created_at=T0 + timedelta(minutes=15), state=HoldState.RELEASED
    )
    return crisis


def test_the_report_tells_what_happened_how_fast_and_the_numbers(team: Team):
    crisis = build_crisis(team)
    text = reports.write_report(crisis)
    assert Crisis.objects.get(pk=crisis.pk).report == text  # stored at close
    # How fast, from the surge's start (Europe/Madrid times).
    assert "**Surge detected:** 2026-11-02 10:02 (+2 minutes)" in text
    assert "**Alert acknowledged:** 2026-11-02 10:05 (+5 minutes)" in text
    assert "**Crisis mode on:** 2026-11-02 10:06 (+6 minutes)" in text
    assert "**First holding statement sent:** 2026-11-02 10:10 (+10 minutes)" in text
    assert "**Resolved:** 2026-11-02 11:30 (+90 minutes)" in text
    # The numbers.
    assert "Peak volume: 55 messages in one minute (2026-11-02 10:07)" in text
    assert "Negative share: " in text
    assert "Replies held for a crisis approver: 1 (1 released)" in text
    assert "Replies sent: 2" in text
    assert "Posts held by the pause: 0" in text
    # The checklist: who ticked what when; what was left undone.
    assert "✔ Confirma qué pasa [Watches the numbers]: 2026-11-02 10:08, Cm" in text
    assert "### Left undone" in text and "✘ Avisa" in text
    assert "- Leads the response: Gestora" in text
    assert "## What went well" in text and "## What to change" in text


def test_hostile_text_is_escaped_in_the_markdown(team: Team):
    text = reports.write_report(build_crisis(team))
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text or "&lt;script\\>" in text
    assert "[l](javascript" not in text  # no link can be formed
    assert "\n# heading" not in text  # a note cannot open a heading
    html = str(reports.render_markdown(text))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert" in html
    assert "<a " not in html


def test_render_markdown_is_a_safe_subset():
    html = str(reports.render_markdown("# T <b>\n\n- **a** <i>x</i>\n1. one\n\ntext & more\\*"))
    assert html.startswith("<h2>T &lt;b&gt;</h2>")
    assert "<ul>\n<li><strong>a</strong> &lt;i&gt;x&lt;/i&gt;</li>\n</ul>" in html
    assert "<ol>\n<li>one</li>\n</ol>" in html
    assert "<p>text &amp; more*</p>" in html


def test_people_complete_the_report_and_the_download_is_escaped(team: Team):
    crisis = build_crisis(team)
    reports.write_report(crisis)
    with pytest.raises(reports.ReportRefused):
        reports.update_report(web(team.cm), crisis, "x", "y")
    with pytest.raises(reports.ReportRefused):
        reports.update_report(web(team.manager), crisis, "x\x00", "")
    saved = reports.update_report(web(team.manager), crisis, f"# Mine\n{HOSTILE}", f"Lección {HOSTILE}")
    assert saved.report == f"# Mine\n{HOSTILE}" and saved.lessons.startswith("Lección")
    assert AuditEntry.objects.filter(action="crisis.report_edit").exists()
    download = reports.download_text(saved)
    assert "<script" not in download and "<img" not in download
    assert download.startswith("# Mine") and "## What we learned" in download


def test_an_active_crisis_has_no_stored_report(team: Team):
    crisis = build_crisis(team, closed=False)
    text = reports.write_report(crisis)
    assert "still on" in text and Crisis.objects.get(pk=crisis.pk).report == ""
    with pytest.raises(reports.ReportRefused):
        reports.update_report(web(team.manager), crisis, "x", "")


def test_the_report_page_download_and_edit(team: Team):
    crisis = build_crisis(team)
    reports.write_report(crisis)
    body = signed_in(team.cm).get(reverse("web:crisis-report", args=[crisis.pk])).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body
    assert "<img src=x" not in body
    assert reverse("web:crisis-report-edit", args=[crisis.pk]) not in body  # a CM reads it only
    download = signed_in(team.cm).get(reverse("web:crisis-report-download", args=[crisis.pk]))
    assert download["Content-Type"].startswith("text/markdown")
    assert "attachment" in download["Content-Disposition"]
    assert b"<script" not in download.content
    manager = signed_in(team.manager)
    edit = manager.get(reverse("web:crisis-report-edit", args=[crisis.pk])).content.decode()
    assert "&lt;script&gt;" in edit and "<script>alert" not in edit
    response = manager.post(
        reverse("web:crisis-report-edit", args=[crisis.pk]), {"report": "# Hecho\n- bien", "lessons": HOSTILE}
    )
    assert response.status_code == 302
    assert Crisis.objects.get(pk=crisis.pk).report == "# Hecho\n- bien"
    assert (
        signed_in(team.cm)
        .post(reverse("web:crisis-report-edit", args=[crisis.pk]), {"report": "no", "lessons": ""})
        .status_code
        == 403
    )
    page = signed_in(team.cm).get(reverse("web:crisis-report", args=[crisis.pk])).content.decode()
    assert "<h2>Hecho</h2>" in page and "<script>alert" not in page


def test_reports_do_not_cross_organizations_or_brands(team: Team):
    crisis = build_crisis(team)
    reports.write_report(crisis)
    for name in ("web:crisis-report", "web:crisis-report-download", "web:crisis-report-edit"):
        assert signed_in(team.rival).get(reverse(name, args=[crisis.pk])).status_code in (403, 404)
        assert signed_in(team.limited).get(reverse(name, args=[crisis.pk])).status_code == 404
    api = Api()
    assert api.get(f"/crisis/crises/{crisis.pk}/report", token(team.rival, team.rival_org)).status == 404
    assert api.get(f"/crisis/crises/{crisis.pk}/report", token(team.limited, team.org)).status == 404
    found = api.get(f"/crisis/crises/{crisis.pk}/report", token(team.cm, team.org))
    assert found.status == 200 and "&lt;script" in found.body["report"]
    assert (
        api.put(
            f"/crisis/crises/{crisis.pk}/report", token(team.cm, team.org), {"report": "x", "lessons": ""}
        ).status
        == 403
    )
    saved = api.put(f"/crisis/crises/{crisis.pk}/report", token(team.manager, team.org), {"report": "ok"})
    assert saved.status == 200 and saved.body["report"] == "ok"


def test_posts_held_are_those_that_came_due_during_the_crisis_pause(team: Team):
    from django.utils import timezone

    from tertulia.crisis import mode
    from tertulia.crisis.tests.mode_support import web
    from tertulia.publishing.delivery.ledger import enqueue
    from tertulia.publishing.models import Post, Variant
    from tertulia.publishing.models.posts import PostState

    channel = connect_channel(Actor.system(), team.brand, "sandbox", "@marca_held", "Marca")

    def scheduled(text: str, when: datetime) -> None:
        post = Post.objects.create(
            organization=team.org, brand=team.brand, created_by=team.cm, text=text, state=PostState.SCHEDULED
        )
        variant = Variant.objects.create(post=post, channel=channel)
        enqueue(post, when, {variant.pk: {"text": text, "media": []}})

    now = timezone.now()
    scheduled("antes de la crisis", now - timedelta(hours=2))  # went out (or not) before: not held
    crisis = mode.start_crisis(web(team.manager), team.org, team.brand, "Incendio")
    scheduled("durante la crisis", timezone.now())  # came due while publishing was paused
    scheduled("mucho después", now + timedelta(days=3))  # still in the future at the end: not held
    mode.end_crisis(web(team.manager), Crisis.objects.get(pk=crisis.pk))
    text = reports.write_report(Crisis.objects.get(pk=crisis.pk))
    assert "Posts held by the pause: 1" in text


def test_a_holding_statement_with_variables_is_found_in_the_replies(team: Team):
    crisis = build_crisis(team)
    HoldingStatement.objects.filter(playbook=crisis.playbook).update(
        body="Hola, {name}: sentimos lo ocurrido y lo estamos revisando. Te escribimos por mensaje privado."
    )
    Message.objects.filter(text="otra respuesta").update(
        text="Hola, Ana: sentimos lo ocurrido y lo estamos revisando. Te escribimos por mensaje privado.",
        sent_at=T0 + timedelta(minutes=12),
    )
    text = reports.write_report(crisis)
    assert "**First holding statement sent:** 2026-11-02 10:12 (+12 minutes)" in text
    # A statement whose fixed part is too short to tell apart is not guessed at.
    HoldingStatement.objects.filter(playbook=crisis.playbook).update(body="{name}: gracias.")
    assert "First holding statement sent:** 2026-11-02" not in reports.write_report(crisis)


def test_an_organization_wide_report_is_for_people_who_work_in_every_brand(team: Team):
    crisis = build_crisis(team)
    Crisis.objects.filter(pk=crisis.pk).update(brand=None)
    crisis.refresh_from_db()
    reports.write_report(crisis)
    url = reverse("web:crisis-report", args=[crisis.pk])
    assert signed_in(team.cm).get(url).status_code == 200  # works in every brand
    assert signed_in(team.limited).get(url).status_code == 404  # every brand's numbers: not hers to read
    api = Api()
    assert api.get(f"/crisis/crises/{crisis.pk}/report", token(team.limited, team.org)).status == 404
    assert api.get(f"/crisis/crises/{crisis.pk}/report", token(team.cm, team.org)).status == 200
