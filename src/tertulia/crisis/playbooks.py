"""Playbooks: per brand, the plan written in calm times (seed 001: the first step, who to contact,
what to answer and what not) and the holding statements approved before they are needed.

Who may do what (docs/crisis-playbooks.md):

- read a brand's playbooks: anyone who works in the brand (`Perm.VIEW` there);
- create, edit and delete them: those who may pause publishing in the brand (`Perm.MANAGE_PUBLISHING`:
  owners, administrators, brand managers), since a playbook is what crisis mode runs;
- approve a holding statement: those who approve posts or manage publishing in the brand
  (`Perm.APPROVE_POSTS` or `Perm.MANAGE_PUBLISHING`), and never the person who wrote its current text.
  Editing a statement's text (or title) takes its approval away; only approved statements are pinned
  in the inbox when crisis mode starts.

Members limited to some brands do all of this only in their brands; another organization's playbook,
or one of a brand the person does not work in, is not found.

Edits are whole-playbook saves with optimistic locking: the caller says which `Playbook.version` they
edited, and a save over a newer version is refused (`StaleVersion`) instead of overwriting someone's
work. Every change is audited ("playbook.create", "playbook.update", "playbook.delete",
"playbook.statement_approve", "playbook.statement_unapprove").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Membership, Organization, Role, User
from tertulia.core.permissions import Perm, has_perm, member_works_in, restrict
from tertulia.crisis.models import (
    CrisisRoleKind,
    DecisionRule,
    HoldingStatement,
    Playbook,
    PlaybookContact,
    PlaybookStep,
    RuleKind,
)

MAX_NAME = 120
MAX_DESCRIPTION = 2_000
MAX_STEPS = 40
MAX_STEP_TITLE = 200
MAX_STEP_DETAILS = 4_000
MAX_CONTACTS = 30
MAX_CONTACT_NAME = 120
MAX_CONTACT_ROLE = 120
MAX_PHONE = 40
MAX_RULES = 40
MAX_RULE = 500
MAX_STATEMENTS = 40
MAX_SHORTCUT = 40
MAX_STATEMENT_TITLE = 120
MAX_STATEMENT_BODY = 5_000
MAX_PLAYBOOKS_PER_BRAND = 30

SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PHONE = re.compile(r"^[0-9+() ./-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class PlaybookRefused(ValueError):
    """The playbook cannot be saved or changed as asked; the message says why."""


class NotPermitted(PlaybookRefused):
    """The person may not do this in this brand."""


class StaleVersion(PlaybookRefused):
    """Someone saved the playbook after the caller loaded it: reload and redo the change."""


# --- who may -------------------------------------------------------------------------------------


def may_view(user: User, brand: Brand) -> bool:
    return has_perm(user, brand.organization, Perm.VIEW, brand)


def may_edit(user: User, brand: Brand) -> bool:
    return has_perm(user, brand.organization, Perm.MANAGE_PUBLISHING, brand)


def may_approve(user: User, brand: Brand) -> bool:
    return has_perm(user, brand.organization, Perm.APPROVE_POSTS, brand) or may_edit(user, brand)


def playbooks_for(user: User, organization: Organization) -> QuerySet[Playbook]:
    """The playbooks of the brands `user` works in (nothing of any other organization)."""
    return restrict(Playbook.objects.all(), user, organization, Perm.VIEW).select_related("brand")


def _person(actor: Actor) -> User:
    if actor.user is None:
        raise NotPermitted(_("Only a person can change a playbook."))
    return actor.user


# --- what a save carries -------------------------------------------------------------------------


@dataclass
class StepIn:
    title: str
    details: str = ""
    role: str = ""


@dataclass
class ContactIn:
    name: str
    role: str = ""
    phone: str = ""
    email: str = ""
    user_id: int | None = None


@dataclass
class RuleIn:
    text: str
    kind: str = RuleKind.DO


@dataclass
class StatementIn:
    shortcut: str
    language: str
    title: str
    body: str


@dataclass
class PlaybookIn:
    name: str
    description: str = ""
    is_default: bool = False
    steps: list[StepIn] = field(default_factory=list)
    contacts: list[ContactIn] = field(default_factory=list)
    rules: list[RuleIn] = field(default_factory=list)
    statements: list[StatementIn] = field(default_factory=list)


def as_input(playbook: Playbook) -> PlaybookIn:
    """A playbook as a save would carry it (for forms and for copies)."""
    return PlaybookIn(
        name=playbook.name,
        description=playbook.description,
        is_default=playbook.is_default,
        steps=[StepIn(s.title, s.details, s.role) for s in playbook.steps.all()],
        contacts=[ContactIn(c.name, c.role, c.phone, c.email, c.user_id) for c in playbook.contacts.all()],
        rules=[RuleIn(r.text, r.kind) for r in playbook.rules.all()],
        statements=[StatementIn(s.shortcut, s.language, s.title, s.body) for s in playbook.statements.all()],
    )


# --- validation ----------------------------------------------------------------------------------


def _text(value: str, limit: int, what: str, *, required: bool = False, single_line: bool = False) -> str:
    value = (value or "").strip()
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise PlaybookRefused(_("%(what)s contains characters that cannot be stored.") % {"what": what})
    if required and not value:
        raise PlaybookRefused(_("%(what)s is required.") % {"what": what})
    if len(value) > limit:
        raise PlaybookRefused(_("%(what)s must be at most %(n)d characters.") % {"what": what, "n": limit})
    if single_line and ("\n" in value or "\r" in value):
        raise PlaybookRefused(_("%(what)s must fit on one line.") % {"what": what})
    return value


def valid_language(code: str) -> bool:
    code = code.strip()
    if not LANGUAGE.match(code):
        return False
    return code.split("-")[0] in LANG_INFO or code in LANG_INFO


def clean(data: PlaybookIn, brand: Brand) -> PlaybookIn:
    """`data` checked and trimmed; refused with a readable reason for the first problem found."""
    out = PlaybookIn(
        name=_text(data.name, MAX_NAME, _("The name"), required=True, single_line=True),
        description=_text(data.description, MAX_DESCRIPTION, _("When to use it")),
        is_default=bool(data.is_default),
    )
    if len(data.steps) > MAX_STEPS:
        raise PlaybookRefused(_("A playbook has at most %(n)d steps.") % {"n": MAX_STEPS})
    roles = set(CrisisRoleKind.values)
    for number, step in enumerate(data.steps, start=1):
        what = _("Step %(n)d") % {"n": number}
        title = _text(step.title, MAX_STEP_TITLE, what, required=True, single_line=True)
        role = (step.role or "").strip()
        if role and role not in roles:
            raise PlaybookRefused(_("%(what)s names an unknown crisis role.") % {"what": what})
        out.steps.append(StepIn(title, _text(step.details, MAX_STEP_DETAILS, what), role))
    if len({s.title.casefold() for s in out.steps}) != len(out.steps):
        raise PlaybookRefused(_("Two steps have the same title."))

    if len(data.contacts) > MAX_CONTACTS:
        raise PlaybookRefused(_("A playbook has at most %(n)d contacts.") % {"n": MAX_CONTACTS})
    for number, contact in enumerate(data.contacts, start=1):
        what = _("Contact %(n)d") % {"n": number}
        name = _text(contact.name, MAX_CONTACT_NAME, what, required=True, single_line=True)
        phone = _text(contact.phone, MAX_PHONE, what, single_line=True)
        if not PHONE.match(phone):
            raise PlaybookRefused(
                _("%(what)s: write the phone with digits, spaces and + ( ) - . / only.") % {"what": what}
            )
        email = _text(contact.email, 254, what, single_line=True)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise PlaybookRefused(
                    _("%(what)s: the e-mail address is not valid.") % {"what": what}
                ) from None
        user_id = contact.user_id
        if user_id is not None:
            member = Membership.objects.filter(
                organization_id=brand.organization_id, user_id=user_id, is_active=True
            ).first()
            if member is None or not member_works_in(member, brand.pk):
                raise PlaybookRefused(
                    _("%(what)s: that person does not work in this brand.") % {"what": what}
                )
        out.contacts.append(
            ContactIn(
                name, _text(contact.role, MAX_CONTACT_ROLE, what, single_line=True), phone, email, user_id
            )
        )

    if len(data.rules) > MAX_RULES:
        raise PlaybookRefused(_("A playbook has at most %(n)d rules.") % {"n": MAX_RULES})
    for number, rule in enumerate(data.rules, start=1):
        what = _("Rule %(n)d") % {"n": number}
        if rule.kind not in RuleKind.values:
            raise PlaybookRefused(_("%(what)s must be a do or a don't.") % {"what": what})
        out.rules.append(RuleIn(_text(rule.text, MAX_RULE, what, required=True), rule.kind))
    if len({r.text.casefold() for r in out.rules}) != len(out.rules):
        raise PlaybookRefused(_("Two rules say the same thing."))

    if len(data.statements) > MAX_STATEMENTS:
        raise PlaybookRefused(_("A playbook has at most %(n)d holding statements.") % {"n": MAX_STATEMENTS})
    seen: set[tuple[str, str]] = set()
    for number, statement in enumerate(data.statements, start=1):
        what = _("Holding statement %(n)d") % {"n": number}
        shortcut = _text(statement.shortcut, MAX_SHORTCUT, what, required=True, single_line=True).lower()
        if not SHORTCUT.match(shortcut):
            raise PlaybookRefused(
                _("%(what)s: the shortcut takes lowercase letters, digits, - and _ only.") % {"what": what}
            )
        language = (statement.language or "").strip()
        if not valid_language(language):
            raise PlaybookRefused(
                _("%(what)s: use a language code such as es, en or pt-BR.") % {"what": what}
            )
        if (shortcut, language) in seen:
            raise PlaybookRefused(
                _("Two holding statements have the shortcut /%(shortcut)s in %(language)s.")
                % {"shortcut": shortcut, "language": language}
            )
        seen.add((shortcut, language))
        out.statements.append(
            StatementIn(
                shortcut,
                language,
                _text(statement.title, MAX_STATEMENT_TITLE, what, required=True, single_line=True),
                _text(statement.body, MAX_STATEMENT_BODY, what, required=True),
            )
        )
    return out


def _check_name(brand: Brand, name: str, besides: int | None = None) -> None:
    # Compared in Python: databases disagree on case-insensitive matching beyond ASCII ("Í" and "í").
    others = Playbook.objects.filter(brand=brand)
    if besides is not None:
        others = others.exclude(pk=besides)
    wanted = name.casefold()
    if any(other.casefold() == wanted for other in others.values_list("name", flat=True)):
        raise PlaybookRefused(_("This brand already has a playbook with that name."))


# --- saving --------------------------------------------------------------------------------------


def _summary(data: PlaybookIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "default": data.is_default,
        "steps": len(data.steps),
        "contacts": len(data.contacts),
        "rules": len(data.rules),
        "statements": len(data.statements),
    }


def _write_children(playbook: Playbook, data: PlaybookIn, user: User | None) -> dict[str, list[str]]:
    """Replace steps, contacts and rules; keep statements whose text did not change (with their
    approval), drop the approval of changed ones. Returns which statements changed and lost approval."""
    playbook.steps.all().delete()
    PlaybookStep.objects.bulk_create(
        PlaybookStep(playbook=playbook, position=i, title=s.title, details=s.details, role=s.role)
        for i, s in enumerate(data.steps)
    )
    playbook.contacts.all().delete()
    PlaybookContact.objects.bulk_create(
        PlaybookContact(
            playbook=playbook,
            position=i,
            name=c.name,
            role=c.role,
            phone=c.phone,
            email=c.email,
            user_id=c.user_id,
        )
        for i, c in enumerate(data.contacts)
    )
    playbook.rules.all().delete()
    DecisionRule.objects.bulk_create(
        DecisionRule(playbook=playbook, position=i, kind=r.kind, text=r.text)
        for i, r in enumerate(data.rules)
    )
    existing = {(s.shortcut, s.language): s for s in playbook.statements.all()}
    now = timezone.now()
    wanted = {(s.shortcut, s.language) for s in data.statements}
    removed = [key for key in existing if key not in wanted]
    HoldingStatement.objects.filter(pk__in=[existing[key].pk for key in removed]).delete()
    unapproved: list[str] = []
    for statement in data.statements:
        key = (statement.shortcut, statement.language)
        old = existing.get(key)
        if old is None:
            HoldingStatement.objects.create(
                playbook=playbook,
                shortcut=statement.shortcut,
                language=statement.language,
                title=statement.title,
                body=statement.body,
                edited_by=user,
                edited_at=now,
            )
        elif old.title != statement.title or old.body != statement.body:
            if old.approved_at is not None:
                unapproved.append(f"/{old.shortcut} ({old.language})")
            old.title, old.body = statement.title, statement.body
            old.edited_by, old.edited_at = user, now
            old.approved_by, old.approved_at = None, None
            old.save()
    return {"unapproved": unapproved, "removed": [f"/{s} ({lang})" for s, lang in removed]}


def _unset_other_default(playbook: Playbook) -> None:
    Playbook.objects.filter(brand_id=playbook.brand_id, is_default=True).exclude(pk=playbook.pk).update(
        is_default=False
    )


def create_playbook(actor: Actor, brand: Brand, data: PlaybookIn) -> Playbook:
    user = _person(actor)
    if not may_edit(user, brand):
        raise NotPermitted(_("You may not edit this brand's playbooks."))
    data = clean(data, brand)
    with transaction.atomic():
        Brand.objects.select_for_update().filter(pk=brand.pk).first()  # one writer per brand at a time
        if Playbook.objects.filter(brand=brand).count() >= MAX_PLAYBOOKS_PER_BRAND:
            raise PlaybookRefused(_("A brand has at most %(n)d playbooks.") % {"n": MAX_PLAYBOOKS_PER_BRAND})
        _check_name(brand, data.name)
        if data.is_default:
            Playbook.objects.filter(brand=brand, is_default=True).update(is_default=False)
        playbook = Playbook.objects.create(
            organization_id=brand.organization_id,
            brand=brand,
            name=data.name,
            description=data.description,
            is_default=data.is_default,
            updated_by=user,
        )
        _write_children(playbook, data, user)
        record(
            actor,
            brand.organization,
            "playbook.create",
            playbook,
            {k: [None, v] for k, v in _summary(data).items()},
        )
    return playbook


def update_playbook(actor: Actor, playbook: Playbook, data: PlaybookIn, version: int) -> Playbook:
    """Save the whole playbook over `version` (the one the person edited); refused if it moved on."""
    user = _person(actor)
    if not may_edit(user, playbook.brand):
        raise NotPermitted(_("You may not edit this brand's playbooks."))
    data = clean(data, playbook.brand)
    with transaction.atomic():
        bumped = Playbook.objects.filter(pk=playbook.pk, version=version).update(version=F("version") + 1)
        if not bumped:
            raise StaleVersion(
                _(
                    "Someone else saved this playbook after you opened it. Reload it and make your "
                    "change again."
                )
            )
        current = Playbook.objects.select_for_update().get(pk=playbook.pk)
        before = _summary(as_input(current))
        _check_name(current.brand, data.name, besides=current.pk)
        if data.is_default:
            _unset_other_default(current)
        current.name, current.description, current.is_default = data.name, data.description, data.is_default
        current.updated_by = user
        current.save(update_fields=["name", "description", "is_default", "updated_by", "updated_at"])
        effects = _write_children(current, data, user)
        after = _summary(data)
        changes: dict[str, list[Any]] = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if effects["unapproved"]:
            changes["unapproved"] = [None, effects["unapproved"]]
        if effects["removed"]:
            changes["statements_removed"] = [effects["removed"], None]
        changes["version"] = [version, version + 1]
        record(actor, current.organization, "playbook.update", current, changes)
    current.refresh_from_db()
    return current


def delete_playbook(actor: Actor, playbook: Playbook, version: int | None = None) -> None:
    user = _person(actor)
    if not may_edit(user, playbook.brand):
        raise NotPermitted(_("You may not edit this brand's playbooks."))
    with transaction.atomic():
        found = Playbook.objects.select_for_update().filter(pk=playbook.pk).first()
        if found is None:
            return
        if version is not None and found.version != version:
            raise StaleVersion(
                _(
                    "Someone else saved this playbook after you opened it. Reload it and make your "
                    "change again."
                )
            )
        pk, organization, name = found.pk, found.organization, found.name
        found.delete()
        playbook.pk = pk  # the caller's instance names what was deleted
        record(actor, organization, "playbook.delete", playbook, {"name": [name, None]})


def approve_statement(
    actor: Actor, statement: HoldingStatement, version: int | None = None
) -> HoldingStatement:
    """Approve the statement's current text. `version`: the playbook version the person read (their
    approval is refused if the playbook was saved since: they would approve a text they have not seen)."""
    user = _person(actor)
    playbook = statement.playbook
    if not may_approve(user, playbook.brand):
        raise NotPermitted(_("You may not approve holding statements in this brand."))
    with transaction.atomic():
        current = HoldingStatement.objects.select_for_update().filter(pk=statement.pk).first()
        if current is None:
            raise PlaybookRefused(_("This holding statement no longer exists."))
        if (
            version is not None
            and Playbook.objects.filter(pk=playbook.pk).values_list("version", flat=True).first() != version
        ):
            raise StaleVersion(
                _("The playbook changed since you read it. Read the statement again before approving it.")
            )
        if current.edited_by_id is not None and current.edited_by_id == user.pk:
            raise NotPermitted(_("Someone other than its writer must approve a holding statement."))
        if current.approved_at is not None:
            return current
        current.approved_by, current.approved_at = user, timezone.now()
        current.save(update_fields=["approved_by", "approved_at"])
        record(
            actor,
            playbook.organization,
            "playbook.statement_approve",
            playbook,
            {"statement": [None, f"/{current.shortcut} ({current.language})"]},
        )
    return current


def unapprove_statement(actor: Actor, statement: HoldingStatement) -> HoldingStatement:
    user = _person(actor)
    playbook = statement.playbook
    if not may_approve(user, playbook.brand):
        raise NotPermitted(_("You may not approve holding statements in this brand."))
    with transaction.atomic():
        current = HoldingStatement.objects.select_for_update().get(pk=statement.pk)
        if current.approved_at is None:
            return current
        current.approved_by, current.approved_at = None, None
        current.save(update_fields=["approved_by", "approved_at"])
        record(
            actor,
            playbook.organization,
            "playbook.statement_unapprove",
            playbook,
            {"statement": [f"/{current.shortcut} ({current.language})", None]},
        )
    return current


def approved_statements(playbook: Playbook) -> list[HoldingStatement]:
    """What crisis mode may pin in the inbox: approved statements only."""
    return list(playbook.statements.filter(approved_at__isnull=False))


# --- the default playbook (seed 001) -------------------------------------------------------------

# Written as content, in both languages, not as interface strings: the playbook is the brand's own
# text from the start (its team edits it), whatever language the person creating it reads.
_DEFAULT: dict[str, dict[str, Any]] = {
    "en": {
        "name": "Crisis playbook",
        "description": (
            "For any sudden wave of complaints or anger about the brand. Written in calm times: the "
            "first step, who to contact, what to answer and what not. Adapt it to your organization."
        ),
        "steps": [
            (
                "monitor",
                "First step: confirm what is happening and how big it is",
                "Read the alert and its examples. Is it real, what is it about, where did it start, is it "
                "still growing? Write a one-line summary in the crisis room.",
            ),
            (
                "lead",
                "Tell the people on the contact list",
                "Call or write to the first contacts below. Say what you saw, how big it is, and that "
                "scheduled publishing is paused.",
            ),
            (
                "approver",
                "Review what was scheduled",
                "Crisis mode paused publishing. Check the scheduled posts: cancel or rewrite what would "
                "sound wrong now.",
            ),
            (
                "spokesperson",
                "Publish the holding statement once",
                "Use the approved holding statement: we know, we are looking into it, we will say more. "
                "Do not improvise a full answer yet.",
            ),
            (
                "responder",
                "Answer angry people: once in public, then in private",
                "Answer each person publicly once with the holding statement, then move to direct "
                "messages for details.",
            ),
            (
                "lead",
                "Agree the full answer with those responsible",
                "Decide with management (and legal if needed) what the brand says and does.",
            ),
            (
                "monitor",
                "Watch the numbers until they are back to normal",
                "Volume and negative share in the crisis room; tell the lead if they rise again.",
            ),
            (
                "lead",
                "Close: resume publishing and write the report",
                "When the numbers are back to normal, end crisis mode and complete the report: what went "
                "well, what to change.",
            ),
        ],
        "rules": [
            ("dont", "Do not delete negative comments: deleting makes it worse."),
            ("do", "Hide only insults, threats and personal data."),
            ("do", "Answer publicly once, then move the conversation to direct messages."),
            ("dont", "Do not argue, joke or answer in anger."),
            ("dont", "Do not promise what has not been decided (dates, refunds, compensation)."),
            ("dont", "Do not publish promotional posts until the crisis is over."),
            ("do", "Note in the crisis room what was done and when."),
        ],
        "contact_role": "Owner of the organization",
    },
    "es": {
        "name": "Plan de crisis",
        "description": (
            "Para cualquier ola repentina de quejas o enfado con la marca. Escrito en calma: el primer "
            "paso, con quién comunicarse, qué responder y qué no. Adáptalo a tu organización."
        ),
        "steps": [
            (
                "monitor",
                "Primer paso: confirma qué pasa y su tamaño",
                "Lee la alerta y sus ejemplos. ¿Es real, de qué trata, dónde empezó, sigue creciendo? "
                "Escribe un resumen de una línea en la sala de crisis.",
            ),
            (
                "lead",
                "Avisa a las personas de la lista de contactos",
                "Llama o escribe a los primeros contactos. Cuenta qué has visto, su tamaño y que la "
                "publicación programada está en pausa.",
            ),
            (
                "approver",
                "Revisa lo programado",
                "El modo crisis ha pausado la publicación. Revisa las publicaciones programadas: cancela o "
                "reescribe lo que ahora sonaría mal.",
            ),
            (
                "spokesperson",
                "Publica una vez el mensaje de espera",
                "Usa el mensaje de espera aprobado: lo sabemos, lo estamos revisando, diremos más. Aún no "
                "improvises una respuesta completa.",
            ),
            (
                "responder",
                "Responde a la gente enfadada: una vez en público, luego en privado",
                "Responde a cada persona una vez en público con el mensaje de espera y pasa a mensajes "
                "directos para los detalles.",
            ),
            (
                "lead",
                "Acuerda la respuesta completa con los responsables",
                "Decide con la dirección (y con el área legal si hace falta) qué dice y qué hace la marca.",
            ),
            (
                "monitor",
                "Vigila las cifras hasta que vuelvan a la normalidad",
                "Volumen y proporción negativa en la sala de crisis; avisa a quien lidera si vuelven "
                "a subir.",
            ),
            (
                "lead",
                "Cierra: reanuda la publicación y escribe el informe",
                "Cuando las cifras vuelvan a la normalidad, termina el modo crisis y completa el informe: "
                "qué salió bien, qué cambiar.",
            ),
        ],
        "rules": [
            ("dont", "No borres los comentarios negativos: borrarlos lo empeora."),
            ("do", "Oculta solo insultos, amenazas y datos personales."),
            ("do", "Responde una vez en público y después pasa la conversación a mensajes directos."),
            ("dont", "No discutas, no bromees y no respondas con enfado."),
            ("dont", "No prometas lo que no está decidido (fechas, devoluciones, compensaciones)."),
            ("dont", "No publiques contenido promocional hasta que pase la crisis."),
            ("do", "Anota en la sala de crisis qué se hizo y cuándo."),
        ],
        "contact_role": "Propietario de la organización",
    },
}

DEFAULT_STATEMENTS: list[StatementIn] = [
    StatementIn(
        "holding",
        "es",
        "Mensaje de espera",
        "Gracias por avisarnos. Sabemos lo que está pasando y lo estamos revisando ahora mismo. "
        "Daremos más información aquí en cuanto la tengamos.",
    ),
    StatementIn(
        "holding",
        "en",
        "Holding statement",
        "Thank you for telling us. We know what is happening and we are looking into it right now. "
        "We will share more here as soon as we can.",
    ),
    StatementIn(
        "dm",
        "es",
        "Pasar a privado",
        "Sentimos lo ocurrido. ¿Nos escribes por mensaje directo con los detalles? Así podemos ayudarte "
        "mejor.",
    ),
    StatementIn(
        "dm",
        "en",
        "Move to private",
        "We are sorry about this. Could you send us a direct message with the details? We can help you "
        "better there.",
    ),
]


def default_content(language: str) -> PlaybookIn:
    """The default playbook (seed 001's advice) in `language` ("es…" gives Spanish, else English),
    with the holding statements in Spanish and English; none of them approved."""
    texts = _DEFAULT["es" if language.lower().startswith("es") else "en"]
    return PlaybookIn(
        name=texts["name"],
        description=texts["description"],
        is_default=True,
        steps=[StepIn(title, details, role) for role, title, details in texts["steps"]],
        rules=[RuleIn(text, kind) for kind, text in texts["rules"]],
        statements=[StatementIn(s.shortcut, s.language, s.title, s.body) for s in DEFAULT_STATEMENTS],
    )


def _owner_contacts(brand: Brand, role: str) -> list[ContactIn]:
    owners = (
        Membership.objects.filter(
            organization_id=brand.organization_id, role=Role.OWNER, is_active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("pk")[:3]
    )
    return [
        ContactIn(
            (m.user.get_full_name() or m.user.email)[:MAX_CONTACT_NAME], role, "", m.user.email, m.user_id
        )
        for m in owners
    ]


def default_playbook(brand: Brand, actor: Actor | None = None) -> Playbook:
    """The brand's default playbook, written from seed 001's advice when the brand has none.

    A brand whose playbooks exist but none is marked default gets its first one (nothing is created:
    the team chose). The statements are NOT approved: a person approves them.
    """
    found = Playbook.objects.filter(brand=brand, is_default=True).first()
    if found is not None:
        return found
    first = Playbook.objects.filter(brand=brand).order_by("pk").first()
    if first is not None:
        return first
    data = default_content(brand.language or "en")
    data.contacts = _owner_contacts(
        brand, _DEFAULT["es" if (brand.language or "").startswith("es") else "en"]["contact_role"]
    )
    actor = actor or Actor.system("default playbook")
    try:
        with transaction.atomic():
            playbook = Playbook.objects.create(
                organization_id=brand.organization_id,
                brand=brand,
                name=data.name,
                description=data.description,
                is_default=True,
            )
            _write_children(playbook, data, None)
            record(
                actor,
                brand.organization,
                "playbook.create",
                playbook,
                {k: [None, v] for k, v in _summary(data).items()},
            )
    except IntegrityError:  # another request wrote it a moment ago
        return Playbook.objects.get(brand=brand, is_default=True)
    return playbook


def statements_by_language(statements: Sequence[HoldingStatement]) -> dict[str, list[HoldingStatement]]:
    found: dict[str, list[HoldingStatement]] = {}
    for statement in statements:
        found.setdefault(statement.language, []).append(statement)
    return found
