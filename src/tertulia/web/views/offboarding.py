"""Team → a person → Offboard: the preview of everything it will do, the confirmation, the outcome.

The logic is in `tertulia.governance.actions.offboarding`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Membership, User
from tertulia.core.permissions import Perm
from tertulia.governance.actions import offboarding
from tertulia.governance.actions.offboarding import Handover, OffboardingRefused, Plan
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

QUEUE = ""


def _choices(people: list[User], first: tuple[str, str] | None) -> list[tuple[str, str]]:
    found = [first] if first else []
    return found + [
        (str(person.pk), f"{person} <{person.email}>" if person.display_name else person.email)
        for person in people
    ]


class HandoverForm(forms.Form):
    conversations_to = forms.ChoiceField(label=_lazy("Their open conversations go to"), required=False)
    approvals_to = forms.ChoiceField(label=_lazy("In approval steps, their place goes to"), required=False)
    posts_to = forms.ChoiceField(label=_lazy("Their scheduled posts go to"), required=False)

    def __init__(self, *args: Any, plan: Plan, me: User, **kwargs: Any) -> None:
        self.people = {
            "conversations_to": offboarding.conversation_successors(plan.member),
            "approvals_to": offboarding.approval_successors(plan.member),
            "posts_to": offboarding.post_successors(plan.member),
        }
        initial = {name: str(me.pk) for name, people in self.people.items() if me in people}
        initial["conversations_to"] = QUEUE
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self._field("conversations_to").choices = _choices(
            self.people["conversations_to"],
            (QUEUE, str(_("Back to the queue (assigned automatically where the brand does so)"))),
        )
        self._field("approvals_to").choices = _choices(
            self.people["approvals_to"], (QUEUE, str(_("Nobody: only remove them")))
        )
        self._field("posts_to").choices = _choices(
            self.people["posts_to"], None if plan.posts else (QUEUE, "—")
        )
        self._field("posts_to").required = bool(plan.posts)

    def _field(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    def handover(self) -> Handover:
        def person(name: str) -> User | None:
            chosen = self.cleaned_data.get(name) or ""
            return next((p for p in self.people[name] if str(p.pk) == chosen), None)

        return Handover(
            conversations_to=person("conversations_to"),
            approvals_to=person("approvals_to"),
            posts_to=person("posts_to"),
        )


def isolated(value: object) -> SafeString:
    """A name as typed, in a sentence: escaped, and isolated (<bdi>) so that right-to-left or override
    characters in it cannot reorder the words around it."""
    return format_html("<bdi>{}</bdi>", value)


def _member(tenant: Tenant, member_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "organization"),
        pk=member_id,
        organization=tenant.organization,
    )


@section("team", Perm.MANAGE_MEMBERS, write=Perm.MANAGE_MEMBERS)
@never_cache
@require_http_methods(["GET", "POST"])
def offboard(request: HttpRequest, tenant: Tenant, member_id: int) -> HttpResponse:
    member = _member(tenant, member_id)
    me = signed_in_user(request)
    plan = offboarding.plan_for(member)
    form = HandoverForm(request.POST if request.method == "POST" else None, plan=plan, me=me)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            entry = offboarding.offboard(Actor.from_request(request), member, form.handover())
        except OffboardingRefused as exc:
            problem = str(exc)
        else:
            if entry is None:
                messages.info(
                    request,
                    _("There was nothing left to do: %(person)s is already offboarded.")
                    % {"person": member.user},
                )
            return redirect("web:member-offboarded", member_id=member.pk)
    elif request.method == "GET":
        try:
            offboarding.check_allowed(Actor.from_request(request), member)
        except OffboardingRefused as exc:
            problem = str(exc)
    context = {
        "section": "team",
        "plan": plan,
        "member": member,
        "person": isolated(member.user),
        "form": form,
        "problem": problem,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "web/governance/offboard.html", context, status=status)


@section("team", Perm.MANAGE_MEMBERS)
@require_GET
def outcome(request: HttpRequest, tenant: Tenant, member_id: int) -> HttpResponse:
    """What the latest offboarding of this member did (read back from its audit entry)."""
    member = _member(tenant, member_id)
    entry = (
        AuditEntry.objects.filter(
            organization=tenant.organization,
            action=offboarding.ACTION,
            object_type=Membership._meta.label_lower,
            object_id=str(member.pk),
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if entry is None:
        raise Http404
    details = (entry.changes.get("offboarding") or [None, {}])[1] or {}
    return render(
        request,
        "web/governance/offboarded.html",
        {
            "section": "team",
            "member": member,
            "person": isolated(member.user),
            "entry": entry,
            "done": details,
        },
    )
