from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tertulia.core.actions.context import Actor
from tertulia.core.tests.factories import make_org
from tertulia.core.tests.outbound_server import Site

DOCS = Path(__file__).resolve().parents[4] / "docs" / "outbound.md"
SYSTEM = Actor.system("tests")


@pytest.fixture
def receiver(settings) -> Iterator[Site]:
    """A real HTTP server on 127.0.0.1, opened by the allow-list for its own port only."""
    with Site().running() as site:
        settings.TERTULIA_OUTBOUND_ALLOW = f"127.0.0.1:{site.port}"
        site.route("/hook", b"ok")
        yield site


@pytest.fixture
def org(db):
    return make_org("Acme")


@pytest.fixture
def documented_verifier() -> Callable[..., bool]:
    """The verification snippet of docs/outbound.md, run as it is written there."""
    text = DOCS.read_text()
    found = re.search(r"<!-- verify-snippet[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert found is not None, "docs/outbound.md lost its verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    verifier: Callable[..., bool] = namespace["verify_tertulia_webhook"]
    return verifier
