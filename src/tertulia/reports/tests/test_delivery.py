"""Claiming, building (HTML and a real PDF), e-mailing in each recipient's language, PDF failures."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives

from tertulia.analytics.models import ChannelDay
from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import Membership, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.reports import actions, delivery
from tertulia.reports.models import ReportRun, ReportSchedule, RunStatus

pytestmark = pytest.mark.django_db
HOSTILE = "<script>alert(1)</script>\u202e Ñandú 🎉"


@pytest.fixture
def world() -> dict:
    org = make_org("Agencia")
    brand = make_brand(org, HOSTILE)
    owner = Membership.objects.get(organization=org, role=Role.OWNER).user
    spanish = make_member(org, Role.ANALYST, language="es")
    channel = connect_channel(Actor.system("t"), brand, "sandbox", "tienda")
    for n in range(14):
        ChannelDay.objects.create(
            organization=org,
            brand=brand,
            channel=channel,
            day=date(2026, 11, 2) + timedelta(days=n),
            messages_in=10 + n * 3,
            posts_published=1,
            likes=5 * n,
            followers=1000 + n * 10,
        )
    schedule = actions.create_schedule(
        Actor(user=owner, via="web"),
        brand,
        actions.ScheduleInput(
            title="Semanal <b>", member_ids=[spanish.pk], external=[("boss@example.com", "en")]
        ),
    )
    return {"org": org, "brand": brand, "owner": owner, "spanish": spanish, "schedule": schedule}


def test_two_claims_one_wins(world: dict) -> None:
    schedule = world["schedule"]
    now = schedule.next_run_at + timedelta(minutes=1)
    assert delivery.claim_due(now) == [schedule.pk]
    assert delivery.claim_due(now) == []


def test_due_report_is_mailed_in_each_language_with_pdf(world: dict) -> None:
    schedule: ReportSchedule = world["schedule"]
    due = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    ReportSchedule.objects.filter(pk=schedule.pk).update(due_at=due, next_run_at=due)
    assert delivery.run_due(due + timedelta(seconds=5)) == 1
    run = ReportRun.objects.get()
    assert run.status == RunStatus.OK and (run.first, run.last) == (date(2026, 11, 9), date(2026, 11, 15))
    assert sorted(run.sent_to) == sorted(["boss@example.com", world["spanish"].email])
    assert sorted(d.language for d in run.documents.all()) == ["en", "es"]
    by_to = {m.to[0]: cast(EmailMultiAlternatives, m) for m in mail.outbox}
    english, spanish = by_to["boss@example.com"], by_to[world["spanish"].email]
    for message in (english, spanish):
        ((name, pdf, kind),) = message.attachments
        assert kind == "application/pdf" and bytes(pdf).startswith(b"%PDF") and name.endswith(".pdf")
        html = str(message.alternatives[0][0])
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
        assert "\n" not in message.subject and "\u202e" not in message.subject
    assert "What changed" in str(english.alternatives[0][0])
    assert english.alternatives[0][0] != spanish.alternatives[0][0]
    assert '<html lang="es">' in str(spanish.alternatives[0][0])
    schedule.refresh_from_db()
    assert schedule.due_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC) == schedule.next_run_at


def test_pdf_missing_still_sends_html(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as without the library
    run = delivery.send_now(world["schedule"])
    assert run.status == RunStatus.OK and len(mail.outbox) == 2
    assert all(not m.attachments for m in mail.outbox)
    assert "WeasyPrint is not usable" in run.error
    bodies = [str(cast(EmailMultiAlternatives, m).alternatives[0][0]) for m in mail.outbox]
    assert any("The PDF could not be made this time" in body for body in bodies)
    assert any("Esta vez no se pudo generar el PDF" in body for body in bodies)  # each in its language


def test_failed_send_is_retried_only_for_those_left(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    schedule: ReportSchedule = world["schedule"]
    due = datetime(2026, 11, 16, 7, 0, tzinfo=UTC)
    ReportSchedule.objects.filter(pk=schedule.pk).update(due_at=due, next_run_at=due)
    real = delivery.send_report

    def flaky(recipient: delivery.Recipient, *args: Any) -> None:
        if recipient.email == "boss@example.com":
            raise OSError("down")
        real(recipient, *args)

    monkeypatch.setattr(delivery, "send_report", flaky)
    delivery.run_due(due)
    schedule.refresh_from_db()
    assert (
        schedule.attempts == 1
        and schedule.due_at == due
        and schedule.next_run_at == due + timedelta(minutes=5)
    )
    monkeypatch.setattr(delivery, "send_report", real)
    mail.outbox.clear()
    delivery.run_due(due + timedelta(minutes=6))
    assert [m.to for m in mail.outbox] == [["boss@example.com"]]
    schedule.refresh_from_db()
    assert schedule.attempts == 0 and schedule.due_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_bad_recipients_are_refused(world: dict) -> None:
    from django.core.exceptions import ValidationError

    owner = Actor(user=world["owner"], via="web")
    with pytest.raises(ValidationError):
        actions.create_schedule(
            owner, world["brand"], actions.ScheduleInput(title="x", external=[("no<at>", "en")])
        )
    many = [(f"p{n}@example.com", "en") for n in range(51)]
    with pytest.raises(ValidationError):
        actions.create_schedule(owner, world["brand"], actions.ScheduleInput(title="x", external=many))
    outsider = make_member(make_org("Otra"), Role.OWNER)
    with pytest.raises(ValidationError):
        actions.create_schedule(
            owner, world["brand"], actions.ScheduleInput(title="x", member_ids=[outsider.pk])
        )
    assert ReportSchedule.objects.count() == 1


def test_making_a_pdf_leaves_damaged_images_refused() -> None:
    from PIL import ImageFile

    from tertulia.reports.render import _weasyprint

    _weasyprint()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # WeasyPrint's import sets it to True


def test_send_now_request_is_claimed_once_and_audited(world: dict) -> None:
    from tertulia.core.models import AuditEntry

    schedule: ReportSchedule = world["schedule"]
    owner = Actor(user=world["owner"], via="web")
    assert actions.request_send(owner, schedule) is True
    assert actions.request_send(owner, schedule) is False  # already on its way
    now = datetime.now(UTC) + timedelta(seconds=1)
    assert delivery.claim_requested(now) == [schedule.pk]
    assert delivery.claim_requested(now) == []  # held by the first worker
    # That worker died: when its lease ends the request is picked up again and sent once.
    (run,) = delivery.run_requested(now + delivery.LEASE + timedelta(seconds=1))
    assert run.manual and run.status == RunStatus.OK and len(mail.outbox) == 2
    assert delivery.run_requested(now + 2 * delivery.LEASE) == []
    sent = AuditEntry.objects.get(action="report.sent")
    assert sent.actor_id == world["owner"].pk and sorted(sent.changes["sent_to"]) == sorted(run.sent_to)
    assert AuditEntry.objects.filter(action="report.send_requested").count() == 1


def test_a_send_now_that_fails_is_tried_once_and_can_be_asked_again(
    world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tertulia.core.models import AuditEntry

    schedule: ReportSchedule = world["schedule"]
    owner = Actor(user=world["owner"], via="web")
    assert actions.request_send(owner, schedule) is True

    calls: list[int] = []

    def broken(schedule: ReportSchedule, now: datetime | None = None) -> ReportRun:
        calls.append(schedule.pk)
        raise RuntimeError("the database went away")

    monkeypatch.setattr(delivery, "send_now", broken)
    assert delivery.run_requested(datetime.now(UTC) + timedelta(seconds=1)) == []
    assert ReportSchedule.objects.get(pk=schedule.pk).send_now_at is None  # not "Sending…" forever
    assert not AuditEntry.objects.filter(action="report.sent").exists() and not mail.outbox
    failed = AuditEntry.objects.get(action="report.send_failed")
    assert failed.actor_id == world["owner"].pk and failed.changes["error"] == "RuntimeError"
    (shown,) = ReportRun.objects.filter(schedule=schedule)  # on the Sent reports list, as failed
    assert shown.status == RunStatus.FAILED and shown.manual and "RuntimeError" in shown.error
    delivery.run_requested(datetime.now(UTC) + 2 * delivery.LEASE)
    assert calls == [schedule.pk]  # tried once, never again by itself
    assert actions.request_send(owner, schedule) is True  # asking again is the retry


def test_requests_are_leased_one_at_a_time(world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each request's lease starts when its report does: while the first is made, the second is not
    held yet (a batch claimed at once could run out its lease behind a slow first report)."""
    first: ReportSchedule = world["schedule"]
    owner = Actor(user=world["owner"], via="web")
    second = actions.create_schedule(
        owner, world["brand"], actions.ScheduleInput(title="Otro", external=[("otro@example.com", "es")])
    )
    for schedule in (first, second):
        assert actions.request_send(owner, schedule) is True
    asked = dict(ReportSchedule.objects.values_list("pk", "send_now_at"))
    seen: list[tuple[int, dict[int, datetime | None]]] = []
    real = delivery.send_now

    def watched(schedule: ReportSchedule, now: datetime | None = None) -> ReportRun:
        seen.append((schedule.pk, dict(ReportSchedule.objects.values_list("pk", "send_now_at"))))
        return real(schedule, now)

    monkeypatch.setattr(delivery, "send_now", watched)
    assert len(delivery.run_requested()) == 2
    (one, held_then), (other, _later) = seen
    assert {one, other} == {first.pk, second.pk}
    assert held_then[other] == asked[other]  # the other request was not claimed yet
    held, first_asked = held_then[one], asked[one]
    assert held is not None and first_asked is not None and held > first_asked  # this one was, from its start


