from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.pagination import CursorPagination, PageNumberPagination


def _require_ordering(queryset: Any) -> None:
    if hasattr(queryset, "ordered") and not queryset.ordered:
        # Unordered pagination silently repeats and skips rows between pages.
        raise ImproperlyConfigured(
            f"refusing to paginate an unordered queryset of {queryset.model}"
        )


class OrderedPageNumberPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        _require_ordering(queryset)
        return super().paginate_queryset(queryset, request, view)


class StableCursorPagination(CursorPagination):
    """For big, append-mostly tables: no COUNT(*), stable under inserts."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"
