"""Quality measures shared by the training script, the tests and bench/nlp.py."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from tertulia.connectors.sandbox.simulator import corpus
from tertulia.nlp.result import Intent

# What the sandbox simulator's labelled categories should be analysed as.
SIMULATOR_INTENTS = {
    corpus.PRAISE: Intent.PRAISE,
    corpus.QUESTION: Intent.QUESTION,
    corpus.COMPLAINT: Intent.COMPLAINT,
    corpus.SPAM: Intent.SPAM,
    corpus.INSULT: Intent.ABUSE,
    corpus.OFF_TOPIC: Intent.OTHER,
}


def accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    if not truth:
        return 0.0
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)


def macro_f1(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Mean F1 over the classes in `truth`: a model that always answers one class scores low."""
    classes = set(truth)
    if not classes:
        return 0.0
    total = 0.0
    for cls in classes:
        hits = sum(t == cls and p == cls for t, p in zip(truth, predicted, strict=True))
        said = sum(p == cls for p in predicted)
        real = sum(t == cls for t in truth)
        total += 2 * hits / (said + real) if hits else 0.0
    return total / len(classes)


def majority_baseline(truth: Sequence[Hashable]) -> tuple[float, float]:
    """Accuracy and macro-F1 of always answering the most frequent class."""
    if not truth:
        return 0.0, 0.0
    most = max(set(truth), key=list(truth).count)
    guesses = [most] * len(truth)
    return accuracy(truth, guesses), macro_f1(truth, guesses)
