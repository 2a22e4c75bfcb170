from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tertulia.api.models import ApiToken
from tertulia.core.models import AuditEntry, Role
from tertulia.core.tests.factories import make_member, make_org
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def test_a_new_token_is_shown_once_and_works_against_the_api():
    org = make_org()
    manager = make_member(org, Role.BRAND_MANAGER)
    client = signed_in(manager)
    response = client.post(
        reverse("web:tokens"), {"name": "CI", "scopes": ["brands:read"], "expires_in": "30"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    found = re.search(r'<code id="new-token">(trt_[^<]+)</code>', response.content.decode())
    assert found is not None
    plaintext = found.group(1)
    api = Client().get("/api/v1/brands", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.status_code == 200
    # Never again: the list shows only the prefix.
    listing = client.get(reverse("web:tokens")).content.decode()
    assert plaintext not in listing
    assert plaintext not in str(client.session.items())
    entry = AuditEntry.objects.get(action="api_token.create")
    assert plaintext not in str(entry.changes)


def test_scopes_beyond_the_role_are_not_offered_nor_accepted():
    org = make_org()
    analyst = make_member(org, Role.ANALYST)
    client = signed_in(analyst)
    page = client.get(reverse("web:tokens")).content.decode()
    assert 'value="brands:read"' in page
    assert 'value="brands:write"' not in page
    response = client.post(reverse("web:tokens"), {"name": "x", "scopes": ["brands:write"]})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_only_the_owner_revokes_their_token():
    org = make_org()
    owner_of_token = make_member(org, Role.BRAND_MANAGER)
    someone_else = make_member(org, Role.ADMIN)
    signed_in(owner_of_token).post(reverse("web:tokens"), {"name": "mine", "scopes": ["brands:read"]})
    token = ApiToken.objects.get()
    assert signed_in(someone_else).post(reverse("web:token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    signed_in(owner_of_token).post(reverse("web:token-revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
