"""`tertulia nlp sentiment` and `tertulia nlp language`: one answer per input line, for batch use."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import IO

from tertulia.nlp.language import detect_language
from tertulia.nlp.normalize import normalize
from tertulia.nlp.sentiment import score

CHUNK = 1_000


def _chunks(stream: IO[str], size: int = CHUNK) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in stream:
        chunk.append(line.rstrip("\r\n"))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def label_lines(
    label: Callable[[str], str], stream: IO[str] | None = None, out: IO[str] | None = None
) -> None:
    """Exactly one output line per input line, blank ones included, so outputs zip with inputs."""
    out = out or sys.stdout
    for chunk in _chunks(stream or sys.stdin):
        out.write("".join(label(line) + "\n" for line in chunk))
        out.flush()


def sentiment_of(line: str) -> str:
    return score(normalize(line))[0].value


def language_of(line: str) -> str:
    # "und" is ISO 639's "undetermined": too short, or no language we are sure of.
    return detect_language(normalize(line)) or "und"


def plus_problem() -> str:
    """Why `--model plus` cannot run here, in one line, or "" when it can."""
    from tertulia.nlp import plus

    if plus.available():
        return ""
    if not plus.MODEL_PATH.exists():
        return f"the plus sentiment model's heads file is missing: {plus.MODEL_PATH}"
    return (
        "the plus sentiment model needs the sentiment-plus extra: "
        "pip install -c requirements/lock.txt -e '.[sentiment-plus]'"
    )


def label_lines_plus(stream: IO[str] | None = None, out: IO[str] | None = None) -> None:
    """Like `label_lines(sentiment_of)` with the plus model, a batch of lines at a time (it is slow:
    answers come every 64 lines)."""
    from tertulia.nlp import plus

    out = out or sys.stdout
    for chunk in _chunks(stream or sys.stdin, plus.BATCH):
        out.write("".join(label.value + "\n" for label, _ in plus.classify_many(chunk)))
        out.flush()
