"""The training script end to end on a small sample: it learns, and writes a model the scorer reads."""

from __future__ import annotations

from pathlib import Path

from tertulia.nlp import sentiment
from tertulia.nlp.evaluation import accuracy, macro_f1, majority_baseline
from tertulia.nlp.training import train_sentiment

UMSAB = Path(__file__).parent / "fixtures" / "umsab"


def test_trains_and_round_trips(tmp_path):
    # The held-out split stands in for training data here: this checks the machinery, not quality.
    examples = train_sentiment.read_split(UMSAB, "val", ("spanish", "english"))
    model, epochs = train_sentiment.train(examples, max_epochs=3)
    assert 1 <= epochs <= 3
    truth = [e.label for e in examples]
    assert macro_f1(truth, train_sentiment.predict(model, examples)) > 0.6  # it fits what it saw

    path = tmp_path / "model.json.gz"
    train_sentiment.save(model, path, data="test")
    again = sentiment.load(path)
    assert again == model
    first = path.read_bytes()
    train_sentiment.save(model, path, data="test")
    assert path.read_bytes() == first  # reproducible bytes: no timestamp in the gzip header


def test_metrics():
    assert accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    assert macro_f1([0, 0, 1, 1], [0, 0, 1, 1]) == 1.0
    assert round(macro_f1([0, 1, 2], [0, 0, 0]), 3) == round((2 * 1 / 4) / 3, 3)
    assert majority_baseline([0, 0, 1]) == (2 / 3, (2 * 2 / 5) / 2)
