"""Who lives on the sandbox network: speakers, a silent audience and an influential blogger.

The population is a pure function of a fixed seed (not the simulation's), so
every simulation shares one community and loading it twice changes nothing.
Follower counts have a heavy tail, as on real networks: most people are
followed by a handful, a few by thousands. Every follower is a real follow row,
so `followers_count` is always what the graph says.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import cache

from django.db import transaction

from tertulia.connectors.sandbox import network
from tertulia.connectors.sandbox.models import SandboxAccount, SandboxBlock, SandboxFollow
from tertulia.connectors.sandbox.simulator.seeding import seeded

COMMUNITY_SEED = 1812
SPEAKERS_ES = 180
SPEAKERS_EN = 120
AUDIENCE = 10_000
BRAND_AUDIENCE = 1_200  # silent followers of each brand, besides every speaker
MAX_FOLLOWERS = 4_000
BATCH = 1_000

BLOGGER_HANDLE = "lucia_enologia"
BLOGGER_FOLLOWERS = 10_000  # the seed's blogger: "una cuenta de twitter de 10 000 seguidores"

FIRST_NAMES = {
    "es": (
        "Lucía",
        "Marta",
        "Carmen",
        "Pilar",
        "Nuria",
        "Elena",
        "Raquel",
        "Irene",
        "Laura",
        "Sara",
        "Andrea",
        "Paula",
        "Rocío",
        "Begoña",
        "Aitana",
        "Javier",
        "Carlos",
        "Pablo",
        "Sergio",
        "Álvaro",
        "Diego",
        "Jorge",
        "Iñaki",
        "Manuel",
        "Rubén",
        "Hugo",
        "Adrián",
        "Óscar",
        "Tomás",
        "Héctor",
    ),
    "en": (
        "Emma",
        "Olivia",
        "Grace",
        "Chloe",
        "Hannah",
        "Megan",
        "Sophie",
        "Amelia",
        "Ruby",
        "Zoe",
        "Jack",
        "Liam",
        "Noah",
        "Harry",
        "Oscar",
        "Ethan",
        "Ryan",
        "Dylan",
        "Owen",
        "Lewis",
        "Mason",
        "Aiden",
        "Nathan",
        "Kyle",
    ),
}
LAST_NAMES = {
    "es": (
        "García",
        "Martínez",
        "López",
        "Sánchez",
        "Pérez",
        "Gómez",
        "Ruiz",
        "Díaz",
        "Moreno",
        "Muñoz",
        "Álvarez",
        "Romero",
        "Navarro",
        "Torres",
        "Domínguez",
        "Gil",
        "Vázquez",
        "Serrano",
        "Ramos",
        "Blanco",
        "Castro",
        "Ortega",
        "Rubio",
        "Marín",
        "Sanz",
        "Iglesias",
        "Etxeberria",
        "Ferrer",
    ),
    "en": (
        "Smith",
        "Jones",
        "Taylor",
        "Brown",
        "Wilson",
        "Evans",
        "Thomas",
        "Roberts",
        "Walker",
        "Wright",
        "Hughes",
        "Green",
        "Hall",
        "Wood",
        "Clarke",
        "Murphy",
        "Kelly",
        "Baker",
        "Turner",
        "Parker",
        "Cooper",
        "Ward",
    ),
}
BIOS = {
    "es": (
        "Amante del buen comer.",
        "Madre, cocinera aficionada y fan del vermut.",
        "Periodista. Opiniones mías.",
        "Foodie de barrio.",
        "Diseñador gráfico. Café, siempre café.",
        "Jubilado y curioso.",
        "",
    ),
    "en": (
        "Food lover.",
        "Home cook, coffee snob.",
        "Views my own.",
        "Dad jokes and sourdough.",
        "Marketing by day.",
        "",
    ),
}


@dataclass(frozen=True)
class Persona:
    handle: str
    display_name: str
    language: str
    bio: str = ""


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c == "_")).lower()


def _speakers(rng: random.Random, language: str, count: int, taken: set[str]) -> list[Persona]:
    people: list[Persona] = []
    while len(people) < count:
        first, last = rng.choice(FIRST_NAMES[language]), rng.choice(LAST_NAMES[language])
        style = rng.randrange(3)
        handle = (
            f"{_ascii(first)}_{_ascii(last)}"
            if style == 0
            else f"{_ascii(first)}{_ascii(last)[:4]}{rng.randrange(10, 99)}"
            if style == 1
            else f"{_ascii(first)}_{rng.randrange(1970, 2006)}"
        )[:30]
        if handle in taken:
            continue
        taken.add(handle)
        people.append(Persona(handle, f"{first} {last}", language, rng.choice(BIOS[language])))
    return people


@cache
def speakers() -> tuple[Persona, ...]:
    """The people who write (in a fixed order the planner indexes into)."""
    rng = seeded("community", COMMUNITY_SEED)
    taken = {BLOGGER_HANDLE}
    return (*_speakers(rng, "es", SPEAKERS_ES, taken), *_speakers(rng, "en", SPEAKERS_EN, taken))


def blogger() -> Persona:
    return Persona(
        BLOGGER_HANDLE,
        "Lucía | Vinos y catas",
        "es",
        "Bloguera de enología. Más de 1.000 visitas diarias en el blog. Cato, cuento y no me callo.",
    )


@cache
def audience() -> tuple[Persona, ...]:
    """People who read and follow but never write: the reach behind the speakers."""
    rng = seeded("audience", COMMUNITY_SEED)
    people: list[Persona] = []
    for i in range(AUDIENCE):
        language = "es" if i % 5 < 3 else "en"
        first = rng.choice(FIRST_NAMES[language])
        people.append(Persona(f"{_ascii(first)}_{i:05d}", first, language))
    return tuple(people)


@cache
def speaker_followers() -> tuple[tuple[int, ...], ...]:
    """For each speaker, the audience indices that follow them (Pareto-distributed counts)."""
    rng = seeded("graph", COMMUNITY_SEED)
    result = []
    for _person in speakers():
        count = min(int(rng.paretovariate(1.16) * 4), MAX_FOLLOWERS)
        result.append(tuple(sorted(rng.sample(range(AUDIENCE), count))))
    return tuple(result)


def _ids(handles: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(handles), BATCH):
        chunk = handles[start : start + BATCH]
        found.update(SandboxAccount.objects.filter(handle__in=chunk).values_list("handle", "pk"))
    return found


def _community_complete() -> bool:
    last = audience()[-1].handle
    return (
        SandboxAccount.objects.filter(handle=BLOGGER_HANDLE, followers_count=BLOGGER_FOLLOWERS).exists()
        and SandboxAccount.objects.filter(handle__in=[last, speakers()[-1].handle]).count() == 2
    )


@transaction.atomic
def ensure_community() -> None:
    """Create the speakers, the audience, the blogger and their follows, once."""
    if _community_complete():
        return
    people = [*speakers(), blogger(), *audience()]
    SandboxAccount.objects.bulk_create(
        [
            SandboxAccount(handle=p.handle, display_name=p.display_name, language=p.language, bio=p.bio)
            for p in people
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    ids = _ids([p.handle for p in people])
    audience_ids = [ids[p.handle] for p in audience()]
    follows = [SandboxFollow(follower_id=pk, followee_id=ids[BLOGGER_HANDLE]) for pk in audience_ids]
    for person, followers in zip(speakers(), speaker_followers(), strict=True):
        follows.extend(
            SandboxFollow(follower_id=audience_ids[i], followee_id=ids[person.handle]) for i in followers
        )
    SandboxFollow.objects.bulk_create(follows, batch_size=BATCH, ignore_conflicts=True)
    network.recount_followers([ids[p.handle] for p in (*speakers(), blogger())])


@transaction.atomic
def ensure_brand_audience(brand: SandboxAccount) -> None:
    """Every speaker and part of the audience follow the brand, so it has a community to hear from."""
    people = [*speakers(), *audience()[:BRAND_AUDIENCE]]
    ids = _ids([p.handle for p in people])
    # Someone the brand blocked stays unfollowed, as `network.block` left them.
    blocked = set(SandboxBlock.objects.filter(blocker=brand).values_list("blocked_id", flat=True))
    SandboxFollow.objects.bulk_create(
        [
            SandboxFollow(follower_id=pk, followee=brand)
            for pk in ids.values()
            if pk != brand.pk and pk not in blocked
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    network.recount_followers([brand.pk])
