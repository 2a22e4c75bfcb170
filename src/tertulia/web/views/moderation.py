"""Settings → Moderation: the brand's rules (with a dry run), the requests awaiting a second person,
the moderation log; and the hide / show / delete / block buttons next to each inbound message.

Who: the page needs Perm.MODERATE; changing rules Perm.MANAGE_BRANDS; approving
Perm.APPROVE_MODERATION (never one's own request). Moderating a message also needs a grant on its
channel. Everything found by id is looked up within the current organization (else 404).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, Membership
from tertulia.core.permissions import Perm, operable_channels
from tertulia.inbox.models import Intent, Message, MessageKind, Sentiment
from tertulia.moderation.actions import manual
from tertulia.moderation.actions import rules as rule_actions
from tertulia.moderation.choices import ActionStatus, ActionType
from tertulia.moderation.dryrun import dry_run
from tertulia.moderation.models import ModerationAction, ModerationRule
from tertulia.moderation.schema import MAX_COUNT, MAX_PHRASE, MAX_REPLY
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

LOG_SIZE = 50
EITHER = [("", _lazy("Either")), ("yes", _lazy("Yes")), ("no", _lazy("No"))]
NETWORK_CHOICES = [
    ("", _lazy("Nothing on the network")),
    (ActionType.HIDE, _lazy("Hide the message")),
    (ActionType.DELETE, _lazy("Delete the message")),
    (ActionType.BLOCK, _lazy("Block the author")),
]


class RuleForm(forms.Form):
    """A rule as people think of it; turned into the JSON `tertulia.moderation.schema` checks."""

    name = forms.CharField(label=_lazy("Name"), max_length=120)
    enabled = forms.BooleanField(label=_lazy("On"), required=False)
    stop_processing = forms.BooleanField(
        label=_lazy("Stop here"),
        required=False,
        help_text=_lazy("When it matches, later rules are not tried."),
    )
    position = forms.IntegerField(label=_lazy("Order"), min_value=0, max_value=1_000_000, required=False)
    intents = forms.MultipleChoiceField(
        label=_lazy("Intent"), choices=Intent.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    sentiments = forms.MultipleChoiceField(
        label=_lazy("Sentiment"),
        choices=Sentiment.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    kinds = forms.MultipleChoiceField(
        label=_lazy("Kind of message"),
        choices=MessageKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    channels = forms.TypedMultipleChoiceField(
        label=_lazy("Channels"), coerce=int, widget=forms.CheckboxSelectMultiple, required=False
    )
    languages = forms.CharField(
        label=_lazy("Languages"), max_length=200, required=False, help_text=_lazy("Codes such as es, en.")
    )
    text_matches = forms.CharField(
        label=_lazy("Words or phrases"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=50 * (MAX_PHRASE + 1),
        required=False,
        help_text=_lazy("One per line; whole words, case and accents ignored."),
    )
    min_followers = forms.IntegerField(
        label=_lazy("At least this many followers"), min_value=0, max_value=MAX_COUNT, required=False
    )
    max_followers = forms.IntegerField(
        label=_lazy("At most this many followers"), min_value=0, max_value=MAX_COUNT, required=False
    )
    influential = forms.ChoiceField(
        label=_lazy("Influential author (the brand's threshold)"), choices=EITHER, required=False
    )
    customer = forms.ChoiceField(label=_lazy("Known customer"), choices=EITHER, required=False)
    network_action = forms.ChoiceField(label=_lazy("On the network"), choices=NETWORK_CHOICES, required=False)
    escalate = forms.BooleanField(label=_lazy("Escalate to a manager"), required=False)
    tags = forms.CharField(
        label=_lazy("Tags"), max_length=500, required=False, help_text=_lazy("Separated by commas.")
    )
    assign_to = forms.TypedChoiceField(label=_lazy("Assign to"), coerce=int, empty_value=None, required=False)
    auto_reply = forms.CharField(
        label=_lazy("Automatic reply"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=MAX_REPLY,
        required=False,
        help_text=_lazy("Sent once per conversation."),
    )

    def __init__(self, data: Any = None, *, brand: Brand, initial: dict[str, Any] | None = None) -> None:
        super().__init__(data, initial=initial)
        channels = self.fields["channels"]
        assert isinstance(channels, forms.TypedMultipleChoiceField)
        channels.choices = [
            (c.pk, f"@{c.handle} ({c.network})")
            for c in Channel.objects.filter(brand=brand).order_by("handle")
        ]
        assign_to = self.fields["assign_to"]
        assert isinstance(assign_to, forms.TypedChoiceField)
        members = Membership.objects.filter(
            organization_id=brand.organization_id, is_active=True
        ).select_related("user")
        assign_to.choices = [("", _("Nobody")), *((m.user_id, str(m.user)) for m in members)]

    def conditions(self) -> dict[str, Any]:
        data = self.cleaned_data
        found: dict[str, Any] = {}
        for key in ("intents", "sentiments", "kinds", "channels"):
            if data.get(key):
                found[key] = list(data[key])
        languages = [code.strip() for code in (data.get("languages") or "").replace(";", ",").split(",")]
        if any(languages):
            found["languages"] = [code for code in languages if code]
        phrases = [line.strip() for line in (data.get("text_matches") or "").splitlines()]
        if any(phrases):
            found["text_matches"] = [p for p in phrases if p]
        for key in ("min_followers", "max_followers"):
            if data.get(key) is not None:
                found[key] = data[key]
        for key in ("influential", "customer"):
            if data.get(key):
                found[key] = data[key] == "yes"
        return found

    def actions(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        found: list[dict[str, Any]] = []
        if data.get("network_action"):
            found.append({"type": data["network_action"]})
        found.extend(
            {"type": "tag", "tag": t.strip()} for t in (data.get("tags") or "").split(",") if t.strip()
        )
        if data.get("escalate"):
            found.append({"type": "escalate"})
        if data.get("assign_to"):
            found.append({"type": "assign", "user": data["assign_to"]})
        if (data.get("auto_reply") or "").strip():
            found.append({"type": "auto_reply", "text": data["auto_reply"]})
        return found

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            "name": data["name"],
            "enabled": data["enabled"],
            "stop_processing": data["stop_processing"],
            "conditions": self.conditions(),
            "actions": self.actions(),
        }
        if data.get("position") is not None:
            values["position"] = data["position"]
        return values

    def show(self, error: ValidationError) -> None:
        """The actions layer's errors (keyed conditions / actions / name), on the form."""
        if hasattr(error, "error_dict"):
            for key, items in error.error_dict.items():
                for item in items:
                    self.add_error("name" if key == "name" else None, item)
        else:
            self.add_error(None, error)


