"""Networks where Tertulia registers itself on each server (Mastodon): once per server, stored in the vault.

`SelfRegNet` stands for such a network without HTTP, so these tests are about
`connecting` and the vault alone: the address typed, what is stored, when it is
reused or replaced, and what happens when two people start at the same moment.
Mastodon's own registration is tested against its spec in `mastodon/tests/`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection, connections

from tertulia.connectors import connecting, registry
from tertulia.connectors.base import ContentRejected, OAuthClient, TemporaryFailure
from tertulia.connectors.models import PendingAuthorization
from tertulia.connectors.tests.fake_networks import OAuthNet
from tertulia.core.actions.context import Actor
from tertulia.core.models import AuditEntry, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.vault.actions import app_client, keep_own_registration, register_app
from tertulia.vault.models import NetworkApp

CALLBACK = "https://tertulia.example/settings/channels/callback"
NET = "selfregnet"


class SelfRegNet(OAuthNet):
    network = NET
    display_name = "SelfRegNet"
    registered: ClassVar[list[tuple[str, str]]] = []  # (server, redirect URI) of every registration made
    before_answer: ClassVar[list[Callable[[], object]]] = []  # run while "the network" is answering

    @classmethod
    def register_app(cls, base_url: str, redirect_uri: str) -> OAuthClient:
        if base_url.endswith("unreachable.example"):
            raise TemporaryFailure("Could not reach it.")
        cls.registered.append((base_url, redirect_uri))
        number = len(cls.registered)
        for hook in cls.before_answer:
            hook()
        return OAuthClient(f"client-{number}", f"secret-{number}", base_url)


@pytest.fixture(autouse=True)
def selfregnet(monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, NET, f"{__name__}.SelfRegNet")
    monkeypatch.setattr(SelfRegNet, "registered", [])
    monkeypatch.setattr(SelfRegNet, "before_answer", [])


@pytest.fixture
def people(db):
    org = make_org()
    other_org = make_org()
    return (
        (make_brand(org, "Marca"), make_member(org, Role.BRAND_MANAGER)),
        (make_brand(other_org, "Otra"), make_member(other_org, Role.BRAND_MANAGER)),
    )


def _client_id(url: str) -> str:
    return parse_qs(urlsplit(url).query)["client_id"][0]


def _begin(person, server: str = "social.example", callback: str = CALLBACK) -> str:
    brand, user = person
    return connecting.begin_authorization(brand, user, NET, server, callback)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mastodon.social", "https://mastodon.social"),
        ("  https://Mastodon.Social/  ", "https://mastodon.social"),
        ("https://mastodon.social/@marca", "https://mastodon.social"),
        ("mastodon.social.", "https://mastodon.social"),
        ("https://mastodon.social:443", "https://mastodon.social"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("[::1]:3000", "https://[::1]:3000"),
        ("mañana.example", "https://xn--maana-pta.example"),
    ],
)
def test_server_addresses_are_normalized(typed, expected):
    assert connecting.server_address(typed, "Mastodon") == expected


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("", "Enter the Mastodon server's address"),
        ("ftp://mastodon.social", "starts with https://"),
        ("javascript:alert(1)", "not a valid server address"),
        ("@marca@mastodon.social", "without an account name"),
        ("https://user:secret@mastodon.social", "without an account name"),
        ("https://mastodon.social:99999", "not a valid server address"),
        ("https://exa mple.social", "not a valid server address"),
        ("https:///mastodon", "not a valid server address"),
        ("x" * 260 + ".social", "not a valid server address"),
    ],
)
def test_bad_server_addresses_are_refused(typed, why):
    with pytest.raises(ContentRejected, match=why):
        connecting.server_address(typed, "Mastodon")


def test_the_first_sign_in_registers_and_the_next_ones_reuse_it(people):
    first = _begin(people[0], "social.example")
    again = _begin(people[1], "https://SOCIAL.example/")  # another organization, typed otherwise
    assert SelfRegNet.registered == [("https://social.example", CALLBACK)]
    app = NetworkApp.objects.get(network=NET)
    assert (app.base_url, app.client_id, app.redirect_uri) == ("https://social.example", "client-1", CALLBACK)
    assert _client_id(first) == _client_id(again) == "client-1"
    assert b"secret-1" not in bytes(app.ciphertext)  # sealed like every other app secret
    with app_client(NET, "https://social.example") as opened:
        assert opened is not None and opened[0].client_secret == "secret-1"
    entry = AuditEntry.objects.get(action="network_app.self_register")
    assert entry.actor == people[0][1] and entry.organization is None
    assert "secret-1" not in str(entry.changes)
    # The pending sign-in is keyed by the same address, so the return finds the registration.
    assert set(PendingAuthorization.objects.values_list("base_url", flat=True)) == {"https://social.example"}


def test_each_server_gets_its_own_registration(people):
    _begin(people[0], "one.example")
    _begin(people[0], "two.example")
    assert [server for server, _ in SelfRegNet.registered] == ["https://one.example", "https://two.example"]
    assert NetworkApp.objects.filter(network=NET).count() == 2


def test_a_new_callback_address_registers_again(people):
    _begin(people[0])
    moved = "https://social.tertulia.example/settings/channels/callback"
    url = _begin(people[1], callback=moved)
    app = NetworkApp.objects.get(network=NET)
    assert (app.client_id, app.redirect_uri) == ("client-2", moved)  # replaced, not a second row
    assert _client_id(url) == "client-2"
    _begin(people[0], callback=moved)
    assert len(SelfRegNet.registered) == 2


def test_an_operators_registration_is_used_and_never_replaced(people):
    register_app(Actor.system(), NET, "operator-app", {"client_secret": "s"}, "https://social.example")
    url = _begin(people[0], "social.example", callback="https://anywhere.example/cb")
    assert _client_id(url) == "operator-app"
    assert SelfRegNet.registered == []
    assert NetworkApp.objects.get(network=NET).redirect_uri == ""


def test_a_failed_registration_stores_nothing_and_starts_nothing(people):
    with pytest.raises(TemporaryFailure):
        _begin(people[0], "unreachable.example")
    assert not NetworkApp.objects.exists() and not PendingAuthorization.objects.exists()
    with pytest.raises(ContentRejected):
        _begin(people[0], "ftp://social.example")
    assert SelfRegNet.registered == []


def test_networks_with_a_central_app_still_need_an_operator(people, monkeypatch):
    monkeypatch.setitem(registry.CONNECTORS, "oauthnet", "tertulia.connectors.tests.fake_networks.OAuthNet")
    assert not connecting.registers_itself(OAuthNet) and connecting.registers_itself(SelfRegNet)
    brand, user = people[0]
    with pytest.raises(connecting.AppNotRegistered):
        connecting.begin_authorization(brand, user, "oauthnet", "", CALLBACK)


def test_when_two_start_at_once_the_first_stored_registration_wins(people):
    """Someone else's registration is stored while ours is on its way: ours is dropped."""

    def someone_else_finishes_first() -> None:
        SelfRegNet.before_answer.clear()
        keep_own_registration(
            Actor.system(), NET, "https://social.example", OAuthClient("theirs", "their-secret"), CALLBACK
        )

    SelfRegNet.before_answer.append(someone_else_finishes_first)
    url = _begin(people[0])
    assert _client_id(url) == "theirs"
    assert list(NetworkApp.objects.values_list("client_id", flat=True)) == ["theirs"]
    assert AuditEntry.objects.filter(action="network_app.self_register").count() == 1


