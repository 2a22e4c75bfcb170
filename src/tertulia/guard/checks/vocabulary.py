"""Scam vocabulary, in Spanish and English: crypto giveaways, "send 1 BTC and get 2 back", requests
for a wallet's seed phrase, account-verification lures.

Text is folded as listening folds it (tertulia.listening.query.folding: NFKC, invisible characters
out, casefold, Latin accents out), then look-alikes are mapped to one letter ("0"→o, "1" and
"l"→i, "3"→e, "4" and "@"→a, "5" and "$"→s, "7"→t, Cyrillic and Greek look-alikes to Latin): the
phrases go through the same mapping, so "v3rify y0ur acc0unt" and "wa11et" match. Phrases are then
looked for with every space and punctuation mark removed on both sides, so "g i v e a w a y",
"g.i.v.e.a.w.a.y" and a zero-width space inside a word do not hide them (phrases are long enough
that this finds no phrase across unrelated words: a test keeps every phrase at 8 letters or more).
Amounts ("send 1 BTC, get 2 back") are read on the folded text, where digits are still digits.

Each category found adds its weight; the sum is capped (CAP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tertulia.guard.checks.findings import Finding
from tertulia.listening.query.folding import fold

MAX_TEXT = 20_000
CAP = 70

CATEGORY_WEIGHTS: dict[str, int] = {
    "send_and_get_back": 60,
    "doubling": 60,
    "wallet_secret": 60,
    "giveaway": 40,
    "phishing": 40,
    "wallet_address": 30,
}

_LOOKALIKES = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "l": "i",
        "|": "i",
        "!": "i",
        "3": "e",
        "\u20ac": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "8": "b",
        # Cyrillic
        "\u0430": "a",
        "\u0432": "b",
        "\u0435": "e",
        "\u0451": "e",
        "\u0456": "i",
        "\u0457": "i",
        "\u0458": "j",
        "\u043a": "k",
        "\u043c": "m",
        "\u043d": "h",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0442": "t",
        "\u0443": "y",
        "\u0445": "x",
        "\u0455": "s",
        "\u0501": "d",
        "\u051b": "q",
        "\u051d": "w",
        # Greek
        "\u03b1": "a",
        "\u03b2": "b",
        "\u03b5": "e",
        "\u03b7": "n",
        "\u03b9": "i",
        "\u03ba": "k",
        "\u03bd": "v",
        "\u03bf": "o",
        "\u03c1": "p",
        "\u03c4": "t",
        "\u03c5": "u",
        "\u03c7": "x",
    }
)
_NOT_ALNUM = re.compile(r"[\W_]+")


def skeleton(text: str) -> str:
    """Folded, look-alikes mapped, everything but letters and digits removed."""
    return _NOT_ALNUM.sub("", fold(text[:MAX_TEXT]).translate(_LOOKALIKES))


_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")


def skeleton_words(text: str) -> set[str]:
    """The words of the folded text, look-alikes mapped inside each word ("b!tc0in" is bitcoin, the
    "!" closing a sentence is not a letter), and runs of three or more single letters joined into
    one word ("g i v e a w a y")."""
    words: set[str] = set()
    run: list[str] = []
    for token in fold(text[:MAX_TEXT]).split():
        word = _NOT_ALNUM.sub("", _EDGE_PUNCTUATION.sub("", token).translate(_LOOKALIKES))
        if len(word) == 1:
            run.append(word)
            continue
        if len(run) >= 3:
            words.add("".join(run))
        run = []
        if word:
            words.add(word)
    if len(run) >= 3:
        words.add("".join(run))
    return words


# -- phrases (as written; their skeletons are computed once) ------------------------------------------

PHRASES: dict[str, tuple[str, ...]] = {
    "doubling": (
        "double your bitcoin",
        "double your btc",
        "double your crypto",
        "double your money",
        "double your eth",
        "we will double",
        "we double every",
        "duplica tus bitcoins",
        "duplica tu bitcoin",
        "duplica tus criptomonedas",
        "duplica tu dinero",
        "duplicamos tu",
        "te devolvemos el doble",
        "recibe el doble",
        "multiplica tus bitcoins",
    ),
    "wallet_secret": (
        "seed phrase",
        "recovery phrase",
        "secret phrase",
        "mnemonic phrase",
        "private key",
        "wallet seed",
        "12 word phrase",
        "24 word phrase",
        "frase semilla",
        "frase de recuperación",
        "frase secreta",
        "clave privada",
        "semilla de tu billetera",
        "semilla de tu cartera",
        "las 12 palabras",
        "tus 12 palabras",
        "las 24 palabras",
        "tus 24 palabras",
    ),
    "phishing": (
        "verify your account",
        "verify your identity",
        "confirm your account",
        "confirm your password",
        "confirm your identity",
        "your account will be suspended",
        "your account has been suspended",
        "your account will be closed",
        "your account has been locked",
        "unusual activity on your account",
        "log in to claim",
        "login to claim",
        "claim your prize",
        "claim your reward",
        "claim your free",
        "click here to claim",
        "update your payment details",
        "verifica tu cuenta",
        "verifique su cuenta",
        "verifica tu identidad",
        "confirma tu cuenta",
        "confirma tu contraseña",
        "tu cuenta será suspendida",
        "tu cuenta ha sido suspendida",
        "tu cuenta será cerrada",
        "tu cuenta ha sido bloqueada",
        "actividad inusual en tu cuenta",
        "reclama tu premio",
        "reclama tu recompensa",
        "inicia sesión para reclamar",
        "haz clic aquí para reclamar",
        "actualiza tus datos de pago",
    ),
}

# Giveaway: one word of each list in the same text ("sorteo" and "bitcoin", "airdrop" and "eth").
GIVEAWAY_WORDS = (
    "giveaway",
    "giveaways",
    "airdrop",
    "airdrops",
    "sorteo",
    "sorteamos",
    "regalamos",
    "gratis",
    "free",
)
CRYPTO_WORDS = (
    "btc",
    "bitcoin",
    "bitcoins",
    "eth",
    "ether",
    "ethereum",
    "crypto",
    "cripto",
    "criptomoneda",
    "criptomonedas",
    "usdt",
    "usdc",
    "solana",
    "dogecoin",
    "binance",
    "wallet",
    "billetera",
)

_COMPILED_PHRASES: dict[str, tuple[tuple[str, str], ...]] = {
    category: tuple((phrase, skeleton(phrase)) for phrase in phrases) for category, phrases in PHRASES.items()
}
_GIVEAWAY = {skeleton(word) for word in GIVEAWAY_WORDS}
_CRYPTO = {skeleton(word) for word in CRYPTO_WORDS}

# "send 1 btc … get 2 back", "envía 0,5 ETH y recibe 1": read on the folded text with look-alikes
# mapped only inside words that have a letter ("s3nd" is "send", "0,5" stays a number).
_SEND_WORDS = (
    "send",
    "sent",
    "transfer",
    "deposit",
    "envia",
    "enviame",
    "envien",
    "manda",
    "mandame",
    "transfiere",
    "deposita",
)
_COINS = (
    "btc",
    "bitcoin",
    "bitcoins",
    "eth",
    "ether",
    "ethereum",
    "usdt",
    "usdc",
    "sol",
    "doge",
    "bnb",
    "xrp",
    "cripto",
    "crypto",
)
_BACK_WORDS = (
    "get",
    "receive",
    "recibe",
    "recibiras",
    "recibes",
    "devolvemos",
    "back",
    "doble",
    "double",
    "x2",
    "2x",
)
_WORD = re.compile(r"\w+")


def _map_words(folded: str) -> str:
    return _WORD.sub(
        lambda m: m.group().translate(_LOOKALIKES) if any(c.isalpha() for c in m.group()) else m.group(),
        folded,
    )


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(sorted({re.escape(_map_words(word)) for word in words}, key=len, reverse=True))


_SEND_AMOUNT = re.compile(
    rf"\b(?:{_alternatives(_SEND_WORDS)})\b[^.!?\n]{{0,30}}?\d+(?:[.,]\d+)?\s*(?:{_alternatives(_COINS)})\b"
)
_GET_BACK = re.compile(rf"\b(?:{_alternatives(_BACK_WORDS)})\b")
# Wallet addresses (on the text as written): bech32 and legacy Bitcoin (with a letter), Ethereum.
_WALLET = re.compile(
    r"\b(?:bc1[ac-hj-np-z02-9]{25,62}|[13](?=[1-9]*[a-km-zA-HJ-NP-Z])[a-km-zA-HJ-NP-Z1-9]{25,34}"
    r"|0x[a-fA-F0-9]{40})\b"
)


@dataclass(frozen=True)
class Match:
    category: str
    found: str


def matches(text: str) -> list[Match]:
    """Every category the text falls in, with what was found (as written in the phrase lists)."""
    text = text[:MAX_TEXT]
    compact = skeleton(text)
    words = skeleton_words(text)
    mapped = _map_words(fold(text))
    found: list[Match] = []
    for category, phrases in _COMPILED_PHRASES.items():
        hit = next((phrase for phrase, shape in phrases if shape and shape in compact), None)
        if hit is not None:
            found.append(Match(category, hit))
    if words & _GIVEAWAY and words & _CRYPTO:
        found.append(Match("giveaway", f"{sorted(words & _GIVEAWAY)[0]} + {sorted(words & _CRYPTO)[0]}"))
    sent = _SEND_AMOUNT.search(mapped)
    if sent is not None and _GET_BACK.search(mapped, sent.end(), sent.end() + 80):
        found.append(Match("send_and_get_back", sent.group(0)[:60]))
    wallet = _WALLET.search(text)
    if wallet is not None:
        found.append(Match("wallet_address", wallet.group(0)[:12] + "…"))
    return found


def vocabulary_finding(texts: list[str]) -> Finding | None:
    found: dict[str, str] = {}
    for text in texts:
        for match in matches(text):
            found.setdefault(match.category, match.found)
    if not found:
        return None
    weight = min(CAP, sum(CATEGORY_WEIGHTS[category] for category in found))
    return Finding(
        "scam_vocabulary", weight, {"categories": sorted(found), "matches": [found[c] for c in sorted(found)]}
    )
