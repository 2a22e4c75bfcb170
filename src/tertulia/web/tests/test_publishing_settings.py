"""Settings → Publishing (/settings/publishing/): approval workflows, and pausing publishing
(also on the Crisis page, with a banner on the Publish page)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tertulia.core.actions.channels import connect_channel
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Brand, Organization, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.publishing.actions.pauses import pause
from tertulia.publishing.actions.workflows import StepSpec, set_workflow
from tertulia.publishing.delivery.ledger import enqueue
from tertulia.publishing.links import post_path
from tertulia.publishing.models import (
    ApprovalWorkflow,
    DeliveryTarget,
    Pause,
    Post,
    PostState,
    StepMode,
    Variant,
    WorkflowKind,
)
from tertulia.web.tenant import Tenant
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>\u202e\u200b😀'
PAGE = reverse("web:publishing-settings")
NORMAL_URL = reverse("web:publishing-workflow", args=[WorkflowKind.NORMAL])
CRISIS_URL = reverse("web:publishing-workflow", args=[WorkflowKind.CRISIS])
PAUSE_URL = reverse("web:publishing-pause")


@pytest.fixture
def org() -> Organization:
    return make_org("Acme")


@pytest.fixture
def brand(org: Organization) -> Brand:
    return make_brand(org, "Café Sur")


@pytest.fixture
def manager(org: Organization, brand: Brand) -> User:
    return make_member(org, Role.BRAND_MANAGER, display_name="Marta Manager")


@pytest.fixture
def approver(org: Organization) -> User:
    return make_member(org, Role.APPROVER, display_name="Ana Aprobadora", email="ana@example.com")


@pytest.fixture
def community_manager(org: Organization, brand: Brand) -> User:
    return make_member(org, Role.COMMUNITY_MANAGER, display_name="Carla CM")


def steps_data(
    kind: str, rows: list[dict[str, Any]], *, active: bool = True, initial: int = 0
) -> dict[str, Any]:
    """POST data of a workflow form: `rows` in page order, each a dict of the step's fields."""
    prefix = f"{kind}-step"
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "10",
    }
    if active:
        data[f"{kind}-is_active"] = "on"
    for n, row in enumerate(rows):
        data[f"{prefix}-{n}-mode"] = row.get("mode", StepMode.ANY)
        for name in ("name", "roles", "people", "ORDER", "DELETE"):
            if name in row:
                data[f"{prefix}-{n}-{name}"] = row[name]
    return data


def stored_steps(brand: Brand, kind: str) -> list[tuple[str, str, list[str], list[int]]]:
    workflow = ApprovalWorkflow.objects.get(brand=brand, kind=kind)
    return [
        (step.name, step.mode, list(step.roles), sorted(step.people.values_list("pk", flat=True)))
        for step in workflow.steps.order_by("position")
    ]


def held_target(brand: Brand, text: str = "Hola") -> DeliveryTarget:
    """A delivery that came due a minute ago on a sandbox channel of `brand`."""
    channel = connect_channel(SYSTEM, brand, "sandbox", f"@cafe_{brand.pk}", "Café")
    post = Post.objects.create(
        organization=brand.organization, brand=brand, text=text, state=PostState.SCHEDULED
    )
    variant = Variant.objects.create(post=post, channel=channel)
    (target,) = enqueue(
        post, timezone.now() - timedelta(minutes=1), {variant.pk: {"text": text, "media": []}}
    )
    return target


def as_person(user: User) -> Actor:
    return Actor(user=user, via="web")


# --- Workflows ---------------------------------------------------------------------------------


def test_the_settings_page_links_to_the_publishing_settings(manager: User) -> None:
    body = signed_in(manager).get(reverse("web:settings")).content.decode()
    assert f'href="{PAGE}"' in body


def test_without_workflows_the_page_says_no_review_and_the_built_in_crisis_rule(manager: User) -> None:
    response = signed_in(manager).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="no-review"' in body and "No review needed" in body
    assert 'id="crisis-rule"' in body
    assert "one approval from a publishing manager who is not the author" in body
    assert 'id="workflow-form-normal"' in body and 'id="workflow-form-crisis"' in body
    assert 'id="pause-form"' in body
    assert "web/workflows.js" in body
    assert 'aria-current="page"' in body  # the Settings section