def test_editing_a_schedule_keeps_a_pending_send_now(world: dict) -> None:
    stale = ReportSchedule.objects.get(pk=world["schedule"].pk)  # a form loaded before the request
    owner = Actor(user=world["owner"], via="web")
    assert actions.request_send(owner, world["schedule"]) is True
    actions.update_schedule(
        owner, stale, actions.ScheduleInput(title="Renamed", external=[("boss@example.com", "en")])
    )
    kept = ReportSchedule.objects.get(pk=stale.pk)
    assert kept.title == "Renamed" and kept.send_now_at is not None and kept.send_now_by == world["owner"]


def test_editing_a_schedule_deleted_meanwhile_says_it_is_gone(world: dict) -> None:
    stale = ReportSchedule.objects.get(pk=world["schedule"].pk)
    owner = Actor(user=world["owner"], via="web")
    actions.delete_schedule(owner, world["schedule"])
    with pytest.raises(ReportSchedule.DoesNotExist):
        actions.update_schedule(
            owner, stale, actions.ScheduleInput(title="x", external=[("a@example.com", "es")])
        )
    assert not ReportSchedule.objects.exists()


def test_send_now_by_someone_without_the_brand_is_refused(world: dict) -> None:
    analyst = make_member(world["org"], Role.ANALYST)
    with pytest.raises(PermissionDenied):
        actions.request_send(Actor(user=analyst, via="web"), world["schedule"])
    assert ReportSchedule.objects.get(pk=world["schedule"].pk).send_now_at is None


def test_objective_words_are_laid_out_as_words(world: dict) -> None:
    """The objectives table holds words in three of its columns: they wrap as text, left-aligned, in a
    fixed layout (the auto layout squeezed the objective's title to one letter a line in the PDF)."""
    from tertulia.analytics.periods import Period
    from tertulia.core.models.brand import Kpi, Objective
    from tertulia.reports.build import build_report
    from tertulia.reports.render import render_html

    title = "Median first response time (minutes) of the second half of November 2026"
    Objective.objects.create(
        brand=world["brand"],
        title=title,
        kpi=Kpi.RESPONSE_TIME,
        target=60,
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
    )
    period = Period(date(2026, 11, 9), date(2026, 11, 15))
    html = render_html(build_report(world["brand"], period, ["objectives"], None, "en"))
    row = html[html.index(title) :].split("</tr>")[0]
    cells = row.split("<td")[1:]
    assert len(cells) == 4
    assert ['class="n"' in cell for cell in cells] == [
        False,
        False,
        True,
        False,
    ]  # KPI, target, measured, status
    assert "table-layout: fixed" in html
