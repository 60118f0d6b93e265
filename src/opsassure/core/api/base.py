"""The base every API endpoint stands on: scope, permissions, filters, transactions.

A domain endpoint is a few lines because tenant scoping, permissions, pagination, filtering
and the error format are handled here once.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from rest_framework import generics, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.core.tenancy import scoped


class ScopedSerializerMixin:
    """Restricts every related-object field to rows the requesting user may see.

    Without this, a user could attach their ticket to another customer's CI by guessing its
    id. A foreign row that is not visible is reported like a non-existent one.
    """

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields: dict[str, Any] = super().get_fields()  # type: ignore[misc]
        request = self.context.get("request")  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is None:
            return fields
        for field in fields.values():
            target = (
                field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
            )
            queryset = getattr(target, "queryset", None)
            if isinstance(target, serializers.RelatedField) and queryset is not None:
                manager: Any = queryset.model._default_manager
                if hasattr(manager, "visible_to"):
                    target.queryset = queryset.all() & manager.visible_to(user)
        return fields


class ScopedModelSerializer(ScopedSerializerMixin, serializers.ModelSerializer[Any]):
    pass


class ScopedViewSetMixin(generics.GenericAPIView[Any]):
    """Every queryset comes from ``Model.objects.visible_to(request.user)``.

    Subclasses set ``queryset`` (for the model, ordering and select_related) as usual; the
    scope is applied on top, so forgetting it is impossible.
    """

    def get_queryset(self) -> models.QuerySet[Any]:
        assert self.queryset is not None, f"{type(self).__name__} must set queryset"
        base = self.queryset.all()
        return base & scoped(base.model, self.request.user) if not base.query.is_sliced else base


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet[Any]):
    pass


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet[Any]):
    """CRUD in one transaction per request: a failed write leaves nothing behind."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            return super().create(request, *args, **kwargs)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            return super().update(request, *args, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            return super().destroy(request, *args, **kwargs)
