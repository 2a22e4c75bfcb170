"""Single sign-on per organization: configuration, the rules of who gets in, and the whole sign-in
against a real OpenID provider (node oidc-provider, started by the `oidc_provider` fixture)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from tertulia.accounts import sso
from tertulia.accounts.actions.sso import (
    SsoError,
    SsoSettings,
    delete_connection,
    save_connection,
    unverify_domain,
    verify_domain,
)
from tertulia.accounts.models import SsoConnection
from tertulia.accounts.tests.conftest import OidcProvider
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Membership, Organization, Role, User
from tertulia.core.tests.factories import PASSWORD, make_member, make_org, make_user
from tertulia.web.tests.helpers import signed_in

pytestmark = pytest.mark.django_db

SECRET = "s3cret-of-the-client-~!"


def _settings(**overrides: Any) -> SsoSettings:
    values: dict[str, Any] = {
        "name": "Acme login",
        "issuer": "https://login.acme.test/realms/acme",
        "client_id": "tertulia",
        "client_secret": SECRET,
        "domains": ("acme.test",),
    }
    values.update(overrides)
    return SsoSettings(**values)


def _owner_actor(org: Organization) -> Actor:
    owner = Membership.objects.get(organization=org, role=Role.OWNER).user
    return Actor(user=owner, via="web")


# --- configuration ---------------------------------------------------------------------------


def test_domains_are_normalized_and_checked() -> None:
    assert sso.normalize_domain(" Acme.TEST. ") == "acme.test"
    assert sso.normalize_domain("@acme.test") == "acme.test"
    assert sso.normalize_domain("bücher.example") == "xn--bcher-kva.example"
    for bad in [
        "",
        "localhost",
        "acme..test",
        "-acme.test",
        "acme.test/x",
        "a" * 64 + ".test",
        "\u202etest.com",
    ]:
        assert sso.normalize_domain(bad) == "", bad
    assert sso.email_domain("Ana@Acme.Test") == "acme.test"
    assert sso.email_domain("no-at-sign") == ""


def test_an_owner_configures_sso_the_secret_is_sealed_and_the_change_audited() -> None:
    org = make_org("Acme")
    connection = save_connection(
        _owner_actor(org), org, _settings(domains=("Acme.test", "acme.test", "b.test"))
    )
    assert bytes(connection.ciphertext) and SECRET.encode() not in bytes(connection.ciphertext)
    assert sso.client_secret(connection) == SECRET
    assert sorted(connection.domains.values_list("domain", flat=True)) == ["acme.test", "b.test"]
    assert not connection.domains.filter(verified_at__isnull=False).exists()
    entry = AuditEntry.objects.get(organization=org, action="sso.create")
    assert entry.changes["client_secret"] == [None, "…"]
    assert SECRET not in str(entry.changes)
    # Updating without a secret keeps the stored one; the trail says what changed.
    save_connection(
        _owner_actor(org), org, _settings(client_secret="", name="Acme SSO", domains=("acme.test",))
    )
    connection.refresh_from_db()
    assert sso.client_secret(connection) == SECRET
    update = AuditEntry.objects.get(organization=org, action="sso.update")
    assert update.changes["name"] == ["Acme login", "Acme SSO"]
    assert update.changes["domains"] == [["acme.test", "b.test"], ["acme.test"]]
    assert "client_secret" not in update.changes


def test_configuration_mistakes_are_refused_with_a_reason() -> None:
    org = make_org("Acme")
    actor = _owner_actor(org)
    with pytest.raises(SsoError, match="https"):
        save_connection(actor, org, _settings(issuer="http://login.acme.test"))
    with pytest.raises(SsoError, match="https"):
        save_connection(actor, org, _settings(issuer="javascript:alert(1)"))
    with pytest.raises(SsoError, match="not a domain"):
        save_connection(actor, org, _settings(domains=("<script>",)))
    with pytest.raises(SsoError, match="secret"):
        save_connection(actor, org, _settings(client_secret=""))
    for pasted in ("s3cret\u200b", "sécret", "s3cret\n", "\u202es3cret"):
        with pytest.raises(SsoError, match="printable ASCII"):
            save_connection(actor, org, _settings(client_secret=pasted))
    with pytest.raises(SsoError, match="printable ASCII"):
        save_connection(actor, org, _settings(client_id="tertuliá"))
    with pytest.raises(SsoError, match="role"):
        save_connection(actor, org, _settings(join_role=Role.OWNER))
    assert not SsoConnection.objects.exists()


def test_a_domain_belongs_to_one_organization_only() -> None:
    acme, other = make_org("Acme"), make_org("Other")
    save_connection(_owner_actor(acme), acme, _settings())
    with pytest.raises(SsoError, match="already covered"):
        save_connection(_owner_actor(other), other, _settings(domains=("acme.test",)))


def test_only_owners_and_administrators_configure_sso() -> None:
    org = make_org("Acme")
    manager = make_member(org, Role.BRAND_MANAGER)
    with pytest.raises(PermissionDenied):
        save_connection(Actor(user=manager, via="web"), org, _settings())
    admin = make_member(org, Role.ADMIN)
    save_connection(Actor(user=admin, via="web"), org, _settings())


def test_unverified_domains_do_nothing_until_the_operator_verifies_them() -> None:
    org = make_org("Acme")
    save_connection(_owner_actor(org), org, _settings(sso_only=True))
    assert sso.connection_for_email("ana@acme.test") is None
    assert not sso.password_refused("ana@acme.test")
    assert sso.invitation_sign_in_url(org, "/x/") is None
    verify_domain(Actor.cli(), "ACME.test")
    assert sso.connection_for_email("ana@acme.test") is not None
    assert sso.password_refused("ana@acme.test")
    assert str(sso.invitation_sign_in_url(org, "/invitations/abc/")).endswith("?next=%2Finvitations%2Fabc%2F")
    assert AuditEntry.objects.filter(organization=org, action="sso.domain_verify").exists()
    unverify_domain(Actor.cli(), "acme.test")
    assert not sso.password_refused("ana@acme.test")


def test_sso_only_refuses_the_password_with_a_clear_message() -> None:
    org = make_org("Acme")
    make_member(org, email="ana@acme.test")
    save_connection(_owner_actor(org), org, _settings(sso_only=True))
    verify_domain(Actor.cli(), "acme.test")
    client = Client()
    response = client.post(reverse("web:login"), {"login": "ana@acme.test", "password": PASSWORD})
    assert response.status_code == 200
    assert "single sign-on" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Other domains still sign in with a password.
    make_member(org, email="zoe@elsewhere.test")
    assert (
        client.post(reverse("web:login"), {"login": "zoe@elsewhere.test", "password": PASSWORD}).status_code
        == 302
    )


def test_removing_sso_drops_the_links_and_is_audited() -> None:
    org = make_org("Acme")
    connection = save_connection(_owner_actor(org), org, _settings())
    user = make_member(org, email="ana@acme.test")
    SocialAccount.objects.create(user=user, provider=connection.provider_id, uid="ana")
    assert delete_connection(_owner_actor(org), org)
    assert not SocialAccount.objects.exists()
    entry = AuditEntry.objects.get(organization=org, action="sso.delete")
    assert entry.changes["linked_people"] == [1, 0]


def test_a_new_issuer_drops_links_made_through_the_old_one() -> None:
    org = make_org("Acme")
    connection = save_connection(_owner_actor(org), org, _settings())
    SocialAccount.objects.create(user=make_member(org), provider=connection.provider_id, uid="1")
    save_connection(_owner_actor(org), org, _settings(issuer="https://new-idp.acme.test", client_secret=""))
    assert not SocialAccount.objects.filter(provider=connection.provider_id).exists()


# --- who may get in ---------------------------------------------------------------------------


@pytest.fixture
def acme() -> tuple[Organization, SsoConnection]:
    org = make_org("Acme")
    connection = save_connection(_owner_actor(org), org, _settings())
    verify_domain(Actor.cli(), "acme.test")
    return org, connection


def test_admit_members_and_refuse_strangers(acme: tuple[Organization, SsoConnection]) -> None:
    org, connection = acme
    member = make_member(org, email="ana@acme.test")
    assert sso.admit(connection, None, "ANA@acme.test", True).user == member
    stranger = make_user(email="someone@acme.test")
    refused = sso.admit(connection, None, "someone@acme.test", True)
    assert refused.refusal and "not a member" in refused.refusal
    assert refused.user == stranger
    assert sso.admit(connection, None, "nobody@acme.test", True).refusal


def test_admit_refuses_addresses_outside_the_verified_domains(
    acme: tuple[Organization, SsoConnection],
) -> None:
    _org, connection = acme
    # A provider that asserts someone else's address (another organization's person) gets nowhere.
    victim = make_member(make_org("Other"), email="victim@other.test")
    refused = sso.admit(connection, None, victim.email, True)
    assert "outside the domains" in refused.refusal
    assert refused.user is None
    assert sso.admit(connection, None, "", True).refusal
    assert "not verified" in sso.admit(connection, None, "ana@acme.test", False).refusal


def test_auto_join_only_when_the_organization_allows_it(acme: tuple[Organization, SsoConnection]) -> None:
    org, connection = acme
    assert sso.admit(connection, None, "new@acme.test", True).refusal
    save_connection(
        _owner_actor(org), org, _settings(client_secret="", auto_join=True, join_role=Role.ANALYST)
    )
    connection.refresh_from_db()
    admission = sso.admit(connection, None, "new@acme.test", True)
    assert not admission.refusal and admission.join
    # Someone removed from the organization does not rejoin on their own.
    removed = make_member(org, email="gone@acme.test")
    Membership.objects.filter(user=removed).update(is_active=False)
    assert sso.admit(connection, None, "gone@acme.test", True).refusal


def test_a_linked_person_removed_from_the_organization_is_refused(
    acme: tuple[Organization, SsoConnection],
) -> None:
    org, connection = acme
    member = make_member(org, email="ana@acme.test")
    assert not sso.admit(connection, member, "ignored@x.test", True).refusal
    Membership.objects.filter(user=member).update(is_active=False)
    assert sso.admit(connection, member, "ana@acme.test", True).refusal


# --- end to end against a real OpenID provider ------------------------------------------------


@pytest.fixture
def live_sso(settings: Any, oidc_provider: OidcProvider) -> tuple[Organization, SsoConnection, OidcProvider]:
    """Acme's SSO pointing at the test provider, registered there like an administrator would."""
    settings.TERTULIA_SSO_ALLOW_HTTP = True
    settings.TERTULIA_OUTBOUND_ALLOW = "127.0.0.1"  # the test provider: a private address, opened on purpose
    org = make_org("Acme")
    actor = _owner_actor(org)
    connection = save_connection(actor, org, _settings(issuer=oidc_provider.issuer, client_secret="later"))
    callback = "http://testserver" + reverse(
        "openid_connect_callback", kwargs={"provider_id": connection.provider_id}
    )
    client_id, client_secret = oidc_provider.register_client(callback)
    connection = save_connection(
        actor, org, _settings(issuer=oidc_provider.issuer, client_id=client_id, client_secret=client_secret)
    )
    verify_domain(Actor.cli(), "acme.test")
    return org, connection, oidc_provider