def rule_initial(rule: ModerationRule) -> dict[str, Any]:
    conditions, initial = rule.conditions, {}
    for key in ("intents", "sentiments", "kinds", "channels", "min_followers", "max_followers"):
        if key in conditions:
            initial[key] = conditions[key]
    initial["languages"] = ", ".join(conditions.get("languages", []))
    initial["text_matches"] = "\n".join(conditions.get("text_matches", []))
    for key in ("influential", "customer"):
        if key in conditions:
            initial[key] = "yes" if conditions[key] else "no"
    tags = []
    for action in rule.actions:
        kind = action.get("type")
        if kind in (ActionType.HIDE, ActionType.DELETE, ActionType.BLOCK):
            initial["network_action"] = kind
        elif kind == ActionType.TAG:
            tags.append(action.get("tag", ""))
        elif kind == ActionType.ESCALATE:
            initial["escalate"] = True
        elif kind == ActionType.ASSIGN:
            initial["assign_to"] = action.get("user")
        elif kind == ActionType.AUTO_REPLY:
            initial["auto_reply"] = action.get("text", "")
    initial["tags"] = ", ".join(tags)
    initial.update(
        name=rule.name, enabled=rule.enabled, stop_processing=rule.stop_processing, position=rule.position
    )
    return initial


# ---------------------------------------------------------------- describing rules to people


def describe_conditions(rule: ModerationRule, channels: dict[int, str]) -> list[str]:
    c = rule.conditions
    labels = {
        "intents": (_("Intent"), dict(Intent.choices)),
        "sentiments": (_("Sentiment"), dict(Sentiment.choices)),
        "kinds": (_("Kind"), dict(MessageKind.choices)),
    }
    lines = []
    for key, (label, names) in labels.items():
        if key in c:
            lines.append(f"{label}: {', '.join(str(names.get(v, v)) for v in c[key])}")
    if "languages" in c:
        lines.append(f"{_('Language')}: {', '.join(c['languages'])}")
    if "text_matches" in c:
        lines.append(f"{_('Words')}: {', '.join('“' + p + '”' for p in c['text_matches'])}")
    if "min_followers" in c:
        lines.append(_("At least %(n)s followers") % {"n": c["min_followers"]})
    if "max_followers" in c:
        lines.append(_("At most %(n)s followers") % {"n": c["max_followers"]})
    if "influential" in c:
        lines.append(_("Influential author") if c["influential"] else _("Not an influential author"))
    if "customer" in c:
        lines.append(_("Known customer") if c["customer"] else _("Not a known customer"))
    if "channels" in c:
        lines.append(f"{_('Channels')}: {', '.join('@' + channels.get(pk, '?') for pk in c['channels'])}")
    return lines


