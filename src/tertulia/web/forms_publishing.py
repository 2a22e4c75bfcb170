"""Forms of the publishing settings page (/settings/publishing/): approval workflows and pauses.

They only parse what people send; `tertulia.publishing.actions.workflows.set_workflow` and
`tertulia.publishing.actions.pauses` check the values again and store them, so the page and the
API refuse the same things (with the same messages).

A workflow is one small form (is it on?) plus a formset of steps. The formset has one empty row
more than the workflow has steps (a new step without JavaScript), a "remove" box and a position
per row; workflows.js adds rows and moves them up and down. A row left empty is not a step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _lazy

from tertulia.core.models import Brand, Membership, Role, User
from tertulia.core.permissions import permissions_of
from tertulia.publishing.actions.pauses import MAX_REASON
from tertulia.publishing.actions.workflows import APPROVING_ROLES, MAX_STEP_NAME, MAX_STEPS, StepSpec
from tertulia.publishing.approvals import APPROVING_PERMS
from tertulia.publishing.models import ApprovalWorkflow, StepMode

# More rows than this are never read (the action refuses more than MAX_STEPS steps anyway).
MAX_ROWS = MAX_STEPS + 5


def approving_roles() -> list[tuple[str, str]]:
    """The roles a step may name, in the order roles are listed everywhere else."""
    return [(role.value, str(role.label)) for role in Role if role.value in APPROVING_ROLES]


def approving_people(brand: Brand) -> list[User]:
    """Active members of the brand's organization who may approve posts, by name."""
    members = Membership.objects.filter(
        organization_id=brand.organization_id, is_active=True, user__is_active=True
    ).select_related("user")
    people = [m.user for m in members if permissions_of(m) & APPROVING_PERMS]
    return sorted(people, key=lambda u: (str(u).casefold(), u.pk))


def person_label(user: User) -> str:
    return f"{user.display_name} ({user.email})" if user.display_name else user.email