def test_a_manager_saves_a_workflow_with_roles_and_people(
    manager: User, approver: User, brand: Brand
) -> None:
    client = signed_in(manager)
    data = steps_data(
        WorkflowKind.NORMAL,
        [
            {"name": "Legal", "mode": StepMode.ALL, "people": [str(approver.pk)], "ORDER": "2"},
            {"name": "Marca", "roles": [Role.BRAND_MANAGER, Role.APPROVER], "ORDER": "1"},
            {},  # the spare empty row, left untouched
            {"ORDER": "4"},  # one added by workflows.js and numbered, left empty
        ],
    )
    response = client.post(NORMAL_URL, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"].endswith("#workflow-normal")
    # Saved in the chosen order, not the page order.
    assert stored_steps(brand, WorkflowKind.NORMAL) == [
        ("Marca", StepMode.ANY, [Role.BRAND_MANAGER, Role.APPROVER], []),
        ("Legal", StepMode.ALL, [], [approver.pk]),
    ]
    assert ApprovalWorkflow.objects.get(brand=brand, kind=WorkflowKind.NORMAL).is_active
    assert AuditEntry.objects.filter(action="approval_workflow.created", actor=manager).exists()
    body = client.get(PAGE).content.decode()
    assert "Ana Aprobadora (ana@example.com)" in body
    assert 'id="no-review"' not in body  # a workflow is in force now
    assert "Posts go through these steps" in body

    # Edit: remove the first step, turn the workflow off.
    data = steps_data(
        WorkflowKind.NORMAL,
        [
            {"name": "Marca", "roles": [Role.BRAND_MANAGER], "ORDER": "1", "DELETE": "on"},
            {"name": "Legal", "mode": StepMode.ALL, "people": [str(approver.pk)], "ORDER": "2"},
        ],
        active=False,
        initial=2,
    )
    assert client.post(NORMAL_URL, data).status_code == 302
    assert stored_steps(brand, WorkflowKind.NORMAL) == [("Legal", StepMode.ALL, [], [approver.pk])]
    assert not ApprovalWorkflow.objects.get(brand=brand, kind=WorkflowKind.NORMAL).is_active
    body = client.get(PAGE).content.decode()
    assert "This workflow is off" in body and 'id="no-review"' in body


def test_the_editor_shows_the_stored_steps_and_one_empty_row(
    manager: User, approver: User, brand: Brand
) -> None:
    set_workflow(
        as_person(manager), brand, WorkflowKind.CRISIS, [StepSpec(name="Dirección", people=[approver.pk])]
    )
    body = signed_in(manager).get(PAGE).content.decode()
    assert 'name="crisis-step-TOTAL_FORMS" value="2"' in body
    assert 'name="crisis-step-0-name" value="Dirección"' in body
    assert f'name="crisis-step-0-people" value="{approver.pk}"' in body
    assert 'name="crisis-step-1-name"' in body  # the spare row
    assert 'id="crisis-rule"' not in body
    assert "While crisis mode is on, every new post goes through these steps" in body


def test_a_refused_workflow_shows_every_reason_and_saves_nothing(
    manager: User, approver: User, brand: Brand, org: Organization
) -> None:
    outsider = make_member(make_org(), Role.BRAND_MANAGER)
    set_workflow(
        as_person(manager), brand, WorkflowKind.NORMAL, [StepSpec(name="Antes", roles=[Role.APPROVER])]
    )
    data = steps_data(
        WorkflowKind.NORMAL,
        [
            {"name": "Primero", "roles": [Role.APPROVER], "ORDER": "2"},
            {"name": "", "roles": [Role.APPROVER], "ORDER": "1"},  # no name
            {"name": "Sin nadie", "ORDER": "3"},  # no approver
        ],
    )
    response = signed_in(manager).post(NORMAL_URL, data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="workflow-normal-errors"' in body and "Nothing was saved" in body
    assert "Step 1 needs a name." in body
    assert "Step 3: name at least one role or person who approves it." in body
    # Shown back in the saved order: the unnamed step is first now.
    assert body.index('name="normal-step-1-name" value="Primero"') > body.index('name="normal-step-0-name"')
    assert stored_steps(brand, WorkflowKind.NORMAL) == [("Antes", StepMode.ANY, [Role.APPROVER], [])]

    # Someone of another organization cannot be named: the form does not even offer them.
    data = steps_data(WorkflowKind.NORMAL, [{"name": "X", "people": [str(outsider.pk)]}])
    response = signed_in(manager).post(NORMAL_URL, data)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    # Nor a role that cannot approve.
    data = steps_data(WorkflowKind.NORMAL, [{"name": "X", "roles": [Role.ANALYST]}])
    assert signed_in(manager).post(NORMAL_URL, data).status_code == 400
    # Nor no step at all.
    response = signed_in(manager).post(NORMAL_URL, steps_data(WorkflowKind.NORMAL, [{}]))
    assert response.status_code == 400
    assert "A workflow has from 1 to 10 steps." in response.content.decode()
    assert stored_steps(brand, WorkflowKind.NORMAL) == [("Antes", StepMode.ANY, [Role.APPROVER], [])]
    assert not AuditEntry.objects.filter(action="approval_workflow.updated").exists()


def test_a_garbled_form_is_a_clear_error_not_a_crash(manager: User, brand: Brand) -> None:
    client = signed_in(manager)
    assert client.post(NORMAL_URL, {"junk": "1"}).status_code == 400
    data = steps_data(WorkflowKind.NORMAL, [{"name": "A", "roles": [Role.APPROVER], "ORDER": "x"}])
    assert client.post(NORMAL_URL, data).status_code == 400
    data = steps_data(WorkflowKind.NORMAL, [{"name": "A", "roles": [Role.APPROVER]}])
    data["normal-step-TOTAL_FORMS"] = "100000"
    assert client.post(NORMAL_URL, data).status_code == 400
    assert client.post(reverse("web:publishing-workflow", args=["sideways"]), data).status_code == 404
    assert not ApprovalWorkflow.objects.filter(brand=brand).exists()


def test_hostile_step_names_are_stored_verbatim_and_shown_escaped(
    manager: User, approver: User, brand: Brand
) -> None:
    approver.display_name = HOSTILE
    approver.save()
    data = steps_data(WorkflowKind.NORMAL, [{"name": HOSTILE, "people": [str(approver.pk)]}])
    assert signed_in(manager).post(NORMAL_URL, data).status_code == 302
    assert stored_steps(brand, WorkflowKind.NORMAL)[0][0] == HOSTILE.strip()
    body = signed_in(manager).get(PAGE).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in body


def test_people_who_cannot_manage_publishing_only_look(
    community_manager: User, approver: User, manager: User, brand: Brand
) -> None:
    set_workflow(
        as_person(manager), brand, WorkflowKind.NORMAL, [StepSpec(name="Legal", people=[approver.pk])]
    )
    pause(as_person(manager), brand.organization, brand, reason="Incendio")
    for person in (community_manager, approver):
        response = signed_in(person).get(PAGE)
        assert response.status_code == 200
        body = response.content.decode()
        assert 'id="read-only-note"' in body
        assert "Legal" in body and "Incendio" in body
        assert 'id="workflow-form-normal"' not in body
        assert 'id="pause-form"' not in body and "Resume publishing" not in body


def test_posting_without_manage_publishing_is_forbidden(
    community_manager: User, manager: User, brand: Brand
) -> None:
    active = pause(as_person(manager), brand.organization, brand)
    client = signed_in(community_manager)
    data = steps_data(WorkflowKind.NORMAL, [{"name": "X", "roles": [Role.APPROVER]}])
    assert client.post(NORMAL_URL, data).status_code == 403
    assert client.post(PAUSE_URL, {"scope": "all"}).status_code == 403
    resume_url = reverse("web:publishing-resume", args=[active.pk])
    assert client.post(resume_url, {"confirm": "on"}).status_code == 403
    assert not ApprovalWorkflow.objects.filter(brand=brand).exists()
    assert Pause.objects.filter(ended_at__isnull=True).count() == 1
    # A GET on the action URLs is not allowed either.
    assert signed_in(manager).get(PAUSE_URL).status_code == 405


# --- Pauses ------------------------------------------------------------------------------------


def test_a_manager_pauses_the_brand_in_crisis_mode_and_resumes(
    manager: User, brand: Brand, org: Organization
) -> None:
    client = signed_in(manager)
    response = client.post(PAUSE_URL, {"scope": "brand", "reason": "Incendio en la fábrica", "crisis": "on"})
    # Crisis mode is one switch (tertulia.crisis.mode): the pause, and the crisis room it opens.
    from tertulia.crisis.models import Crisis, CrisisState

    crisis = Crisis.objects.get(organization=org, state=CrisisState.ACTIVE)
    assert response.status_code == 302 and response["Location"] == reverse(
        "web:crisis-room", args=[crisis.pk]
    )
    active = Pause.objects.get(organization=org, ended_at__isnull=True)
    assert crisis.pause == active and crisis.title == "Incendio en la fábrica"
    assert (active.brand_id, active.is_crisis, active.reason, active.started_by) == (
        brand.pk,
        True,
        "Incendio en la fábrica",
        manager,
    )
    body = client.get(PAGE).content.decode()
    assert 'id="active-pauses"' in body and "Incendio en la fábrica" in body
    assert 'id="crisis-now"' in body
    assert "Publishing is paused for Café Sur, in crisis mode." in body  # the message after the redirect
    # Resuming needs the confirmation box.
    resume_url = reverse("web:publishing-resume", args=[active.pk])
    client.post(resume_url, {})
    active.refresh_from_db()
    assert active.ended_at is None
    response = client.post(resume_url, {"confirm": "on"})
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.ended_at is not None and active.ended_by == manager
    crisis.refresh_from_db()
    assert crisis.state == CrisisState.CLOSED  # resuming ended the crisis too
    assert {"publishing.paused", "publishing.resumed"} <= set(
        AuditEntry.objects.filter(organization=org).values_list("action", flat=True)
    )
    # Resuming again says so instead of failing.
    response = client.post(resume_url, {"confirm": "on"}, follow=True)
    assert "Publishing was already resumed." in response.content.decode()
    assert 'id="not-paused"' in client.get(PAGE).content.decode()


def test_a_manager_pauses_every_brand(manager: User, brand: Brand, org: Organization) -> None:
    other_brand = make_brand(org, "Otra")
    response = signed_in(manager).post(PAUSE_URL, {"scope": "all", "reason": ""}, follow=True)
    assert "Publishing is paused for every brand." in response.content.decode()
    active = Pause.objects.get(organization=org, ended_at__isnull=True)
    assert active.brand is None and not active.is_crisis
    # Pausing again adds crisis mode to the same pause.
    response = signed_in(manager).post(PAUSE_URL, {"scope": "all", "crisis": "on"}, follow=True)
    assert "crisis mode is now on" in response.content.decode()
    assert Pause.objects.filter(organization=org, ended_at__isnull=True).count() == 1
    assert Pause.objects.get(pk=active.pk).is_crisis
    held_here = held_target(other_brand, "Para la otra marca")
    body = signed_in(manager).get(PAGE).content.decode()
    assert post_path(held_here.post_id) in body


def test_the_held_list_shows_due_deliveries_with_links(
    manager: User, brand: Brand, org: Organization
) -> None:
    target = held_target(brand, "Oferta de otoño")
    other_org_target = held_target(make_brand(make_org()), "Ajeno")
    body = signed_in(manager).get(PAGE).content.decode()
    assert 'id="held-deliveries"' not in body  # nothing is paused: nothing is held
    pause(as_person(manager), org, brand)
    body = signed_in(manager).get(PAGE).content.decode()
    assert 'id="held-deliveries"' in body
    assert "1 post delivery held" in body
    assert f'href="{post_path(target.post_id)}"' in body and "Oferta de otoño" in body
    assert "Ajeno" not in body and post_path(other_org_target.post_id) not in body
    # Resuming tells what happens to them.
    assert "held posts go out at once" in body


def test_hostile_reasons_are_shown_escaped(manager: User, brand: Brand) -> None:
    signed_in(manager).post(PAUSE_URL, {"scope": "brand", "reason": HOSTILE})
    assert Pause.objects.get(ended_at__isnull=True).reason == HOSTILE.strip()
    for url in (PAGE, reverse("web:crisis")):
        body = signed_in(manager).get(url).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;" in body


def test_a_reason_that_is_too_long_is_refused(manager: User) -> None:
    response = signed_in(manager).post(PAUSE_URL, {"scope": "brand", "reason": "x" * 400}, follow=True)
    assert "at most 300 characters" in response.content.decode()
    assert not Pause.objects.exists()


def test_another_organizations_pause_is_not_found(manager: User) -> None:
    other = make_org()
    foreign = pause(SYSTEM, other, make_brand(other))
    response = signed_in(manager).post(reverse("web:publishing-resume", args=[foreign.pk]), {"confirm": "on"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.ended_at is None
    body = signed_in(manager).get(PAGE).content.decode()
    assert 'id="not-paused"' in body


def test_the_crisis_page_shows_the_controls_and_returns_there(manager: User, brand: Brand) -> None:
    client = signed_in(manager)
    body = client.get(reverse("web:crisis")).content.decode()
    assert 'id="pause-form"' in body
    assert "Pause publishing for Café Sur" in body and "Pause publishing for every brand" in body
    assert 'name="return_to" value="crisis"' in body
    response = client.post(PAUSE_URL, {"scope": "brand", "reason": "Rumor", "return_to": "crisis"})
    assert response["Location"] == reverse("web:crisis")
    active = Pause.objects.get(ended_at__isnull=True)
    body = client.get(reverse("web:crisis")).content.decode()
    assert "Rumor" in body and reverse("web:publishing-resume", args=[active.pk]) in body
    # An unknown place to return to falls back to the settings page.
    response = client.post(
        reverse("web:publishing-resume", args=[active.pk]),
        {"confirm": "on", "return_to": "https://evil.example/"},
    )
    assert response["Location"] == PAGE


def test_the_paused_banner_shows_for_the_current_brand(
    manager: User, brand: Brand, org: Organization
) -> None:
    other_brand = make_brand(org, "Otra")

    def banner(user: User) -> str:
        request = RequestFactory().get("/publish/")
        request.user = user
        request.tenant = Tenant(organization=org, brand=brand)  # type: ignore[attr-defined]  # as the middleware does
        return render_to_string("web/partials/publishing_paused.html", request=request)

    assert 'id="publishing-paused"' in banner(manager) and "warning-banner" not in banner(manager)
    pause(as_person(manager), org, other_brand, reason="Solo la otra")
    assert "warning-banner" not in banner(manager)
    pause(as_person(manager), org, brand, reason="Esta sí", crisis=True)
    text = banner(manager)
    assert "Publishing is paused for Café Sur." in text and "Esta sí" in text and "Crisis mode is on" in text
    assert "Solo la otra" not in text
    pause(as_person(manager), org, None, reason=HOSTILE)
    text = banner(manager)
    assert "Publishing is paused for every brand." in text
    assert "<script>alert" not in text and "&lt;script&gt;" in text


def test_an_organization_without_brands_can_still_pause_everything() -> None:
    owner = make_member(make_org("Sin marcas"), Role.OWNER)
    client = signed_in(owner)
    body = client.get(PAGE).content.decode()
    assert "This organization has no brand yet" in body
    assert 'id="pause-form"' in body and 'value="brand"' not in body
    response = client.post(PAUSE_URL, {"scope": "brand"}, follow=True)
    assert "This organization has no brand to pause." in response.content.decode()
    assert not Pause.objects.exists()
    client.post(PAUSE_URL, {"scope": "all"})
    assert Pause.objects.get().brand is None
    assert client.post(NORMAL_URL, steps_data(WorkflowKind.NORMAL, [{}])).status_code == 302


def test_the_banner_refreshes_from_its_own_address(manager: User, brand: Brand, org: Organization) -> None:
    client = signed_in(manager)
    url = reverse("web:publishing-paused")
    assert 'hx-get="' + url + '"' in client.get(reverse("web:publish")).content.decode()
    assert "warning-banner" not in client.get(url).content.decode()
    pause(as_person(manager), org, brand, reason="Incendio")
    body = client.get(url).content.decode()
    assert "warning-banner" in body and "Incendio" in body
    assert client.post(url).status_code == 405
