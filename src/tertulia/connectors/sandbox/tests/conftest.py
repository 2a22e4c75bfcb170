from __future__ import annotations

import itertools

import pytest

from tertulia.connectors.base import ChannelAccount, OutgoingPost
from tertulia.connectors.sandbox import network
from tertulia.connectors.sandbox.connector import SandboxConnector
from tertulia.connectors.sandbox.models import SandboxAccount, SandboxPost

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def brand(db) -> SandboxAccount:
    info = SandboxConnector.prepare_account("@Casa_Prueba", "Casa Prueba")
    return SandboxAccount.objects.get(pk=int(info.external_id))


@pytest.fixture
def connector(brand) -> SandboxConnector:
    return SandboxConnector(ChannelAccount(handle=brand.handle, external_id=str(brand.pk)))


@pytest.fixture
def people(db) -> list[SandboxAccount]:
    return [network.create_account(f"persona_{i}", f"Persona {i}", language="es") for i in range(5)]


class SandboxHarness:
    """Makes the sandbox crowd talk to the brand, for the connector contract."""

    def __init__(self, brand: SandboxAccount, people: list[SandboxAccount]) -> None:
        self.brand = brand
        self.people = people
        self.counter = itertools.count()

    def _brand_post(self) -> SandboxPost:
        return network.recent_posts(self.brand, 1).first() or network.post(self.brand, "Brand news")

    def deliver_inbound(self, count: int) -> None:
        for _ in range(count):
            n = next(self.counter)
            author = self.people[n % len(self.people)]
            match n % 4:
                case 0:
                    network.post(author, f"Hola @{self.brand.handle} número {n}")
                case 1:
                    network.reply(author, self._brand_post(), f"Respuesta {n}")
                case 2:
                    network.quote(author, self._brand_post(), f"Cita {n}")
                case _:
                    network.send_dm(author, self.brand, f"Mensaje privado {n}")

    def other_author_id(self) -> str:
        return str(self.people[-1].pk)

    def foreign_post_id(self) -> str:
        return str(network.reply(self.people[0], self._brand_post(), "A reply to hide").pk)


@pytest.fixture
def harness(brand, people) -> SandboxHarness:
    return SandboxHarness(brand, people)


def publish(connector: SandboxConnector, text: str, **options: object) -> str:
    return connector.publish(OutgoingPost(text=text, **options)).remote_id  # type: ignore[arg-type]  # test helper kwargs
