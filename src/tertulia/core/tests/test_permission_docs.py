"""docs/permissions.md shows what each role may do: its table is checked against ROLE_PERMISSIONS."""

from __future__ import annotations

from pathlib import Path

from tertulia.core.models import Role
from tertulia.core.permissions import ORG_WIDE_PERMS, ROLE_PERMISSIONS, Perm

DOC = Path(__file__).resolve().parents[4] / "docs" / "permissions.md"
START, END = "<!-- role-table:start -->", "<!-- role-table:end -->"

# What each permission lets a person do, as the table says it. A new permission needs a line here.
MEANING: dict[Perm, str] = {
    Perm.VIEW: "See the organization's brands, channels, posts, listening and reports",
    Perm.MANAGE_ORGANIZATION: "Change the organization's own settings",
    Perm.MANAGE_MEMBERS: "Invite, remove and change members: roles, brands",
    Perm.MANAGE_BRANDS: "Edit brands, their inbox settings, saved replies and moderation rules",
    Perm.MANAGE_CHANNELS: "Connect and reconnect channels; choose their operators",
    Perm.OPERATE_CHANNELS: "Work the inbox of the channels one operates (grant per channel)",
    Perm.VIEW_CONTACTS: "See contacts and their history",
    Perm.EDIT_CONTACTS: "Edit and merge contacts",
    Perm.VIEW_AUDIT: "Read the audit trail, the access review and backup coverage",
    Perm.RUN_SIMULATIONS: "Stage crisis rehearsals on the sandbox network",
    Perm.MODERATE: "Hide, delete or block on the channels one operates",
    Perm.APPROVE_MODERATION: "Approve someone else's delete or block",
    Perm.PROPOSE_POSTS: "Write posts and send them for review",
    Perm.PUBLISH_POSTS: "Schedule and publish on the channels one operates",
    Perm.APPROVE_POSTS: "Decide on posts in review",
    Perm.MANAGE_PUBLISHING: "Pause and resume publishing; approval workflows and queue slots",
    Perm.MANAGE_LISTENING: "Write listening queries, alerts and sources",
    Perm.MANAGE_ROTATIONS: "Edit on-call rotations and their overrides",
}


def permission_table() -> str:
    """The Markdown table of docs/permissions.md, from the code."""
    roles = list(Role)
    lines = [
        "| Permission | " + " | ".join(str(role.label) for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for perm in Perm:
        wide = " (every brand)" if perm in ORG_WIDE_PERMS else ""
        marks = ["✓" if perm in ROLE_PERMISSIONS[role] else "" for role in roles]
        lines.append(f"| `{perm.value}`: {MEANING[perm]}{wide} | " + " | ".join(marks) + " |")
    return "\n".join(lines)


def test_every_permission_has_a_meaning() -> None:
    assert set(MEANING) == set(Perm)


def test_the_role_table_in_the_docs_matches_the_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert START in text and END in text, f"{DOC} lost its table markers"
    shown = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert shown == permission_table(), (
        "docs/permissions.md is out of date; replace its role table with:\n\n" + permission_table()
    )
