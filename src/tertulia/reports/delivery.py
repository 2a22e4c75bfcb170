"""Sending scheduled reports: claim what is due, build it once per language, e-mail each recipient.

Several workers run the ticker, so a schedule is claimed with a conditional UPDATE on `next_run_at`
(only the worker whose UPDATE changed the row goes on) and held for `LEASE`: a worker that dies
mid-run leaves it to be picked up again when the lease ends. A failed run (nothing built, or some
addresses refused) is recorded and retried with growing waits, sending only to those who did not
get it yet; after `MAX_ATTEMPTS` the schedule moves on to its next time. The schedule itself is
never dropped.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tertulia.analytics.periods import Period
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand
from tertulia.core.models.audit import Via
from tertulia.core.permissions import brand_members
from tertulia.core.zones import zone
from tertulia.governance.mail import describe_failure, one_line
from tertulia.reports.build import Report, build_report
from tertulia.reports.models import KEEP_RUNS, ReportRun, ReportSchedule, RunDocument, RunStatus
from tertulia.reports.render import PdfUnavailable, render_html, render_pdf, render_text, with_note
from tertulia.reports.schedule import next_run, period_for

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=30)
RETRY_WAITS = (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=3))
MAX_ATTEMPTS = len(RETRY_WAITS) + 1
CLAIM_BATCH = 5


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str


@dataclass(frozen=True)
class Document:
    language: str
    report: Report
    html: str
    text: str
    pdf: bytes | None
    pdf_error: str


def languages() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def default_language(brand: Brand) -> str:
    """The brand's main language when Tertulia speaks it, else the installation's."""
    wanted = (brand.language or "").split("-")[0].lower()
    return wanted if wanted in languages() else settings.LANGUAGE_CODE.split("-")[0]


def zone_of(schedule: ReportSchedule) -> ZoneInfo:
    return zone(schedule.brand.timezone)


def recipients_of(schedule: ReportSchedule) -> list[Recipient]:
    """Members who still work in the brand (in their language) and the external addresses."""
    fallback = default_language(schedule.brand)
    allowed = set(
        brand_members(schedule.brand).filter(user__is_active=True).values_list("user_id", flat=True)
    )
    found: dict[str, Recipient] = {}
    for user in schedule.members.order_by("email"):
        if user.pk in allowed and user.email:
            language = user.language if user.language in languages() else fallback
            found.setdefault(user.email.lower(), Recipient(user.email, language))
    for item in schedule.external_recipients:
        email = str(item.get("email", "")).strip()
        language = str(item.get("language", ""))
        if email:
            found.setdefault(
                email.lower(), Recipient(email, language if language in languages() else fallback)
            )
    return list(found.values())


def schedule_next(schedule: ReportSchedule, after: datetime) -> datetime:
    return next_run(
        schedule.frequency, schedule.weekday, schedule.day_of_month, schedule.hour, zone_of(schedule), after
    )


# ------------------------------------------------------------------ building


def make_document(schedule: ReportSchedule, period: Period, language: str) -> Document:
    report = build_report(
        schedule.brand, period, schedule.sections, schedule.channel_ids or None, language, schedule.title
    )
    html = render_html(report)
    try:
        pdf: bytes | None = render_pdf(html)
        error = ""
    except PdfUnavailable as missing:
        logger.warning("report %s: no PDF: %s", schedule.pk, missing.reason)
        pdf, error = None, missing.reason[:500]
        with translation.override(language):
            report = with_note(
                report, _("The PDF could not be made this time: this e-mail holds the whole report.")
            )
        html = render_html(report)
    return Document(language, report, html, render_text(report), pdf, error)


def file_name(schedule: ReportSchedule, period: Period, language: str) -> str:
    slug = schedule.brand.slug or "report"
    return f"{slug}-{period.first.isoformat()}-{period.last.isoformat()}-{language}.pdf"


def subject_of(document: Document) -> str:
    report = document.report
    with translation.override(document.language):
        return one_line(
            _("%(brand)s: %(title)s, %(period)s")
            % {"brand": report.brand_name, "title": report.title, "period": report.period_label}
        )


def send_report(recipient: Recipient, document: Document, attachment_name: str) -> None:
    """One e-mail: the plain-text version, the HTML alternative and the PDF (when there is one)."""
    message = EmailMultiAlternatives(
        subject=subject_of(document),
        body=document.text.replace("\x00", ""),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(document.html, "text/html")
    if document.pdf is not None:
        message.attach(attachment_name, document.pdf, "application/pdf")
    message.send(fail_silently=False)


# ------------------------------------------------------------------ running


def claim_due(now: datetime | None = None, limit: int = CLAIM_BATCH) -> list[int]:
    """Ids of due schedules this worker now holds (another worker's claim on the same row fails)."""
    now = now or timezone.now()
    claimed: list[int] = []
    due = (
        ReportSchedule.objects.filter(is_active=True, next_run_at__lte=now)
        .order_by("next_run_at")
        .values_list("pk", "next_run_at")[:CLAIM_BATCH]
    )
    for pk, seen in due:
        if len(claimed) >= limit:
            break
        if ReportSchedule.objects.filter(pk=pk, is_active=True, next_run_at=seen).update(
            next_run_at=now + LEASE
        ):
            claimed.append(pk)
    return claimed


def run_due(now: datetime | None = None) -> int:
    """Send the due reports this worker can claim, one at a time (each lease starts when its report
    does, so a slow first report cannot run a later one's lease out); how many runs it made."""
    done = 0
    for _turn in range(CLAIM_BATCH):
        at = now or timezone.now()
        claimed = claim_due(at, limit=1)
        if not claimed:
            break
        schedule = ReportSchedule.objects.select_related("brand").filter(pk=claimed[0]).first()
        if schedule is None:
            continue
        try:
            run_scheduled(schedule, at)
        except Exception:  # never lose the schedule: the lease ends and it is tried again
            logger.exception("report schedule %s failed", schedule.pk)
        done += 1
    return done


def already_sent(schedule: ReportSchedule, period: Period) -> set[str]:
    sent: set[str] = set()
    for addresses in ReportRun.objects.filter(
        schedule=schedule, first=period.first, last=period.last, manual=False
    ).values_list("sent_to", flat=True):
        sent.update(str(a).lower() for a in addresses or [])
    return sent


def run_scheduled(schedule: ReportSchedule, now: datetime) -> ReportRun:
    """The claimed schedule's due report; then its next time (or a retry)."""
    held = schedule.next_run_at
    period = period_for(schedule.frequency, schedule.due_at, zone_of(schedule))
    skip = already_sent(schedule, period)
    wanted = [r for r in recipients_of(schedule) if r.email.lower() not in skip]
    run = produce(schedule, period, wanted, now, manual=False)
    with transaction.atomic():
        if run.status == RunStatus.OK or schedule.attempts + 1 >= MAX_ATTEMPTS:
            due = schedule_next(schedule, max(schedule.due_at, now))
            changes = {"due_at": due, "next_run_at": due, "attempts": 0}
        else:
            wait = RETRY_WAITS[min(schedule.attempts, len(RETRY_WAITS) - 1)]
            changes = {"next_run_at": now + wait, "attempts": schedule.attempts + 1}
        # Only if nobody edited the schedule meanwhile (an edit sets its own times).
        ReportSchedule.objects.filter(pk=schedule.pk, next_run_at=held).update(**changes)
    return run


def send_now(schedule: ReportSchedule, now: datetime | None = None) -> ReportRun:
    """Send the latest complete period to every recipient now; the schedule's times stay as they are."""
    now = now or timezone.now()
    period = period_for(schedule.frequency, now, zone_of(schedule))
    return produce(schedule, period, recipients_of(schedule), now, manual=True)


def claim_requested(now: datetime | None = None, limit: int = CLAIM_BATCH) -> list[int]:
    """Ids of schedules someone asked to send now that this worker now holds (for `LEASE`)."""
    now = now or timezone.now()
    claimed: list[int] = []
    asked = (
        ReportSchedule.objects.filter(send_now_at__lte=now)
        .order_by("send_now_at")
        .values_list("pk", "send_now_at")[:CLAIM_BATCH]
    )
    for pk, seen in asked:
        if len(claimed) >= limit:
            break
        if ReportSchedule.objects.filter(pk=pk, send_now_at=seen).update(send_now_at=now + LEASE):
            claimed.append(pk)
    return claimed


def run_requested(now: datetime | None = None) -> list[ReportRun]:
    """Send what people asked to send now (the web request only asks: building the PDFs and talking
    to the mail server can take longer than a page should wait), one at a time, each leased from
    when it starts. A request is tried once: its outcome (sent, or refused by the mail server) is on
    the Sent reports list, and asking again is the retry. Only a worker that dies mid-run leaves it
    to be picked up again when the lease ends."""
    runs = []
    for _turn in range(CLAIM_BATCH):
        at = now or timezone.now()
        claimed = claim_requested(at, limit=1)
        if not claimed:
            break
        run = _send_requested(claimed[0], at)
        if run is not None:
            runs.append(run)
    return runs


def _send_requested(pk: int, at: datetime) -> ReportRun | None:
    schedule = ReportSchedule.objects.select_related("brand", "send_now_by").filter(pk=pk).first()
    if schedule is None:
        return None
    failure = ""
    try:
        run: ReportRun | None = send_now(schedule, at)
    except Exception as exc:
        logger.exception("report schedule %s could not be sent now", pk)
        run, failure = None, exc.__class__.__name__
    requester = schedule.send_now_by
    try:
        # The request ends first, on its own: a failure to audit must not leave it to be sent again.
        # Ended only if still ours; what happened is recorded either way.
        ReportSchedule.objects.filter(pk=pk, send_now_at=at + LEASE).update(
            send_now_at=None, send_now_by=None
        )
        actor = Actor(user=requester, via=Via.SYSTEM) if requester else Actor.system("reports")
        if run is not None:
            changes = {"period": [run.first, run.last], "sent_to": run.sent_to, "failed_to": run.failed_to}
            record(actor, schedule.organization, "report.sent", schedule, changes)
        else:  # on the Sent reports list too, so whoever asked sees it did not go as it should
            period = period_for(schedule.frequency, at, zone_of(schedule))
            ReportRun.objects.create(
                schedule=schedule,
                first=period.first,
                last=period.last,
                generated_at=at,
                status=RunStatus.FAILED,
                manual=True,
                error=f"the run stopped before it was recorded ({failure}); some recipients may have it",
            )
            record(actor, schedule.organization, "report.send_failed", schedule, {"error": failure})
    except Exception:  # the next schedule in the batch still goes
        logger.exception("report schedule %s: the request to send now could not be closed", pk)
    return run


def produce(
    schedule: ReportSchedule, period: Period, recipients: Iterable[Recipient], now: datetime, *, manual: bool
) -> ReportRun:
    """Build, send and record one run (documents in every recipient's language)."""
    recipients = list(recipients)
    sent: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    documents: dict[str, Document] = {}
    try:
        for language in sorted({r.language for r in recipients} or {default_language(schedule.brand)}):
            documents[language] = make_document(schedule, period, language)
    except Exception as exc:
        logger.exception("report schedule %s could not be built", schedule.pk)
        errors.append(f"the report could not be built ({exc.__class__.__name__})")
        failed = [r.email for r in recipients]
    else:
        for recipient in recipients:
            document = documents[recipient.language]
            try:
                send_report(recipient, document, file_name(schedule, period, recipient.language))
            except (smtplib.SMTPException, OSError, ssl.SSLError, ValueError) as exc:
                failed.append(recipient.email)
                errors.append(f"{recipient.email}: {describe_failure(exc)}")
            else:
                sent.append(recipient.email)
    if documents and not recipients:
        errors.append("nobody to send it to: no recipient works in the brand any more")
    pdf_errors = sorted({d.pdf_error for d in documents.values() if d.pdf_error})
    with transaction.atomic():
        run = ReportRun.objects.create(
            schedule=schedule,
            first=period.first,
            last=period.last,
            generated_at=now,
            status=RunStatus.FAILED if failed or not documents else RunStatus.OK,
            manual=manual,
            error="; ".join(errors + [f"PDF: {e}" for e in pdf_errors])[:1000],
            sent_to=sent,
            failed_to=failed,
        )
        RunDocument.objects.bulk_create(
            RunDocument(run=run, language=d.language, html=d.html, pdf=d.pdf, pdf_error=d.pdf_error)
            for d in documents.values()
        )
        stale = list(ReportRun.objects.filter(schedule=schedule).values_list("pk", flat=True)[KEEP_RUNS:])
        if stale:
            ReportRun.objects.filter(pk__in=stale).delete()
    return run