def describe_actions(rule: ModerationRule, people: dict[int, str]) -> list[str]:
    lines = []
    for action in rule.actions:
        kind = action.get("type", "")
        label = str(ActionType(kind).label) if kind in ActionType.values else kind
        if kind == ActionType.TAG:
            label = f"{label} “{action.get('tag', '')}”"
        elif kind == ActionType.ASSIGN:
            label = f"{label}: {people.get(action.get('user') or 0, '?')}"
        elif kind == ActionType.AUTO_REPLY:
            label = f"{label}: “{str(action.get('text', ''))[:80]}”"
        lines.append(label)
    return lines


# ---------------------------------------------------------------- the page


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _brand(tenant: Tenant) -> Brand:
    if tenant.brand is None:
        raise Http404
    return tenant.brand


def _visible_channels(request: HttpRequest, tenant: Tenant, brand: Brand) -> list[Channel]:
    """Approvers see the whole brand's log; others, the channels they operate."""
    channels = list(Channel.objects.filter(brand=brand))
    if tenant.can(Perm.APPROVE_MODERATION):
        return channels
    assert tenant.organization is not None
    return operable_channels(signed_in_user(request), tenant.organization, channels)


def _page(
    request: HttpRequest, tenant: Tenant, form: RuleForm | None = None, status: int = 200
) -> HttpResponse:
    brand = tenant.brand
    context: dict[str, Any] = {"section": "settings", "brand": brand}
    if brand is not None:
        channels = _visible_channels(request, tenant, brand)
        handles = {c.pk: c.handle for c in Channel.objects.filter(brand=brand)}
        people = {
            m.user_id: str(m.user)
            for m in Membership.objects.filter(organization_id=brand.organization_id).select_related("user")
        }
        rules = list(ModerationRule.objects.filter(brand=brand))
        actions = ModerationAction.objects.filter(brand=brand, channel__in=channels).select_related(
            "message", "requested_by", "decided_by", "channel"
        )
        context.update(
            rules=[(r, describe_conditions(r, handles), describe_actions(r, people)) for r in rules],
            awaiting=list(actions.filter(status=ActionStatus.AWAITING_APPROVAL).order_by("created_at")),
            log=list(actions.order_by("-created_at", "-id")[:LOG_SIZE]),
            form=form if form is not None else RuleForm(brand=brand),
            approvers=manual.approvers(brand.organization_id, brand_id=brand.pk),
        )
    return render(request, "web/moderation.html", context, status=status)


@section("settings", Perm.MODERATE)
def moderation(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _page(request, tenant)


@section("settings", Perm.MANAGE_BRANDS)
@require_POST
def rule_create(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    brand = _brand(tenant)
    form = RuleForm(request.POST, brand=brand)
    if form.is_valid():
        try:
            rule = rule_actions.create_rule(Actor.from_request(request), brand, **form.values())
        except ValidationError as error:
            form.show(error)
        else:
            messages.success(
                request,
                _("Rule “%(name)s” created. It is off: try a dry run, then switch it on.")
                % {"name": rule.name}
                if not rule.enabled
                else _("Rule “%(name)s” created and on.") % {"name": rule.name},
            )
            return redirect("web:moderation")
    return _page(request, tenant, form, status=400)


def _rule(tenant: Tenant, rule_id: int) -> ModerationRule:
    return get_object_or_404(tenant.restrict(ModerationRule.objects.select_related("brand")), pk=rule_id)


@section("settings", Perm.MODERATE)
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, tenant: Tenant, rule_id: int) -> HttpResponse:
    rule = _rule(tenant, rule_id)
    can_edit = tenant.can(Perm.MANAGE_BRANDS)
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = RuleForm(request.POST, brand=rule.brand)
        if form.is_valid():
            try:
                rule_actions.update_rule(Actor.from_request(request), rule, **form.values())
            except ValidationError as error:
                form.show(error)
            else:
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
                return redirect("web:moderation")
        status = 400
    else:
        form = RuleForm(brand=rule.brand, initial=rule_initial(rule))
        status = 200
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "web/moderation_rule.html",
        {"section": "settings", "rule": rule, "form": form, "can_edit": can_edit},
        status=status,
    )


