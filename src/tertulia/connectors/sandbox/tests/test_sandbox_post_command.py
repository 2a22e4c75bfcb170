"""`tertulia manage sandbox_post`: any text, verbatim, onto the sandbox and into the inbox."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tertulia.connectors.sandbox import network
from tertulia.connectors.sandbox.models import SandboxMessage, SandboxPost

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>\u200b\u202e @marca_cmd 🧀"


def test_posts_verbatim_from_stdin_and_sends_dms(monkeypatch: pytest.MonkeyPatch) -> None:
    network.create_account("marca_cmd", is_brand=True)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(HOSTILE.encode("utf-8"))))
    out = io.StringIO()
    call_command("sandbox_post", "--as", "troll_cmd", stdout=out)
    post = SandboxPost.objects.get(pk=int(out.getvalue().split()[1]))
    assert post.text == HOSTILE and [m.account.handle for m in post.mentions.all()] == ["marca_cmd"]
    call_command(
        "sandbox_post", "--as", "troll_cmd", "--dm", "marca_cmd", "--text", "hola", stdout=io.StringIO()
    )
    assert SandboxMessage.objects.get().text == "hola"


def test_refusals_are_clear() -> None:
    with pytest.raises(CommandError, match="at most 500"):
        call_command("sandbox_post", "--as", "troll_cmd", "--text", "x" * 501, stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command(
            "sandbox_post", "--as", "troll_cmd", "--dm", "nobody_here", "--text", "x", stdout=io.StringIO()
        )