class StepForm(forms.Form):
    """One step. Every field may be left empty: an untouched empty row is not a step."""

    name = forms.CharField(
        label=_lazy("Step name"),
        required=False,
        # A little room over the limit, so the action's message (not a cut-off) says what is wrong.
        max_length=MAX_STEP_NAME * 4,
        widget=forms.TextInput(attrs={"dir": "auto", "placeholder": _lazy("Legal review")}),
    )
    mode = forms.ChoiceField(
        label=_lazy("Who must approve"),
        choices=StepMode.choices,
        initial=StepMode.ANY,
        widget=forms.RadioSelect,
    )
    roles = forms.MultipleChoiceField(
        label=_lazy("Approvers by role"), required=False, widget=forms.CheckboxSelectMultiple
    )
    people = forms.TypedMultipleChoiceField(
        label=_lazy("Approvers by name"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, people: Sequence[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        roles = self.fields["roles"]
        assert isinstance(roles, forms.MultipleChoiceField)
        roles.choices = approving_roles()
        chosen = self.fields["people"]
        assert isinstance(chosen, forms.TypedMultipleChoiceField)
        chosen.choices = [(person.pk, person_label(person)) for person in people]

    def spec(self) -> StepSpec:
        data = self.cleaned_data
        return StepSpec(
            name=data.get("name") or "",
            mode=data.get("mode") or StepMode.ANY,
            roles=tuple(data.get("roles") or ()),
            people=tuple(data.get("people") or ()),
        )


if TYPE_CHECKING:
    _StepFormSetBase = forms.BaseFormSet[StepForm]
else:  # BaseFormSet is generic only in django-stubs
    _StepFormSetBase = forms.BaseFormSet


class StepFormSet(_StepFormSetBase):
    """What `formset_factory` would make, spelled out so it type-checks with its own methods."""

    form = StepForm
    extra = 1
    can_order = True
    can_delete = True
    can_delete_extra = True
    min_num = 0
    max_num = MAX_STEPS
    absolute_max = MAX_ROWS
    validate_min = False
    validate_max = False  # the action says how many steps a workflow may have
    renderer = None

    def __init__(self, *args: Any, people: Sequence[User] = (), **kwargs: Any) -> None:
        self.people = people
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"people": self.people}

    def add_fields(self, form: StepForm, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["ORDER"].label = _lazy("Position")
        form.fields["ORDER"].widget.attrs.update({"min": "1", "max": str(MAX_ROWS), "data-step-order": ""})
        form.fields["DELETE"].label = _lazy("Remove this step")

    def specs(self) -> list[StepSpec]:
        """The steps in their chosen order (rows without a position last, as they came).

        Rows marked for removal are left out, and so are rows with no name, role or person: an
        empty row (the spare one, or one cleared by hand) is not a step.
        """
        chosen: list[tuple[tuple[bool, int, int], StepSpec]] = []
        for index, form in enumerate(self.forms):
            data = form.cleaned_data
            spec = form.spec()
            if data.get("DELETE") or not (spec.name.strip() or spec.roles or spec.people):
                continue
            order = data.get("ORDER")
            chosen.append(((order is None, order or 0, index), spec))
        return [spec for _, spec in sorted(chosen, key=lambda pair: pair[0])]


class WorkflowForm(forms.Form):
    is_active = forms.BooleanField(
        label=_lazy("On"),
        required=False,
        initial=True,
        help_text=_lazy("Off: the steps are kept but do not apply."),
    )


class WorkflowEditor:
    """The form and formset of one workflow kind, bound or not, rendered together."""

    def __init__(
        self,
        kind: str,
        brand: Brand,
        workflow: ApprovalWorkflow | None,
        data: Any = None,
        *,
        people: Sequence[User] | None = None,
        steps: Sequence[StepSpec] | None = None,
        is_active: bool | None = None,
    ) -> None:
        """`steps`/`is_active` replace the stored values (to show back what was sent, in its order)."""
        self.kind = kind
        self.workflow = workflow
        people = approving_people(brand) if people is None else people
        if steps is None:
            steps = _stored_steps(workflow)
        if is_active is None:
            is_active = workflow.is_active if workflow is not None else True
        initial = [
            {
                "name": spec.name,
                "mode": spec.mode,
                "roles": list(spec.roles),
                "people": list(spec.people),
                "ORDER": position,
            }
            for position, spec in enumerate(steps, start=1)
        ]
        self.form = WorkflowForm(data, prefix=kind, initial={"is_active": is_active})
        self.steps = StepFormSet(data, prefix=f"{kind}-step", initial=initial, people=people)
        self.errors: list[str] = []

    def is_valid(self) -> bool:
        form_ok = self.form.is_valid()
        return self.steps.is_valid() and form_ok

    @property
    def show_open(self) -> bool:
        """Shown unfolded: when it comes back with what someone sent (and why it was refused)."""
        return bool(self.errors) or self.form.is_bound

    @property
    def is_active(self) -> bool:
        return bool(self.form.cleaned_data.get("is_active"))

    def disable(self) -> None:
        for form in (self.form, *self.steps.forms):
            for field in form.fields.values():
                field.disabled = True


def _stored_steps(workflow: ApprovalWorkflow | None) -> list[StepSpec]:
    if workflow is None:
        return []
    return [
        StepSpec(
            name=step.name,
            mode=step.mode,
            roles=tuple(step.roles or ()),
            people=tuple(person.pk for person in step.people.all()),
        )
        for step in workflow.steps.all()
    ]


class PauseForm(forms.Form):
    """Pause the current brand or every brand; the scope comes from the button pressed."""

    SCOPES = (("brand", _lazy("This brand")), ("all", _lazy("Every brand")))

    scope = forms.ChoiceField(choices=SCOPES)
    reason = forms.CharField(
        label=_lazy("Why (everyone in the organization sees it)"),
        required=False,
        max_length=MAX_REASON * 2,  # the action says what the limit is
        widget=forms.TextInput(attrs={"dir": "auto", "maxlength": str(MAX_REASON)}),
    )
    crisis = forms.BooleanField(
        label=_lazy("Crisis mode"),
        required=False,
        help_text=_lazy("Also sends every new post through the crisis approval workflow, whoever wrote it."),
    )


class ResumeForm(forms.Form):
    confirm = forms.BooleanField(label=_lazy("Yes, resume: held posts go out at once."))