def test_when_two_replace_at_once_the_first_replacement_wins(people):
    _begin(people[0])
    moved = "https://new.tertulia.example/cb"

    def someone_else_replaces_first() -> None:
        SelfRegNet.before_answer.clear()
        keep_own_registration(
            Actor.system(),
            NET,
            "https://social.example",
            OAuthClient("theirs", "s"),
            moved,
            replacing="client-1",
        )

    SelfRegNet.before_answer.append(someone_else_replaces_first)
    url = _begin(people[1], callback=moved)
    assert _client_id(url) == "theirs"
    assert list(NetworkApp.objects.values_list("client_id", "redirect_uri")) == [("theirs", moved)]


def test_keeping_a_registration_is_conditional(db):
    actor, server = Actor.system(), "https://social.example"
    assert keep_own_registration(actor, NET, server, OAuthClient("a", "s"), CALLBACK)
    assert not keep_own_registration(actor, NET, server, OAuthClient("b", "s"), CALLBACK)
    assert not keep_own_registration(actor, NET, server, OAuthClient("c", "s"), CALLBACK, replacing="zzz")
    assert keep_own_registration(actor, NET, server, OAuthClient("d", "s"), CALLBACK, replacing="a")
    register_app(actor, NET, "operator", {}, server)
    assert not keep_own_registration(
        actor, NET, server, OAuthClient("e", "s"), CALLBACK, replacing="operator"
    )
    assert list(NetworkApp.objects.values_list("client_id", flat=True)) == ["operator"]


@pytest.mark.django_db(transaction=True)
def test_two_people_registering_at_the_same_moment_store_one(people):
    if connection.vendor == "sqlite":
        # Django's SQLite test database is in memory with a shared cache, whose table locks
        # fail at once instead of waiting; the conditional storing itself is tested above.
        pytest.skip("needs a database whose writers wait for each other (PostgreSQL)")
    barrier = threading.Barrier(2)
    SelfRegNet.before_answer.append(lambda: barrier.wait(timeout=30))  # both registered before either stores
    urls: list[str] = []
    errors: list[BaseException] = []

    def person(who: tuple[object, object]) -> None:
        try:
            urls.append(_begin(who))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=person, args=(who,)) for who in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(SelfRegNet.registered) == 2  # both asked the network...
    [stored] = NetworkApp.objects.filter(network=NET)  # ...one registration is kept
    assert [_client_id(u) for u in urls] == [stored.client_id] * 2
