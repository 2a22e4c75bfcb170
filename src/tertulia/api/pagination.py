"""Limit/offset pagination with bounded parameters (an unbounded offset would overflow the database)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload

from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 10_000_000

Out = TypeVar("Out")


class Pagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}.")
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)


class Mapped(Sequence[Out]):
    """A queryset whose rows become answers only for the page asked for: the pagination counts in the
    database and slices there, and `build` runs for that page's rows alone (not for every row)."""

    def __init__(self, rows: QuerySet[Any], build: Callable[[Any], Out]) -> None:
        self.rows = rows
        self.build = build

    def __len__(self) -> int:
        return self.rows.count()

    @overload
    def __getitem__(self, index: int) -> Out: ...
    @overload
    def __getitem__(self, index: slice) -> list[Out]: ...
    def __getitem__(self, index: int | slice) -> Out | list[Out]:
        if isinstance(index, slice):
            return [self.build(row) for row in self.rows[index]]
        return self.build(self.rows[index])
