"""The demo brand's listening: saved queries in every group, an alert, and a month of history.

The month is generated from the sandbox simulator's community messages plus mentions of the
competitors (and, in the last two days, the start of a food-safety scare), spread over 30 days with
a daily rhythm (quiet nights, busy evenings) and a few
influential authors, then run through the real pipeline (matching, analysis, storage), so every
chart has something honest to show. Made once; the live simulated traffic adds to it through the
connected channels.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from tertulia.connectors.sandbox.simulator import corpus
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, User
from tertulia.listening.actions.alerts import create_alert
from tertulia.listening.actions.queries import create_query
from tertulia.listening.ingest import Item, ingest
from tertulia.listening.models import ListeningQuery, QueryGroup

# (name, group, query): what a community manager of a delicatessen chain would listen for.
QUERIES = [
    (
        "La Despensa del Sur",
        QueryGroup.BRAND,
        '"despensa del sur" OR despensadelsur OR @despensadelsur OR #DespensaDelSur',
    ),
    (
        "Pedidos y entregas",
        QueryGroup.BRAND,
        "(pedido* OR envio* OR entrega* OR order* OR delivery) NOT (sorteo OR giveaway)",
    ),
    ("Gourmet Montaña", QueryGroup.COMPETITOR, '"gourmet montaña" OR gourmetmontana OR @gourmetmontana'),
    (
        "Delicias del Norte",
        QueryGroup.COMPETITOR,
        '"delicias del norte" OR deliciasdelnorte OR @deliciasdelnorte',
    ),
    ("Ultramarinos Express", QueryGroup.COMPETITOR, '"ultramarinos express" OR @ultramarinosexpress'),
    (
        "Aceite de oliva",
        QueryGroup.INDUSTRY,
        '"aceite de oliva" OR aove OR "olive oil" NEAR/3 (price* OR precio*)',
    ),
    (
        "Seguridad alimentaria",
        QueryGroup.INDUSTRY,
        '(intoxicaci* OR salmonel* OR "food poisoning" OR alergi* OR allerg*) NOT receta*',
    ),
]

COMPETITOR_NAMES = ["Gourmet Montaña", "Delicias del Norte", "Ultramarinos Express", "@gourmetmontana"]
ABOUT_COMPETITORS = {
    "es": [
        "Acabo de probar la cesta de {name} y me ha encantado 😍",
        "{name} ha vuelto a tardar una semana con mi pedido, qué desastre",
        "¿Alguien ha comprado en {name}? ¿Qué tal el jamón?",
        "Los precios de {name} en Navidad están por las nubes",
        "Muy buena atención en {name}, repetiré seguro",
    ],
    "en": [
        "Just tried the hamper from {name}, absolutely loved it",
        "{name} lost my order again, terrible service",
        "Has anyone ordered from {name}? Worth it?",
    ],
}
ABOUT_US = {
    "es": [
        "Qué bien me atendieron ayer en La Despensa del Sur de Córdoba 🧀",
        "El aceite de oliva de #DespensaDelSur es otro nivel",
        "@despensadelsur ¿abrís el domingo en Sevilla?",
        "Mi pedido de La Despensa del Sur llegó roto, espero que lo solucionen",
    ],
    "en": ["Great olive oil from Despensa del Sur, fair price too"],
}
AUTHORS = [
    ("mariacocina", 48_000),
    ("foodie_sevilla", 12_500),
    ("elgourmetdigital", 310_000),
    ("pepe_h", 240),
]
HISTORY_DAYS = 30
HISTORY_ITEMS = 1_400


def _when(rng: random.Random, now: datetime) -> datetime:
    """A time in the last month, busier in the evening, quiet at night (Madrid is UTC+1 in winter)."""
    day = rng.randrange(HISTORY_DAYS)
    hour = rng.choices(
        range(24), weights=[1, 1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 7, 8, 7, 6, 6, 7, 9, 10, 10, 8, 5, 2]
    )[0]
    moment = (now - timedelta(days=day)).replace(hour=hour, minute=rng.randrange(60), second=0, microsecond=0)
    return min(moment, now - timedelta(minutes=5))


def _history(rng: random.Random, now: datetime) -> list[Item]:
    items = []
    for number in range(HISTORY_ITEMS):
        language = rng.choices(["es", "en"], weights=[4, 1])[0]
        roll = rng.random()
        when = _when(rng, now)
        if roll < 0.04:
            # A food-safety scare in the last two days: rising terms and the alert have something to find.
            text = corpus.crisis_message("food_poisoning", language, rng)
            when = now - timedelta(minutes=rng.randrange(5, 48 * 60))
        elif roll < 0.25:
            text = rng.choice(ABOUT_COMPETITORS[language]).format(name=rng.choice(COMPETITOR_NAMES))
        elif roll < 0.4:
            text = rng.choice(ABOUT_US[language])
        else:
            text = corpus.community_message(rng.choice(corpus.CATEGORIES), language, rng)
        handle, followers = (
            rng.choice(AUTHORS)
            if rng.random() < 0.2
            else (f"persona{rng.randrange(900)}", rng.randrange(20, 3_000))
        )
        network = rng.choice(["bluesky", "mastodon", "web"])
        items.append(
            Item(
                network=network,
                remote_id=f"demo-history-{number}",
                text=text,
                published_at=when,
                url="" if network != "web" else f"https://blog{rng.randrange(20)}.example/entrada-{number}",
                author_handle=handle,
                author_followers=followers,
                language=language,
            )
        )
    return items


def load_listening(brand: Brand, owner: User, seed: int = 2026) -> None:
    """Queries, an alert and a month of matched history, once."""
    if ListeningQuery.objects.filter(brand=brand).exists():
        return
    actor = Actor.system("demo loader")
    saved = {
        name: create_query(actor, brand, name=name, text=text, group=group) for name, group, text in QUERIES
    }
    create_alert(
        actor,
        saved["La Despensa del Sur"],
        kind="negative_share",
        threshold=40,
        window_minutes=60,
        minimum_mentions=10,
        recipients=[owner],
    )
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    items = _history(rng, timezone.now())
    for start in range(0, len(items), 500):
        ingest(items[start : start + 500], organization_id=brand.organization_id)
