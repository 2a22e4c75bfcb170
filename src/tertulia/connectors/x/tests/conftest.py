from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from tertulia.connectors.base import ChannelAccount
from tertulia.connectors.testing.spec_server import SchemaFixtures, SpecServer
from tertulia.connectors.x.connector import XConnector
from tertulia.connectors.x.tests.fake_x import ACCESS_TOKEN, FakeX, load_x_spec


@pytest.fixture(scope="session")
def x_spec() -> dict:
    return load_x_spec()


@pytest.fixture(scope="session")
def _x_server(x_spec) -> Iterator[SpecServer]:
    # One server for the session (loading 1 MB of spec per test is slow); each test gets a clean record.
    with SpecServer(x_spec) as server:
        yield server


@pytest.fixture
def x_server(_x_server: SpecServer) -> Iterator[SpecServer]:
    _x_server.requests.clear()
    _x_server.invalid_responses.clear()
    yield _x_server
    # Every request the connector sent in this test was valid against X's spec, and so was every answer.
    _x_server.assert_all_valid()
    assert not unauthenticated(_x_server), unauthenticated(_x_server)
    assert not _x_server.unhandled, [f"{r.method} {r.path}" for r in _x_server.unhandled]


def unauthenticated(server: SpecServer) -> list[str]:
    """Requests to X's resource API without an OAuth 2.0 user token.

    The shared server insists on a bearer token only where every security scheme is OAuth 2.0; X's
    operations also accept OAuth 1.0a (`UserToken`), which openapi-core does not check, so a request
    with no Authorization header at all would pass there. Tertulia always signs in with OAuth 2.0.
    """
    return [
        f"{r.method} {r.path}"
        for r in server.requests
        if r.operation != "oauth2Token" and not r.headers.get("authorization", "").startswith("Bearer ")
    ]


@pytest.fixture
def fake(x_server: SpecServer, x_spec) -> FakeX:
    fake = FakeX(server=x_server, fixtures=SchemaFixtures(x_spec))
    fake.me_id = fake.add_user("casa_prueba", "Casa Prueba", followers=120)
    fake.install()
    return fake


@pytest.fixture
def people(fake: FakeX) -> list[str]:
    return [fake.add_user(f"persona_{i}", f"Persona {i}", followers=10 * i) for i in range(4)]


def make_connector(fake: FakeX, token: str = ACCESS_TOKEN, **credentials: str) -> XConnector:
    return XConnector(
        ChannelAccount(
            handle="casa_prueba",
            external_id=fake.me_id,
            credentials={"access_token": token, **credentials},
            settings={"base_url": fake.server.url},
        )
    )


@pytest.fixture
def connector(db, fake: FakeX) -> Iterator[XConnector]:
    connector = make_connector(fake)
    yield connector
    connector.api.close()


class XHarness:
    """Makes people on the fake X talk to the brand, for the connector contract."""

    def __init__(self, fake: FakeX, people: list[str]) -> None:
        self.fake = fake
        self.people = people
        self.counter = itertools.count()

    def _brand_post(self) -> str:
        own = [p for p, post in self.fake.posts.items() if post["author_id"] == self.fake.me_id]
        return own[-1] if own else self.fake.add_post(self.fake.me_id, "Novedades de la casa")

    def deliver_inbound(self, count: int) -> None:
        for _ in range(count):
            n = next(self.counter)
            author = self.people[n % len(self.people)]
            match n % 4:
                case 0:
                    self.fake.add_post(author, f"Hola @casa_prueba número {n}")
                case 1:
                    self.fake.add_post(author, f"@casa_prueba Respuesta {n}", reply_to=self._brand_post())
                case 2:
                    self.fake.add_post(author, f"Cita {n} @casa_prueba", quote_of=self._brand_post())
                case _:
                    self.fake.add_message(author, self.fake.me_id, f"Mensaje privado {n}")

    def other_author_id(self) -> str:
        return self.people[-1]

    def foreign_post_id(self) -> str:
        return self.fake.add_post(self.people[0], "@casa_prueba A reply to hide", reply_to=self._brand_post())


@pytest.fixture
def harness(fake: FakeX, people: list[str]) -> XHarness:
    return XHarness(fake, people)