def _sso_sign_in(
    client: Client, provider: OidcProvider, account: str, email: str, next_path: str = ""
) -> Any:
    start = client.post(reverse("accounts:sso"), {"email": email, "next": next_path})
    assert start.status_code == 302, start.content.decode()[:500]
    assert start["Location"].startswith(provider.issuer + "/auth?")
    assert "code_challenge=" in start["Location"]  # PKCE
    back = provider.sign_in(start["Location"], account, stop_at="http://testserver/")
    return client.get(back.removeprefix("http://testserver"))


def test_a_member_signs_in_through_the_real_provider(live_sso: Any) -> None:
    org, connection, provider = live_sso
    ana = make_member(org, email="ana@acme.test")
    client = Client()
    done = _sso_sign_in(client, provider, "ana", "Ana@Acme.test", next_path="/publish/")
    assert done.status_code == 302, done.content.decode()[:1000]
    assert done["Location"] == "/publish/"
    assert client.session["_auth_user_id"] == str(ana.pk)
    assert client.get(reverse("web:inbox")).status_code == 200
    link = SocialAccount.objects.get(user=ana)
    assert (link.provider, link.uid) == (connection.provider_id, "ana")
    entry = AuditEntry.objects.get(organization=org, action="signin")
    assert entry.changes["method"] == [None, "sso"]
    # The second time, the link (the provider's subject) finds her.
    second = Client()
    assert _sso_sign_in(second, provider, "ana", "ana@acme.test").status_code == 302
    assert second.session["_auth_user_id"] == str(ana.pk)


