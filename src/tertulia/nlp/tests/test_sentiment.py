"""The shipped sentiment model against held-out UMSAB tweets (fixtures/umsab, never seen in training)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tertulia.nlp import sentiment
from tertulia.nlp.evaluation import macro_f1, majority_baseline
from tertulia.nlp.normalize import normalize
from tertulia.nlp.result import Sentiment
from tertulia.nlp.sentiment import MODEL_PATH, LinearModel
from tertulia.nlp.training.train_sentiment import Example, predict, read_split

UMSAB = Path(__file__).parent / "fixtures" / "umsab"
# Hindi is left out of the per-language check: its UMSAB tweets are mostly romanised Hindi mixed
# with English, and the model does no better than chance on them (docs/nlp.md says so).
CHECKED = ("arabic", "english", "french", "german", "italian", "portuguese", "spanish")
# Always answering the majority class scores 0.167 macro-F1 on these balanced splits. The model
# measured 0.53 to 0.62 per language (0.55 over all eight) when it was trained; a model that has
# lost its features, or mixes up the labels, falls far below these floors.
FLOOR_PER_LANGUAGE = 0.45
FLOOR_OVERALL = 0.50


@pytest.fixture(scope="module")
def validation() -> list[Example]:
    return read_split(UMSAB, "val")


def _f1(model: LinearModel, examples: list[Example]) -> float:
    return macro_f1([e.label for e in examples], predict(model, examples))


@pytest.mark.parametrize("language", CHECKED)
def test_beats_the_majority_baseline_per_language(validation, language):
    examples = [e for e in validation if e.language == language]
    _, baseline = majority_baseline([e.label for e in examples])
    assert baseline < 0.2
    assert _f1(sentiment.model(), examples) >= FLOOR_PER_LANGUAGE


def test_beats_the_majority_baseline_overall(validation):
    assert len(validation) == 8 * 324
    assert _f1(sentiment.model(), validation) >= FLOOR_OVERALL


def test_the_check_can_fail(validation):
    """A model with no features answers one class for everything, and is caught."""
    blank = LinearModel(bias=(0.0, 0.1, 0.0), weights={})
    assert _f1(blank, validation) < FLOOR_PER_LANGUAGE


def test_artifact_is_small_and_well_formed():
    assert MODEL_PATH.stat().st_size < 3 * 1024 * 1024
    model = sentiment.load(MODEL_PATH)
    assert 5_000 < len(model.weights) < 200_000


def test_scores_and_labels():
    label, score = sentiment.score(normalize("Me encanta, muchísimas gracias!! 😍"))
    assert label is Sentiment.POSITIVE and 0 < score <= 1
    label, score = sentiment.score(normalize("Horrible, the worst service ever 😡"))
    assert label is Sentiment.NEGATIVE and -1 <= score < 0
    assert sentiment.score(normalize("")) == (Sentiment.NEUTRAL, 0.0)


def test_classify_picks_the_most_probable():
    assert sentiment.classify((0.2, 0.5, 0.3)) == (Sentiment.NEUTRAL, 0.1)
    assert sentiment.classify((0.6, 0.3, 0.1)) == (Sentiment.NEGATIVE, -0.5)
