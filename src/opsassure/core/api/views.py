from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from opsassure.core import services
from opsassure.core.api import serializers as s
from opsassure.core.api.base import ScopedModelViewSet, ScopedReadOnlyViewSet, ScopedViewSetMixin
from opsassure.core.api.pagination import StableCursorPagination
from opsassure.core.auth import request_user
from opsassure.core.filtersets import (
    AuditEventFilterSet,
    CustomerContactFilterSet,
    CustomerFilterSet,
    TeamFilterSet,
    UserFilterSet,
)
from opsassure.core.models import ApiToken, AuditEvent, Customer, CustomerContact, Team, User


class CustomerViewSet(ScopedModelViewSet):
    queryset = Customer.objects.order_by("code")
    serializer_class = s.CustomerSerializer
    filterset_class = CustomerFilterSet
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "created_at"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class CustomerContactViewSet(ScopedModelViewSet):
    queryset = CustomerContact.objects.select_related("customer").order_by("customer_id", "id")
    serializer_class = s.CustomerContactSerializer
    filterset_class = CustomerContactFilterSet
    search_fields = ["name", "phone", "email"]


class TeamViewSet(ScopedModelViewSet):
    queryset = (
        Team.objects.select_related("lead")
        .prefetch_related("members", "customers")
        .order_by("code")
    )
    serializer_class = s.TeamSerializer
    filterset_class = TeamFilterSet
    search_fields = ["code", "name"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class UserViewSet(ScopedReadOnlyViewSet):
    queryset = User.objects.prefetch_related("groups").order_by("username")
    serializer_class = s.UserSerializer
    filterset_class = UserFilterSet
    search_fields = ["username", "display_name", "email"]

    @extend_schema(request=s.ProfileSerializer, responses=s.ProfileSerializer)
    @action(detail=False, methods=["get", "patch"], serializer_class=s.ProfileSerializer)
    def me(self, request: Request) -> Response:
        """The signed-in user's own profile (language, time zone, IM ids)."""
        if request.method == "PATCH":
            serializer = s.ProfileSerializer(request_user(request), data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            serializer.save()
            return Response(serializer.data)
        return Response(s.ProfileSerializer(request_user(request)).data)

    def get_permissions(self) -> Any:
        # Everyone may read and edit their own profile; the rest needs core.view_user.
        self.skip_model_permissions = self.action == "me"
        return super().get_permissions()


class ApiTokenViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[ApiToken],
):
    """Your own API tokens. Creating returns the key once; DELETE revokes (keeps the record)."""

    queryset = ApiToken.objects.order_by("-created_at", "-id")
    serializer_class = s.ApiTokenSerializer
    skip_model_permissions = True

    @extend_schema(responses={201: s.IssuedTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.create_token(
            request_user(request),
            serializer.validated_data["name"],
            serializer.validated_data.get("expires_at"),
        )
        data = s.IssuedTokenSerializer(issued.token).data
        data["key"] = issued.key
        return Response(data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        token = self.get_object()
        services.revoke_token(token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AuditEventViewSet(ScopedReadOnlyViewSet):
    """The hash-chained audit trail (auditors and service managers)."""

    queryset = AuditEvent.objects.order_by("-seq")
    serializer_class = s.AuditEventSerializer
    filterset_class = AuditEventFilterSet
    pagination_class = StableCursorPagination
    ordering_fields: list[str] = []
    search_fields = ["object_repr", "actor_username"]
