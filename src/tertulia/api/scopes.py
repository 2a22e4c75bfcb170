"""What a token may be used for, and the role permission each scope needs.

A request succeeds only if the token carries the scope *and* its owner's
current role in the organization grants the permission behind it: a token is
never worth more than its owner, and lowering a role or deactivating a member
takes effect on their tokens at once.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tertulia.core.permissions import Perm


class Scope(StrEnum):
    ORGANIZATION_READ = "organization:read"
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    BRANDS_READ = "brands:read"
    BRANDS_WRITE = "brands:write"
    CHANNELS_READ = "channels:read"
    CHANNELS_WRITE = "channels:write"
    CONTACTS_READ = "contacts:read"
    CONTACTS_WRITE = "contacts:write"
    AUDIT_READ = "audit:read"
    TOKENS_READ = "tokens:read"
    TOKENS_WRITE = "tokens:write"
    SIMULATIONS_WRITE = "simulations:write"
    INBOX_READ = "inbox:read"
    INBOX_WRITE = "inbox:write"
    MODERATION_READ = "moderation:read"
    MODERATION_WRITE = "moderation:write"
    MODERATION_RULES_WRITE = "moderation_rules:write"
    MODERATION_APPROVE = "moderation:approve"
    POSTS_READ = "posts:read"
    POSTS_WRITE = "posts:write"
    POSTS_REVIEW = "posts:review"
    POSTS_PUBLISH = "posts:publish"
    PUBLISHING_MANAGE = "publishing:manage"
    LISTENING_READ = "listening:read"
    LISTENING_WRITE = "listening:write"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"
    GUARD_READ = "guard:read"
    GUARD_WRITE = "guard:write"
    GUARD_MANAGE = "guard:manage"
    CRISIS_READ = "crisis:read"
    CRISIS_WRITE = "crisis:write"


# Every member may see the organization and manage their own tokens (Perm.VIEW).
SCOPE_PERMISSION: dict[Scope, Perm] = {
    Scope.ORGANIZATION_READ: Perm.VIEW,
    Scope.MEMBERS_READ: Perm.VIEW,
    Scope.MEMBERS_WRITE: Perm.MANAGE_MEMBERS,
    Scope.BRANDS_READ: Perm.VIEW,
    Scope.BRANDS_WRITE: Perm.MANAGE_BRANDS,
    Scope.CHANNELS_READ: Perm.VIEW,
    Scope.CHANNELS_WRITE: Perm.MANAGE_CHANNELS,
    Scope.CONTACTS_READ: Perm.VIEW_CONTACTS,
    Scope.CONTACTS_WRITE: Perm.EDIT_CONTACTS,
    Scope.AUDIT_READ: Perm.VIEW_AUDIT,
    Scope.TOKENS_READ: Perm.VIEW,
    Scope.TOKENS_WRITE: Perm.VIEW,
    Scope.SIMULATIONS_WRITE: Perm.RUN_SIMULATIONS,
    # Reading shows only conversations of channels the owner may operate (as the web inbox does).
    Scope.INBOX_READ: Perm.VIEW,
    Scope.INBOX_WRITE: Perm.OPERATE_CHANNELS,
    # Moderating a message also needs a grant on its channel; approving is never for one's own request.
    Scope.MODERATION_READ: Perm.MODERATE,
    Scope.MODERATION_WRITE: Perm.MODERATE,
    Scope.MODERATION_RULES_WRITE: Perm.MANAGE_BRANDS,
    Scope.MODERATION_APPROVE: Perm.APPROVE_MODERATION,
    # Publishing: contributors write and send for review; approvers decide; publishers schedule on
    # channels they operate; managers pause publishing and set approval workflows.
    Scope.POSTS_READ: Perm.VIEW,
    Scope.POSTS_WRITE: Perm.PROPOSE_POSTS,
    Scope.POSTS_REVIEW: Perm.APPROVE_POSTS,
    Scope.POSTS_PUBLISH: Perm.PUBLISH_POSTS,
    Scope.PUBLISHING_MANAGE: Perm.MANAGE_PUBLISHING,
    # Listening: every member sees what it found; analysts and managers write queries, alerts, sources.
    Scope.LISTENING_READ: Perm.VIEW,
    Scope.LISTENING_WRITE: Perm.MANAGE_LISTENING,
    # Outgoing webhooks: owners and administrators (an endpoint's address can be a credential).
    Scope.WEBHOOKS_READ: Perm.MANAGE_ORGANIZATION,
    Scope.WEBHOOKS_WRITE: Perm.MANAGE_ORGANIZATION,
    # The hijack guard: holds and incidents are seen on the channels one operates (or manages);
    # releasing needs the permission to send on every channel of the item, never one's own.
    Scope.GUARD_READ: Perm.VIEW,
    Scope.GUARD_WRITE: Perm.OPERATE_CHANNELS,
    Scope.GUARD_MANAGE: Perm.MANAGE_ORGANIZATION,
    # Crisis: every member sees the brands' alerts, crises, playbooks and reports; writing is checked
    # finer by each action (playbooks: managing publishing in the brand; approving a holding statement:
    # approving posts there, never one's own text; crisis mode: pausing publishing; see docs/crisis-*.md).
    Scope.CRISIS_READ: Perm.VIEW,
    Scope.CRISIS_WRITE: Perm.VIEW,
}

SCOPE_DESCRIPTION: dict[Scope, Promise] = {
    Scope.ORGANIZATION_READ: _("See the organization"),
    Scope.MEMBERS_READ: _("See the members and their roles"),
    Scope.MEMBERS_WRITE: _("Change members' roles and the brands they work in, and deactivate members"),
    Scope.BRANDS_READ: _("See brands, competitors and objectives"),
    Scope.BRANDS_WRITE: _("Create and edit brands, competitors and objectives"),
    Scope.CHANNELS_READ: _("See channels"),
    Scope.CHANNELS_WRITE: _("Connect channels, change their status and operators"),
    Scope.CONTACTS_READ: _("See contacts"),
    Scope.CONTACTS_WRITE: _("Create and edit contacts and their handles"),
    Scope.AUDIT_READ: _("Read the audit trail"),
    Scope.TOKENS_READ: _("See your own API tokens"),
    Scope.TOKENS_WRITE: _("Create and revoke your own API tokens"),
    Scope.SIMULATIONS_WRITE: _("Stage crisis rehearsals on the sandbox network"),
    Scope.INBOX_READ: _("Read the inbox: conversations, messages, notes and notifications"),
    Scope.INBOX_WRITE: _("Work the inbox: reply, assign, tag, add notes, change status, escalate"),
    Scope.MODERATION_READ: _("See moderation rules and the moderation log; dry-run rules"),
    Scope.MODERATION_WRITE: _("Hide, show again, delete or block messages by hand"),
    Scope.MODERATION_RULES_WRITE: _("Create, change and delete moderation rules"),
    Scope.MODERATION_APPROVE: _("Approve or reject other people's requests to delete or block"),
    Scope.POSTS_READ: _("See posts, their reviews and delivery results, the media library and pauses"),
    Scope.POSTS_WRITE: _("Write posts, upload images, send posts for review and cancel your own"),
    Scope.POSTS_REVIEW: _("Approve posts or ask for changes, and comment on them"),
    Scope.POSTS_PUBLISH: _("Schedule posts, retry deliveries and confirm them by hand"),
    Scope.PUBLISHING_MANAGE: _("Pause and resume publishing; change approval workflows"),
    Scope.LISTENING_READ: _("See listening queries, what they found and its insight, alerts and sources"),
    Scope.LISTENING_WRITE: _("Save listening queries, alerts and sources; run backtests and backfills"),
    Scope.WEBHOOKS_READ: _("See the organization's webhook endpoints and their deliveries"),
    Scope.WEBHOOKS_WRITE: _(
        "Add, change and delete webhook endpoints; rotate their secrets; send test events"
    ),
    Scope.GUARD_READ: _("See what the hijack guard held and compromised-account incidents"),
    Scope.GUARD_WRITE: _("Release or reject what the hijack guard held; work on incident checklists"),
    Scope.GUARD_MANAGE: _("Change the hijack guard's settings"),
    Scope.CRISIS_READ: _("See crisis alerts, crises, playbooks and post-incident reports"),
    Scope.CRISIS_WRITE: _("Work on crises: acknowledge alerts, run crisis mode, edit playbooks and reports"),
}

ALL_SCOPES: tuple[str, ...] = tuple(s.value for s in Scope)


def allowed_scopes(perms: frozenset[Perm]) -> list[str]:
    """The scopes a person with `perms` may put on a token."""
    return [scope.value for scope, perm in SCOPE_PERMISSION.items() if perm in perms]
