"""Fixtures and helpers for the listening API tests: a brand, a token per role, and stored mentions
brought in by the real ingest path (matcher, storage), with the sentiment given rather than guessed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import pytest

from tertulia.api.tests.conftest import Tenant, TokenMaker
from tertulia.core.models import Brand, Role
from tertulia.listening import registry
from tertulia.listening.ingest import Ingested, Item, ingest
from tertulia.nlp import Analysis, Intent, Sentiment, Urgency

# The fixtures, for `from ... import *` in the test modules (a named import would look redefined).
__all__ = ["brand", "fresh_matchers", "tokens"]


@pytest.fixture(autouse=True)
def fresh_matchers() -> Iterator[None]:
    registry.forget()  # each test's queries, not a previous test's compiled matcher
    yield
    registry.forget()


@pytest.fixture
def brand(tenant: Tenant) -> Brand:
    return Brand.objects.create(
        organization=tenant.org, name="Bodega", slug="bodega", timezone="Europe/Madrid"
    )


@pytest.fixture
def tokens(tenant: Tenant, make_token: TokenMaker) -> dict[str, str]:
    """A token per role, with every scope the role allows."""
    return {role.value: make_token(tenant.person(role), tenant.org) for role in Role}


def item(
    remote_id: str,
    text: str,
    published_at: datetime,
    sentiment: str = "neutral",
    **extra: object,
) -> Item:
    analysis = Analysis(
        language="es",
        sentiment=Sentiment(sentiment),
        sentiment_score={"negative": -0.8, "neutral": 0.0, "positive": 0.8}[sentiment],
        intent=Intent.OTHER,
        urgency=Urgency.NORMAL,
    )
    return Item(
        network="bluesky",
        remote_id=remote_id,
        text=text,
        published_at=published_at,
        language="es",
        analysis=analysis,
        **extra,  # type: ignore[arg-type]  # the Item fields a test sets
    )


def listen(organization_id: int, items: Sequence[Item]) -> Ingested:
    """What an organization's own source would bring in: every item kept, matched against its queries."""
    registry.forget()
    return ingest(list(items), organization_id=organization_id, keep_unmatched=True)
