"""The interface the inbox calls: names, types, batches, hints, and no exception ever."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tertulia import nlp
from tertulia.nlp import Analysis, Intent, Sentiment, Urgency, analyse, analyse_many, sentiment
from tertulia.nlp.analysis import UNANALYSED

HOSTILE = [
    "",
    " ",
    "\x00\x01\x02",
    "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>",
    "\u202e\u202dNo me ha llegado el pedido\u202c",  # bidi overrides
    "\u200b" * 10_000,
    "😡" * 30_000,
    "👨\u200d👩\u200d👧\u200d👦" * 2_000,  # joined family emoji
    "a" * 100_000,
    "Mi pedido no ha llegado. " * 5_000,  # 125 KB
    "\ud800",  # a lone surrogate, as broken JSON decoders produce
    "Mi pedido no ha llegado \udc80 todavía, nadie contesta",
    "\uff46\uff52\uff45\uff45 \uff4d\uff4f\uff4e\uff45\uff59 💰💰💰 https://example.com/x" * 100,  # fullwidth
    "%s %d {0} {{}} \\N{BULLET}",
]


def test_names_and_values_are_the_interface():
    assert nlp.__all__ == ["Analysis", "Intent", "Sentiment", "Urgency", "analyse", "analyse_many"]
    assert [s.value for s in Sentiment] == ["negative", "neutral", "positive"]
    assert [i.value for i in Intent] == ["question", "complaint", "praise", "spam", "abuse", "other"]
    assert [(u.name, u.value) for u in Urgency] == [("LOW", 0), ("NORMAL", 1), ("HIGH", 2), ("CRITICAL", 3)]
    assert [f.name for f in dataclasses.fields(Analysis)] == [
        "language",
        "sentiment",
        "sentiment_score",
        "intent",
        "urgency",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        analyse("hola").language = "en"  # type: ignore[misc]  # checking that frozen holds


def test_a_typical_message():
    result = analyse("Llevo dos semanas esperando el pedido y nadie me contesta, es inaceptable")
    assert result == Analysis(
        "es", result.sentiment, result.sentiment_score, Intent.COMPLAINT, Urgency.NORMAL
    )
    assert result.sentiment is Sentiment.NEGATIVE and result.sentiment_score < 0


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_never_raises(text):
    result = analyse(text)
    assert isinstance(result, Analysis)
    assert -1.0 <= result.sentiment_score <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500), st.one_of(st.none(), st.text(max_size=12)))
def test_any_text_and_any_hint(text, hint):
    result = analyse(text, language_hint=hint)
    assert result.language == "" or (len(result.language) == 2 and result.language.isalpha())
    assert -1.0 <= result.sentiment_score <= 1.0


def test_a_failure_inside_is_logged_and_the_message_kept(monkeypatch, caplog):
    def broken(text):
        raise RuntimeError("boom")

    monkeypatch.setattr(sentiment, "score", broken)
    assert analyse("hola") == UNANALYSED
    assert "analysis failed" in caplog.text


def test_many_keeps_order_and_uses_hints():
    texts = ["¡Gracias, sois geniales!", "Where is my refund? I've been waiting for weeks", "hola"]
    results = analyse_many(texts, language_hints=[None, "en-GB", "pt"])
    assert [r.intent for r in results] == [Intent.PRAISE, Intent.COMPLAINT, Intent.OTHER]
    assert [r.language for r in results] == ["es", "en", "pt"]
    assert results == [
        analyse(texts[0]),
        analyse(texts[1], language_hint="en-GB"),
        analyse("hola", language_hint="pt"),
    ]


def test_many_analyses_repeats_once(monkeypatch):
    calls = []
    real = nlp.analysis.analyse

    def counting(text, **kw):
        calls.append(text)
        return real(text, **kw)

    monkeypatch.setattr(nlp.analysis, "analyse", counting)
    results = analyse_many(["spam spam"] * 50 + ["otra cosa"])
    assert len(results) == 51 and len(calls) == 2


def test_many_with_no_texts():
    assert analyse_many([]) == []
    assert analyse_many([], language_hints=[]) == []


def test_hints_must_match_the_texts():
    with pytest.raises(ValueError, match="one language hint per text"):
        analyse_many(["a", "b"], language_hints=["es"])
