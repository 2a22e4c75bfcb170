"""The guidelines' safe renderer: escaped text, paragraphs, lists, links and nothing else."""

from __future__ import annotations

from tertulia.portal.render import render_guideline


def test_structure() -> None:
    html = render_guideline(
        "## Tono\n\nCercano y claro.\nSin jerga.\n\n- tutea\n- sonríe\n\n1. escucha\n2. responde"
    )
    assert html == (
        '<h3 dir="auto">Tono</h3>'
        '<p dir="auto">Cercano y claro.<br>Sin jerga.</p>'
        '<ul dir="auto"><li>tutea</li><li>sonríe</li></ul>'
        '<ol dir="auto"><li>escucha</li><li>responde</li></ol>'
    )


def test_hostile_text_stays_text() -> None:
    html = render_guideline(
        '<script>alert(1)</script>\n<a href="javascript:alert(1)">x</a> javascript:alert(2) '
        "[x](javascript:alert(3)) <img src=x onerror=alert(4)>"
    )
    assert "<script" not in html and '<a href="javascript' not in html and "<img" not in html
    assert "&lt;script&gt;" in html and 'href="javascript' not in html


def test_web_addresses_become_inert_links() -> None:
    html = render_guideline("Lee https://example.com/guia?a=1&b=2 antes")
    assert '<a href="https://example.com/guia?a=1&amp;b=2" rel="nofollow noopener">' in html
