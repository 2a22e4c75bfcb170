"""Quality and speed of the two sentiment models on one core (docs/nlp-model-card.md).

The held-out UMSAB validation tweets shipped with the tests (324 per language; never used to fit
either model): macro-F1 and accuracy per language, and messages per second, one process, one
thread, each message distinct.

- fast (the default, nlp/sentiment.py): normalise + score, all eight languages, best of --repeat;
- plus (nlp/plus.py, with --plus; needs the sentiment-plus extra): classify_many over the Spanish
  and English tweets in batches of 64, one timed pass (it is slow), after loading the encoders
  (the load is timed separately).

Usage:

    python bench/sentiment.py [--repeat 5] [--plus] [--languages spanish english]

Prints one line per figure. No figure here is asserted anywhere: machines are noisy.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tertulia.nlp import sentiment
from tertulia.nlp.evaluation import accuracy, macro_f1
from tertulia.nlp.normalize import normalize
from tertulia.nlp.training.train_sentiment import LANGUAGES, Example, read_split

UMSAB = Path(__file__).resolve().parents[1] / "src/tertulia/nlp/tests/fixtures/umsab"
LABELS = ("negative", "neutral", "positive")


def quality(model: str, examples: Sequence[Example], said: Sequence[str]) -> None:
    for language in [*sorted({e.language for e in examples}), "all"]:
        rows = [i for i, e in enumerate(examples) if language in ("all", e.language)]
        truth = [LABELS[examples[i].label] for i in rows]
        guess = [said[i] for i in rows]
        print(
            f"  {model} {language:11s} n={len(rows):5,} accuracy={accuracy(truth, guess):.3f} "
            f"macro-F1={macro_f1(truth, guess):.3f}"
        )


def fast(examples: Sequence[Example], repeat: int) -> None:
    texts = [e.text for e in examples]
    best, said = float("inf"), []
    for _ in range(repeat):
        started = time.perf_counter()
        said = [sentiment.score(normalize(t))[0].value for t in texts]
        best = min(best, time.perf_counter() - started)
    print(f"fast: {len(texts) / best:,.0f} messages/s ({len(texts):,} tweets, best of {repeat})")
    quality("fast", examples, said)


def plus_model(examples: Sequence[Example]) -> None:
    from tertulia.nlp import plus

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS before the plus model: {rss:,.0f} MB")

    if not plus.available():
        print("plus: not available (pip install -c requirements/lock.txt -e '.[sentiment-plus]')")
        return
    started = time.perf_counter()
    plus.heads()
    encoders = plus.encoders()
    took, rss = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"plus: loading both encoders and the heads took {took:.1f} s (peak RSS now {rss:,.0f} MB)")
    texts = [e.text for e in examples]
    started = time.perf_counter()
    said = [label.value for label, _ in plus.classify_many(texts)]
    took = time.perf_counter() - started
    print(f"plus: {len(texts) / took:,.1f} messages/s ({len(texts):,} tweets, one pass, {took:.0f} s)")
    prepared = [plus.prepare(t) for t in texts[:256]]
    for name in plus.ENCODERS:
        started = time.perf_counter()
        for i in range(0, len(prepared), plus.BATCH):
            encoders.embed(name, prepared[i : i + plus.BATCH])
        rate = len(prepared) / (time.perf_counter() - started)
        print(f"  plus encoder {name}: {rate:,.1f} messages/s alone ({len(prepared)} tweets)")
    quality("plus", examples, said)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plus", action="store_true", help="also the plus model (slow: about a minute)")
    parser.add_argument("--languages", nargs="+", default=["spanish", "english"], help="for the plus model")
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()} on {platform.machine()}, {sys.platform}")
    fast(read_split(UMSAB, "val", LANGUAGES), args.repeat)
    if args.plus:
        plus_model(read_split(UMSAB, "val", args.languages))


if __name__ == "__main__":
    main()
