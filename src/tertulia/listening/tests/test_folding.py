"""The fast paths give exactly what the plain ones do: batch folding, and a link's host."""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from tertulia.listening.query.document import host_of
from tertulia.listening.query.folding import MAX_TEXT, fold, fold_many

texts = st.lists(
    st.one_of(
        st.text(max_size=60),
        st.text(
            alphabet="abcXYZ ñÑáÉß İı ς Σ \u200b\u202e\x1e \uff46\uff55\U0001d41b\U0001d428 \ufb01 #@.-",
            max_size=40,
        ),
    ),
    max_size=12,
)


@settings(max_examples=500, deadline=None)
@given(texts)
def test_fold_many_is_fold_of_each(batch: list[str]):
    expected = [fold(text[:MAX_TEXT].replace("\x1e", " ")) for text in batch]
    assert fold_many(batch) == expected


def test_fold_many_cuts_long_posts():
    assert fold_many(["A" * (MAX_TEXT + 10), "É" * (MAX_TEXT + 10)]) == ["a" * MAX_TEXT, "e" * MAX_TEXT]


def _slow_host(url: str) -> str:
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")


urls = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda scheme, host, rest: f"{scheme}{host}{rest}",
        st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "", " https://"]),
        st.text(alphabet="abcXYZ019.-_:@[]ñ", max_size=20),
        st.sampled_from(["", "/", "/path?q=1", "#frag", "?x", ":8080/", " "]),
    ),
)


@settings(max_examples=500, deadline=None)
@given(urls)
def test_host_of_fast_path_agrees_with_urlsplit(url: str):
    assert host_of(url) == _slow_host(url)


def test_dotted_capital_i_and_lone_surrogates_fold():
    assert fold("İSTANBUL İstanbul") == "istanbul istanbul"
    assert fold_many(["İstanbul", "vino \ud800 tinto"]) == ["istanbul", "vino \ufffd tinto"]
    assert fold("\udfff") == "\ufffd"
