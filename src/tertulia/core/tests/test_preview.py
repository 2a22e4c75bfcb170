"""Notification previews (tertulia.core.preview): whole when they fit, cut at a word where one is
near, never inside what a person sees as one character."""

from __future__ import annotations

import pytest

from tertulia.core.preview import ELLIPSIS, boundaries, preview

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # three people joined by zero-width joiners
FLAG = "\U0001f1ea\U0001f1f8"  # two regional indicators make one flag
THUMB = "\U0001f44d\U0001f3fd"  # a thumb with a skin tone


def test_a_text_that_fits_is_whole_with_its_whitespace_folded() -> None:
    assert preview("hola\n\n  mundo ", 20) == "hola mundo"
    assert preview("x" * 10, 10) == "x" * 10


def test_the_preview_is_cut_at_a_word_with_an_ellipsis() -> None:
    cut = preview("una nota bastante larga para el aviso", 20)
    assert cut == "una nota bastante…" and len(cut) <= 20
    # One long "word" (a link) is cut inside rather than left almost empty.
    link = preview("ver https://example.com/" + "a" * 100, 30)
    assert link.startswith("ver https://example.com/") and len(link) == 30 and link.endswith(ELLIPSIS)


@pytest.mark.parametrize("cluster", [FAMILY, FLAG, THUMB, "e\u0301"])
def test_the_preview_never_cuts_inside_what_is_seen_as_one_character(cluster: str) -> None:
    text = cluster * 40
    for limit in range(2, 60):
        cut = preview(text, limit)
        assert len(cut) <= limit
        body = cut.removesuffix(ELLIPSIS)
        assert body == cluster * (len(body) // len(cluster)), (limit, cut)


def test_grapheme_boundaries() -> None:
    assert boundaries(f"a{FAMILY}b{FLAG}{FLAG}e\u0301{THUMB}") == [0, 1, 6, 7, 9, 11, 13, 15]
    assert boundaries("") == [0]
