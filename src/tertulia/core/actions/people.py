from __future__ import annotations

from django.db import transaction

from tertulia.core.actions.audit import apply_changes, record
from tertulia.core.actions.context import Actor
from tertulia.core.models import User


@transaction.atomic
def set_language(actor: Actor, user: User, language: str) -> User:
    changes = apply_changes(user, {"language": language})
    if changes:
        user.full_clean(exclude=["password"])
        user.save(update_fields=["language"])
        record(actor, None, "person.language", user, changes)
    return user