def test_sso_still_asks_for_the_second_factor(live_sso: Any) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    org, _connection, provider = live_sso
    ana = make_member(org, email="ana@acme.test")
    TOTP.activate(ana, "JBSWY3DPEHPK3PXP")
    client = Client()
    done = _sso_sign_in(client, provider, "ana", "ana@acme.test")
    assert done.status_code == 302
    assert done["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session


def test_a_stranger_from_the_domain_is_turned_away(live_sso: Any) -> None:
    org, _connection, provider = live_sso
    client = Client()
    refused = _sso_sign_in(client, provider, "newcomer", "newcomer@acme.test")
    assert refused.status_code == 403
    assert "not a member of Acme" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(email="newcomer@acme.test").exists()
    entry = AuditEntry.objects.get(organization=org, action="signin.failed")
    assert entry.changes["reason"] == [None, "sso_refused"]


def test_auto_join_creates_the_account_and_the_membership(live_sso: Any) -> None:
    org, connection, provider = live_sso
    save_connection(
        _owner_actor(org),
        org,
        _settings(
            issuer=provider.issuer,
            client_id=connection.client_id,
            client_secret="",
            auto_join=True,
            join_role=Role.ANALYST,
        ),
    )
    client = Client()
    done = _sso_sign_in(client, provider, "newcomer", "newcomer@acme.test")
    assert done.status_code == 302, done.content.decode()[:1000]
    person = User.objects.get(email="newcomer@acme.test")
    assert person.display_name == "New Comer"
    assert not person.has_usable_password()
    member = Membership.objects.get(organization=org, user=person)
    assert (member.role, member.is_active) == (Role.ANALYST, True)
    assert AuditEntry.objects.filter(organization=org, action="sso.join").exists()


def test_a_provider_asserting_an_address_outside_its_domains_gets_nobody(live_sso: Any) -> None:
    _org, _connection, provider = live_sso
    victim = make_member(make_org("Other"), email="victim@other.test")
    client = Client()
    # The person types an Acme address; the provider answers with someone else's.
    refused = _sso_sign_in(client, provider, "victim", "ana@acme.test")
    assert refused.status_code == 403
    assert "outside the domains" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    assert not SocialAccount.objects.filter(user=victim).exists()


def test_an_unverified_address_from_the_provider_is_refused(live_sso: Any) -> None:
    org, _connection, provider = live_sso
    make_member(org, email="carla@acme.test")
    client = Client()
    refused = _sso_sign_in(client, provider, "unverified", "carla@acme.test")
    assert refused.status_code == 403
    assert "not verified" in refused.content.decode()


def test_the_organization_link_and_unknown_addresses(live_sso: Any) -> None:
    _org, connection, provider = live_sso
    client = Client()
    page = client.get(reverse("accounts:sso-start", args=[connection.provider_id]) + "?next=/team/")
    assert page.status_code == 200
    assert "Continue with Acme login" in page.content.decode()
    started = client.post(reverse("accounts:sso-start", args=[connection.provider_id]), {"next": "/team/"})
    assert started["Location"].startswith(provider.issuer + "/auth?")
    assert client.get(reverse("accounts:sso-start", args=["org-nope"])).status_code == 404
    nowhere = client.post(reverse("accounts:sso"), {"email": "x@unknown.test"}, follow=True)
    assert "No organization signs this address in" in nowhere.content.decode()


def test_allauths_own_start_address_goes_through_tertulias_page(live_sso: Any) -> None:
    _org, connection, provider = live_sso
    client = Client()
    login = reverse("openid_connect_login", kwargs={"provider_id": connection.provider_id})
    shown = client.get(login + "?next=/team/")
    assert shown.status_code == 302
    assert shown["Location"] == sso.start_url(connection, "/team/")
    started = client.post(login, {"next": "/team/"})
    assert started["Location"].startswith(provider.issuer + "/auth?")
    missing = reverse("openid_connect_login", kwargs={"provider_id": "org-nope"})
    assert client.get(missing).status_code == 404


def _unreachable(settings: Any, issuer: str, allow: str) -> SsoConnection:
    settings.TERTULIA_SSO_ALLOW_HTTP = True
    settings.TERTULIA_OUTBOUND_ALLOW = allow
    org = make_org("Acme")
    connection = save_connection(_owner_actor(org), org, _settings(issuer=issuer))
    verify_domain(Actor.cli(), "acme.test")
    return connection


def _closed_port() -> int:
    with socket.socket() as probe:  # bound and closed: nothing listens there a moment later
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_identity_provider_gets_a_clear_page_not_an_error(settings: Any) -> None:
    connection = _unreachable(settings, f"http://127.0.0.1:{_closed_port()}/realms/acme", "127.0.0.1")
    client = Client()
    for answer in (
        client.post(reverse("accounts:sso"), {"email": "ana@acme.test"}),
        client.post(reverse("accounts:sso-start", args=[connection.provider_id])),
        client.post(reverse("openid_connect_login", kwargs={"provider_id": connection.provider_id})),
    ):
        assert answer.status_code == 502
        text = answer.content.decode()
        assert "Sign-in service unreachable" in text
        assert "Acme login" in text
        assert "127.0.0.1" not in text  # where it is, is for the logs
    assert "_auth_user_id" not in client.session


def test_an_issuer_on_a_private_address_is_refused_by_the_outbound_guard(
    settings: Any, oidc_provider: OidcProvider, caplog: pytest.LogCaptureFixture
) -> None:
    # A real provider answers there, but nobody opened private addresses: the request is never sent.
    connection = _unreachable(settings, oidc_provider.issuer, "")
    answer = Client().post(reverse("accounts:sso-start", args=[connection.provider_id]))
    assert answer.status_code == 502
    assert any("refused" in record.getMessage() for record in caplog.records)


def test_the_settings_page_shows_and_saves_sso_for_owners_only(
    acme: tuple[Organization, SsoConnection],
) -> None:
    org, connection = acme
    owner = Membership.objects.get(organization=org, role=Role.OWNER).user
    page = signed_in(owner).get(reverse("accounts:org-security"))
    body = page.content.decode()
    assert page.status_code == 200
    assert f"/accounts/oidc/{connection.provider_id}/login/callback/" in body
    assert SECRET not in body
    saved = signed_in(owner).post(
        reverse("accounts:org-security"),
        {
            "form": "sso",
            "name": "Acme <b>SSO</b>",
            "issuer": "https://login.acme.test",
            "client_id": "tertulia",
            "client_secret": "",
            "domains": "acme.test\nbeta.test",
            "enabled": "on",
            "join_role": Role.CONTRIBUTOR,
        },
    )
    assert saved.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "Acme <b>SSO</b>"
    assert (
        "Acme &lt;b&gt;SSO&lt;/b&gt;"
        in signed_in(owner).get(reverse("accounts:org-security")).content.decode()
    )
    bad = signed_in(owner).post(
        reverse("accounts:org-security"), {"form": "sso", "name": "x", "issuer": "ftp://x"}
    )
    assert bad.status_code == 422
    analyst = make_member(org, Role.ANALYST)
    assert signed_in(analyst).get(reverse("accounts:org-security")).status_code == 403
    assert (
        signed_in(analyst).post(reverse("accounts:org-security"), {"form": "sso-delete"}).status_code == 403
    )
    assert SsoConnection.objects.filter(pk=connection.pk).exists()


def test_the_operator_verifies_domains_from_the_command_line() -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    org = make_org("Acme")
    save_connection(_owner_actor(org), org, _settings())
    out = StringIO()
    call_command("sso_domains", "list", stdout=out)
    assert "acme.test" in out.getvalue() and "NOT verified" in out.getvalue()
    call_command("sso_domains", "verify", "Acme.Test", stdout=out)
    assert sso.connection_for_email("x@acme.test") is not None
    entry = AuditEntry.objects.get(organization=org, action="sso.domain_verify")
    assert entry.via == "cli"
    with pytest.raises(CommandError, match="No organization claims"):
        call_command("sso_domains", "verify", "nobody.test")
    call_command("sso_domains", "unverify", "acme.test", stdout=out)
    assert sso.connection_for_email("x@acme.test") is None


def test_vault_rotation_rewraps_sign_in_secrets() -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    from tertulia.vault.actions import rotate
    from tertulia.vault.keys import add_key, load_keyring

    org = make_org("Acme")
    connection = save_connection(_owner_actor(org), org, _settings())
    ana = make_member(org)
    TOTP.activate(ana, "JBSWY3DPEHPK3PXP")
    old_key = load_keyring().current_id
    new_key = add_key()
    assert new_key != old_key
    assert rotate() >= 2
    connection.refresh_from_db()
    assert connection.key_id == new_key
    assert sso.client_secret(connection) == SECRET
    stored = Authenticator.objects.get(user=ana, type="totp")
    assert f'"k":"{new_key}"' in stored.data["secret"]
    from tertulia.accounts.adapters import MFAAdapter

    assert MFAAdapter().decrypt(stored.data["secret"]) == "JBSWY3DPEHPK3PXP"


def test_nobody_completes_an_sso_sign_up_form() -> None:
    page = Client().get(reverse("socialaccount_signup"))
    assert page.status_code == 403
    assert Client().post(reverse("socialaccount_signup"), {"email": "me@anything.test"}).status_code == 403
    assert not User.objects.filter(email="me@anything.test").exists()
