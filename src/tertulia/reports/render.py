"""A report as self-contained HTML (inline CSS and SVG), as plain text, and as PDF via WeasyPrint.

WeasyPrint is imported when a PDF is asked for: if it or its system library (Pango) is missing,
`render_pdf` raises `PdfUnavailable` with a reason, and the caller sends the HTML alone. It may
fetch nothing but `data:` URIs: a report never makes its renderer reach the network or the disk.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import replace
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from tertulia.reports.build import Report

logger = logging.getLogger(__name__)


class PdfUnavailable(Exception):
    """The PDF could not be made; `reason` says why (for the run's record and the logs)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def render_html(report: Report) -> str:
    with translation.override(report.language):
        return render_to_string("reports/report.html", {"report": report})


def render_text(report: Report) -> str:
    with translation.override(report.language):
        return render_to_string("reports/report.txt", {"report": report})


def with_note(report: Report, note: str) -> Report:
    return replace(report, pdf_note=note)


def _weasyprint() -> Any:
    try:
        module = importlib.import_module("weasyprint")
        # Importing WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES, which would make the
        # media intake accept damaged uploads (tertulia.publishing.imaging.intake); reports embed no
        # raster images, so the flag goes back to Pillow's default.
        from PIL import ImageFile

        ImageFile.LOAD_TRUNCATED_IMAGES = False
        return module
    except (ImportError, OSError) as exc:  # OSError: the Pango library could not be loaded
        raise PdfUnavailable(
            f"WeasyPrint is not usable here ({exc.__class__.__name__}: {exc}); "
            "install it with its system libraries (Pango), see docs/reports.md"
        ) from None


def _data_only_fetcher(weasyprint: Any) -> Any:
    class DataOnly(weasyprint.urls.URLFetcher):  # type: ignore[misc]  # untyped library
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.lower().startswith("data:"):
                raise ValueError(f"reports fetch nothing but data: URIs (refused {url[:80]!r})")
            return super().fetch(url, headers)

    return DataOnly(allowed_protocols={"data"}, allow_redirects=False)


def render_pdf(html: str) -> bytes:
    """The PDF of a report's HTML, or `PdfUnavailable`."""
    weasyprint = _weasyprint()
    try:
        document = weasyprint.HTML(string=html, base_url=None, url_fetcher=_data_only_fetcher(weasyprint))
        pdf = document.write_pdf()
    except PdfUnavailable:
        raise
    except Exception as exc:  # a rendering bug must not stop the e-mail; it is recorded on the run
        logger.exception("report PDF failed")
        raise PdfUnavailable(f"the PDF could not be rendered ({exc.__class__.__name__})") from None
    return bytes(pdf)
