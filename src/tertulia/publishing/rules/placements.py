"""Image placements: the shapes a network shows a post's image in, and the size to render each at.

An image module crops and resizes to these; the network rules say which ones a network takes
and which it uses by default. The ratio is the one networks document (1.91:1 is not exactly
1200 x 628, which is 1.911:1 — both are what Meta and LinkedIn publish, so both are kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _lazy


@dataclass(frozen=True)
class _Shape:
    ratio: tuple[float, float]  # width : height as documented, e.g. (1.91, 1)
    width: int
    height: int
    label: Promise


class Placement(StrEnum):
    SQUARE = "square"
    PORTRAIT = "portrait"
    LANDSCAPE = "landscape"
    STORY = "story"

    @property
    def _shape(self) -> _Shape:
        return _SHAPES[self]

    @property
    def aspect_ratio(self) -> float:
        """Width divided by height: 1.0, 0.8, 1.91, 0.5625."""
        width, height = self._shape.ratio
        return width / height

    @property
    def ratio_label(self) -> str:
        """The ratio as people write it: "1:1", "4:5", "1.91:1", "9:16"."""
        width, height = self._shape.ratio
        return f"{width:g}:{height:g}"

    @property
    def size(self) -> tuple[int, int]:
        """The target size in pixels, (width, height)."""
        return (self._shape.width, self._shape.height)

    @property
    def label(self) -> Promise:
        return self._shape.label


_SHAPES: dict[Placement, _Shape] = {
    Placement.SQUARE: _Shape((1, 1), 1080, 1080, _lazy("Square (1:1)")),
    Placement.PORTRAIT: _Shape((4, 5), 1080, 1350, _lazy("Portrait (4:5)")),
    Placement.LANDSCAPE: _Shape((1.91, 1), 1200, 628, _lazy("Landscape (1.91:1)")),
    Placement.STORY: _Shape((9, 16), 1080, 1920, _lazy("Story (9:16)")),
}
