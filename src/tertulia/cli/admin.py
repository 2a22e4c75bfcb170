from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import add_member, create_organization
from tertulia.core.models import Organization, Role, User


def create_admin(email: str, password: str, organization_name: str = "") -> list[str]:
    """Create or update an administrator. Returns problems to show; empty when done."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        return [f"{email!r} is not an e-mail address."]
    user = User.objects.filter(email=email).first() or User(email=email)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return [str(m) for m in exc.messages]
    with transaction.atomic():
        created = user.pk is None
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        actor = Actor.cli(user)
        record(
            Actor.cli(),
            None,
            "person.create_admin" if created else "person.reset_admin",
            user,
            {"is_superuser": [None, True], "password": ["…", "…"]},
        )
        if organization_name:
            org = Organization.objects.filter(name=organization_name).first()
            if org is None:
                create_organization(actor, organization_name, owner=user)
            else:
                add_member(actor, org, user, Role.OWNER)
    return []
