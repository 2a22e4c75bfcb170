"""Sentiment from a linear model trained on UMSAB tweets (training/train_sentiment.py).

The model is multinomial logistic regression over the presence of words, emoji and a few cues
(features.py): small enough to ship in the repository (data/sentiment.json.gz), and scored here
in plain Python, a dictionary lookup per token, so the analysis needs no numerical library.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tertulia.nlp.features import features
from tertulia.nlp.normalize import Normalized
from tertulia.nlp.result import Sentiment

MODEL_PATH = Path(__file__).parent / "data" / "sentiment.json.gz"
FORMAT = "tertulia-sentiment-linear/1"
LABELS = (Sentiment.NEGATIVE, Sentiment.NEUTRAL, Sentiment.POSITIVE)  # UMSAB's 0, 1, 2

Scores = tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class LinearModel:
    bias: Scores
    weights: Mapping[str, Scores]

    def probabilities(self, present: Iterable[str]) -> Scores:
        negative, neutral, positive = self.bias
        get = self.weights.get
        for feature in present:
            weight = get(feature)
            if weight is not None:
                negative += weight[0]
                neutral += weight[1]
                positive += weight[2]
        top = max(negative, neutral, positive)  # subtracted so exp() cannot overflow
        n, u, p = math.exp(negative - top), math.exp(neutral - top), math.exp(positive - top)
        total = n + u + p
        return n / total, u / total, p / total

    def to_json(self, **about: Any) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "labels": [str(label) for label in LABELS],
            "about": about,
            "bias": list(self.bias),
            "weights": {feature: list(w) for feature, w in sorted(self.weights.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LinearModel:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model: {data.get('format')!r}")
        b0, b1, b2 = data["bias"]
        weights = {str(f): (float(w[0]), float(w[1]), float(w[2])) for f, w in data["weights"].items()}
        return cls(bias=(float(b0), float(b1), float(b2)), weights=weights)


def load(path: Path) -> LinearModel:
    with gzip.open(path, "rt", encoding="utf-8") as file:
        return LinearModel.from_json(json.load(file))


@cache
def model() -> LinearModel:
    """The shipped model, read once per process (about 0.2 s) on first use."""
    return load(MODEL_PATH)


def classify(probabilities: Scores) -> tuple[Sentiment, float]:
    """The most probable label, and a score from -1 (surely negative) to 1 (surely positive)."""
    negative, neutral, positive = probabilities
    if negative >= neutral and negative >= positive:
        label = Sentiment.NEGATIVE
    elif positive >= neutral:
        label = Sentiment.POSITIVE
    else:
        label = Sentiment.NEUTRAL
    return label, round(positive - negative, 4)


def score(text: Normalized) -> tuple[Sentiment, float]:
    if not text.tokens:
        return Sentiment.NEUTRAL, 0.0
    return classify(model().probabilities(features(text)))
