"""Train the sentiment model on UMSAB and write data/sentiment.json.gz.

UMSAB (Unified Multilingual Sentiment Analysis Benchmark; Barbieri et al., XLM-T, Apache-2.0)
has 1,838 training and 323 validation tweets per language, balanced across negative, neutral
and positive, in Arabic, English, French, German, Hindi, Italian, Portuguese and Spanish.

    python -m tertulia.nlp.training.train_sentiment --data ../shared/data/umsab

Plain Python, no numerical library: multinomial logistic regression fitted by AdaGrad, over the
same features the scorer reads (features.py). One model for all languages: their vocabularies
barely overlap, and emoji and punctuation cues are shared. 10 % of the training split (chosen
by a hash of the text, so the same every run) is held back to pick the number of epochs; the
validation split is only for the figures in docs/nlp.md. A run takes about a minute and gives
the same bytes every time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tertulia.nlp.evaluation import accuracy, macro_f1
from tertulia.nlp.features import features
from tertulia.nlp.normalize import normalize
from tertulia.nlp.sentiment import MODEL_PATH, LinearModel, Scores

LANGUAGES = ("arabic", "english", "french", "german", "hindi", "italian", "portuguese", "spanish")


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: int  # 0 negative, 1 neutral, 2 positive
    language: str  # UMSAB's folder name


def read_split(root: Path, split: str, languages: Sequence[str] = LANGUAGES) -> list[Example]:
    """`<root>/<language>/<split>_text.txt` and `_labels.txt`, one tweet and one label a line."""
    examples = []
    for language in languages:
        texts = (root / language / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
        labels = (root / language / f"{split}_labels.txt").read_text(encoding="utf-8").split()
        if len(texts) != len(labels):
            raise ValueError(f"{language}/{split}: {len(texts)} texts but {len(labels)} labels")
        examples += [Example(t, int(y), language) for t, y in zip(texts, labels, strict=True)]
    return examples


def held_back(example: Example, percent: int = 10) -> bool:
    return zlib.crc32(example.text.encode("utf-8")) % 100 < percent


def fit(
    data: Sequence[tuple[frozenset[str], int]],
    *,
    epochs: int,
    rate: float = 0.05,
    l2: float = 1e-3,
    seed: int = 1,
) -> Iterator[LinearModel]:
    """Multinomial logistic regression by AdaGrad: the model after each epoch, in turn.

    L2 is applied to the features an example has, when it has them (the usual lazy shortcut).
    """
    weights: dict[str, list[float]] = {}
    squares: dict[str, list[float]] = {}
    bias = [0.0, 0.0, 0.0]
    bias_squares = [1e-8, 1e-8, 1e-8]
    order = list(range(len(data)))
    shuffle = random.Random(seed).shuffle  # noqa: S311 - a reproducible order, not a secret
    for _ in range(epochs):
        shuffle(order)
        for index in order:
            present, label = data[index]
            rows = [weights.setdefault(f, [0.0, 0.0, 0.0]) for f in present]
            logits = list(bias)
            for row in rows:
                for k in range(3):
                    logits[k] += row[k]
            top = max(logits)
            exps = [math.exp(v - top) for v in logits]
            total = sum(exps)
            gradient = [e / total - (k == label) for k, e in enumerate(exps)]
            for k in range(3):
                bias_squares[k] += gradient[k] ** 2
                bias[k] -= rate * gradient[k] / math.sqrt(bias_squares[k])
            for feature, row in zip(present, rows, strict=True):
                acc = squares.setdefault(feature, [1e-8, 1e-8, 1e-8])
                for k in range(3):
                    g = gradient[k] + l2 * row[k]
                    acc[k] += g * g
                    row[k] -= rate * g / math.sqrt(acc[k])
        yield LinearModel(
            bias=(bias[0], bias[1], bias[2]),
            weights={f: (w[0], w[1], w[2]) for f, w in weights.items()},
        )


def compact(model: LinearModel, keep: set[str], digits: int = 3) -> LinearModel:
    """Only features seen often enough to be trusted, rounded: the artifact stays small."""
    weights: dict[str, Scores] = {}
    for feature, w in model.weights.items():
        rounded = (round(w[0], digits), round(w[1], digits), round(w[2], digits))
        if feature in keep and any(rounded):
            weights[feature] = rounded
    bias = model.bias
    return LinearModel(
        bias=(round(bias[0], digits), round(bias[1], digits), round(bias[2], digits)), weights=weights
    )


def predict(model: LinearModel, examples: Sequence[Example]) -> list[int]:
    predictions = []
    for example in examples:
        probabilities = model.probabilities(features(normalize(example.text)))
        predictions.append(max(range(3), key=probabilities.__getitem__))
    return predictions


def report(model: LinearModel, examples: Sequence[Example]) -> dict[str, dict[str, float]]:
    """Accuracy and macro-F1 per language and over all, rounded for the docs."""
    figures = {}
    for language in [*sorted({e.language for e in examples}), "all"]:
        subset = [e for e in examples if language in ("all", e.language)]
        truth, predicted = [e.label for e in subset], predict(model, subset)
        figures[language] = {
            "n": len(subset),
            "accuracy": round(accuracy(truth, predicted), 3),
            "macro_f1": round(macro_f1(truth, predicted), 3),
        }
    return figures


def vectorize(examples: Sequence[Example]) -> list[tuple[frozenset[str], int]]:
    return [(frozenset(features(normalize(e.text))), e.label) for e in examples]


def train(
    train_split: Sequence[Example], *, max_epochs: int = 10, min_count: int = 2
) -> tuple[LinearModel, int]:
    """Pick the epoch count on the held-back tenth, then refit on the whole training split."""
    fitting = [e for e in train_split if not held_back(e)]
    tuning = [e for e in train_split if held_back(e)]
    truth = [e.label for e in tuning]
    best_epochs, best_f1 = 1, -1.0
    for epochs, candidate in enumerate(fit(vectorize(fitting), epochs=max_epochs), start=1):
        f1 = macro_f1(truth, predict(candidate, tuning))
        if f1 > best_f1:
            best_epochs, best_f1 = epochs, f1
    everything = vectorize(train_split)
    counts = Counter(f for present, _ in everything for f in present)
    keep = {f for f, n in counts.items() if n >= min_count}
    *_, final = fit(everything, epochs=best_epochs)
    return compact(final, keep), best_epochs


def save(model: LinearModel, path: Path, **about: object) -> None:
    payload = json.dumps(model.to_json(**about), ensure_ascii=False, separators=(",", ":"))
    # mtime=0: the same model gives the same bytes, so retraining without a change is no diff.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as file:
        file.write(payload.encode("utf-8"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="the UMSAB folder (one folder per language)")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model")
    args = parser.parse_args(argv)
    train_split = read_split(args.data, "train")
    model, epochs = train(train_split)
    validation = report(model, read_split(args.data, "val"))
    save(
        model,
        args.out,
        data="UMSAB train split (Barbieri et al., XLM-T; Apache-2.0), 8 languages",
        examples=len(train_split),
        epochs=epochs,
        validation=validation,
    )
    print(f"{len(model.weights):,} features, {epochs} epochs, {args.out.stat().st_size:,} bytes → {args.out}")
    for language, figures in validation.items():
        print(
            f"{language:12s} n={figures['n']:5} accuracy={figures['accuracy']:.3f} "
            f"macro-F1={figures['macro_f1']:.3f}"
        )


if __name__ == "__main__":
    main()