@section("settings", Perm.MANAGE_BRANDS)
@require_POST
def rule_toggle(request: HttpRequest, tenant: Tenant, rule_id: int) -> HttpResponse:
    rule = _rule(tenant, rule_id)
    enabled = request.POST.get("enabled") == "1"
    rule_actions.set_enabled(Actor.from_request(request), rule, enabled)
    messages.success(
        request,
        (_("Rule “%(name)s” is on.") if enabled else _("Rule “%(name)s” is off.")) % {"name": rule.name},
    )
    return redirect("web:moderation")


@section("settings", Perm.MANAGE_BRANDS)
@require_POST
def rule_delete(request: HttpRequest, tenant: Tenant, rule_id: int) -> HttpResponse:
    rule = _rule(tenant, rule_id)
    name = rule.name
    rule_actions.delete_rule(Actor.from_request(request), rule)
    messages.success(request, _("Rule “%(name)s” deleted. What it did stays in the log.") % {"name": name})
    return redirect("web:moderation")


@section("settings", Perm.MODERATE)
@require_POST
def rule_dry_run(request: HttpRequest, tenant: Tenant, rule_id: int) -> HttpResponse:
    rule = _rule(tenant, rule_id)
    report = dry_run(rule)
    template = "web/moderation_report.html" if _is_htmx(request) else "web/moderation_dry_run.html"
    return render(request, template, {"section": "settings", "rule": rule, "report": report})


# ---------------------------------------------------------------- approvals


def _action(tenant: Tenant, action_id: int) -> ModerationAction:
    return get_object_or_404(tenant.restrict(ModerationAction.objects.all()), pk=action_id)


@section("settings", Perm.APPROVE_MODERATION)
@require_POST
def action_approve(request: HttpRequest, tenant: Tenant, action_id: int) -> HttpResponse:
    action = _action(tenant, action_id)
    try:
        manual.approve(Actor.from_request(request), action, request.POST.get("note", "")[:500])
    except manual.ModerationRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Approved. It is being done on the network."))
    return redirect("web:moderation")


@section("settings", Perm.MODERATE)
@require_POST
def action_reject(request: HttpRequest, tenant: Tenant, action_id: int) -> HttpResponse:
    action = _action(tenant, action_id)
    try:
        manual.reject(Actor.from_request(request), action, request.POST.get("reason", "")[:500])
    except manual.ModerationRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Rejected: nothing will be done on the network."))
    return redirect("web:moderation")


# ---------------------------------------------------------------- the buttons next to a message


def _message(request: HttpRequest, tenant: Tenant, message_id: int) -> Message:
    message = (
        Message.objects.filter(organization=tenant.organization, pk=message_id)
        .select_related("channel", "conversation")
        .first()
    )
    assert tenant.organization is not None
    if message is None or not operable_channels(
        signed_in_user(request), tenant.organization, [message.channel]
    ):
        raise Http404
    return message


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("web:moderation")


@section("inbox", Perm.MODERATE)
@require_POST
def message_moderate(request: HttpRequest, tenant: Tenant, message_id: int) -> HttpResponse:
    message = _message(request, tenant, message_id)
    action_type = request.POST.get("action", "")
    reason = request.POST.get("reason", "")[: manual.MAX_NOTE + 1]
    notice, status = "", 200
    try:
        action = manual.moderate(Actor.from_request(request), message, action_type, reason)
    except manual.ModerationRefused as refused:
        notice, status = str(refused), 400
    else:
        if action.status == ActionStatus.AWAITING_APPROVAL:
            notice = _("Asked for a second person's approval.")
            if not manual.approvers(
                message.organization_id, besides=signed_in_user(request), brand_id=message.brand_id
            ):
                notice += " " + _("Nobody else can approve it yet: add a brand manager or an administrator.")
        else:
            notice = _("Queued: %(action)s.") % {"action": action.get_action_type_display()}
        message.refresh_from_db()
    if _is_htmx(request):
        # 200 even when refused: htmx swaps only successful answers, and the refusal must show.
        return render(
            request,
            "web/partials/moderation_buttons.html",
            {"message": message, "conversation": message.conversation, "moderation_notice": notice},
        )
    (messages.error if status >= 400 else messages.success)(request, notice)
    return _back(request)
