"""Service-desk API: tickets and their actions, timeline, attachments, SLA clocks, escalations,
ratings. Thin: every write is one ``servicedesk.services`` call; every queryset is scoped."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from opsassure.core.api.base import ScopedReadOnlyViewSet, ScopedViewSetMixin
from opsassure.core.auth import request_user
from opsassure.servicedesk import attachments, ratings, services
from opsassure.servicedesk.api import serializers as s
from opsassure.servicedesk.errors import InvalidInputError
from opsassure.servicedesk.filtersets import SlaClockFilterSet, TicketFilterSet
from opsassure.servicedesk.models import (
    Attachment,
    Escalation,
    Rating,
    SlaClock,
    Ticket,
    TicketEvent,
)

ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    code: OpenApiResponse(
        response=inline_serializer(
            name=f"ServiceDeskError{code}",
            fields={
                "error": inline_serializer(
                    name=f"ServiceDeskErrorBody{code}",
                    fields={
                        "code": serializers.CharField(),
                        "message": serializers.CharField(),
                        "fields": serializers.DictField(),
                    },
                )
            },
        ),
        description=description,
    )
    for code, description in (
        (400, "Invalid input (field errors)"),
        (403, "Not allowed for your role"),
        (404, "No such ticket, or not visible to you"),
        (409, "Not allowed in the ticket's state (for transitions: fields.allowed)"),
    )
}


class TicketActionPermissions(permissions.BasePermission):
    """Ticket actions need only ``view_ticket``: the services decide who may do what (a
    customer may reply and rate, only staff may assign) and answer 403 with a reason."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(
            request.user
            and request.user.is_authenticated
            and request.user.has_perm("servicedesk.view_ticket")
        )


class TicketViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Ticket],
):
    """Tickets (incidents and service requests) of the customers you may see."""

    queryset = Ticket.objects.select_related("customer").prefetch_related("cis")
    serializer_class = s.TicketSerializer
    filterset_class = TicketFilterSet
    ordering_fields = ["created_at", "updated_at", "priority", "response_due", "resolution_due"]
    ordering = ["-created_at", "-id"]
    search_fields: list[str] = []  # the filterset's "q" searches number and title
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_names = frozenset(
        {"assign", "transition", "comment", "arrival", "rate", "events", "attachments"}
    )

    def get_permissions(self) -> Any:
        if self.action in self.action_names:
            return [TicketActionPermissions()]
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Ticket]:
        queryset = super().get_queryset()
        if not queryset.query.order_by:
            queryset = queryset.order_by("-created_at", "-id")
        return queryset

    def _ticket_response(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=ticket.pk)
        return Response(s.TicketSerializer(fresh, context=self.get_serializer_context()).data, code)

    def _valid(self, serializer_class: type[Any], **kwargs: Any) -> dict[str, Any]:
        serializer = serializer_class(
            data=self.request.data, context=self.get_serializer_context(), **kwargs
        )
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        return data

    @extend_schema(
        request=s.TicketCreateSerializer,
        responses={201: s.TicketSerializer, **ERROR_RESPONSES},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Open a ticket (numbers it, sets priority and SLA policy, starts the clocks)."""
        data = self._valid(s.TicketCreateSerializer)
        user = request_user(request)
        customer = data.pop("customer", None)
        if customer is None:
            if user.customer is None:
                raise InvalidInputError({"customer": _("This field is required.")})
            customer = user.customer
        data["cis"] = data.get("cis", [])
        with transaction.atomic():
            ticket = services.create_ticket(actor=user, customer=customer, **data)
        return self._ticket_response(ticket, status.HTTP_201_CREATED)

    @extend_schema(
        request=s.TicketUpdateSerializer,
        responses={200: s.TicketSerializer, **ERROR_RESPONSES},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change fields; a new priority or policy re-targets the SLA clocks."""
        ticket = self.get_object()
        data = self._valid(s.TicketUpdateSerializer, partial=True)
        with transaction.atomic():
            ticket = services.update_ticket(ticket, actor=request_user(request), **data)
        return self._ticket_response(ticket)

    @extend_schema(
        request=s.AssignSerializer, responses={200: s.TicketSerializer, **ERROR_RESPONSES}
    )
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        """Assign a team and/or an engineer (provider staff)."""
        ticket = self.get_object()
        data = self._valid(s.AssignSerializer)
        with transaction.atomic():
            ticket = services.assign(
                ticket,
                actor=request_user(request),
                team=data.get("team"),
                assignee=data.get("assignee"),
            )
        return self._ticket_response(ticket)

    @extend_schema(
        request=s.TransitionSerializer, responses={200: s.TicketSerializer, **ERROR_RESPONSES}
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Change the status; 409 lists the allowed moves in ``error.fields.allowed``."""
        ticket = self.get_object()
        data = self._valid(s.TransitionSerializer)
        with transaction.atomic():
            ticket = services.transition(ticket, actor=request_user(request), **data)
        return self._ticket_response(ticket)

    @extend_schema(
        request=s.CommentSerializer,
        responses={201: s.TicketEventSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str | None = None) -> Response:
        """A public reply, or an internal note (``public: false``, provider staff)."""
        ticket = self.get_object()
        data = self._valid(s.CommentSerializer)
        with transaction.atomic():
            event = services.add_reply(
                ticket, actor=request_user(request), body=data["body"], public=data["public"]
            )
        return Response(s.TicketEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ArrivalSerializer, responses={200: s.TicketSerializer, **ERROR_RESPONSES}
    )
    @action(detail=True, methods=["post"])
    def arrival(self, request: Request, pk: str | None = None) -> Response:
        """Record the engineer's arrival on site (stops the arrival clock)."""
        ticket = self.get_object()
        data = self._valid(s.ArrivalSerializer)
        with transaction.atomic():
            ticket = services.record_arrival(ticket, actor=request_user(request), at=data.get("at"))
        return self._ticket_response(ticket)

    @extend_schema(request=s.RateSerializer, responses={201: s.RatingSerializer, **ERROR_RESPONSES})
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, pk: str | None = None) -> Response:
        """Rate a resolved ticket 1–5 (the customer; once per ticket)."""
        ticket = self.get_object()
        data = self._valid(s.RateSerializer)
        with transaction.atomic():
            rating = services.rate(ticket, actor=request_user(request), **data)
        return Response(s.RatingSerializer(rating).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.TicketEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str | None = None) -> Response:
        """The ticket's timeline, oldest first (internal entries only for provider staff)."""
        ticket = self.get_object()
        user = request.user
        queryset = (
            TicketEvent.objects.visible_to(user)
            .filter(ticket=ticket)
            .select_related("actor")
            .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.visible_to(user)))
            .order_by("created_at", "id")
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.TicketEventSerializer(page, many=True).data)

    @extend_schema(methods=["GET"], responses=s.AttachmentSerializer(many=True), request=None)
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": s.UploadSerializer},
        responses={
            201: s.AttachmentSerializer,
            413: ERROR_RESPONSES[400],
            415: ERROR_RESPONSES[400],
            **ERROR_RESPONSES,
        },
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        """The ticket's files; POST (multipart: ``file``, ``public``) adds one (413/415)."""
        ticket = self.get_object()
        if request.method == "GET":
            queryset = (
                Attachment.objects.visible_to(request.user)
                .filter(ticket=ticket)
                .order_by("created_at", "id")
            )
            page = self.paginate_queryset(queryset)
            return self.get_paginated_response(s.AttachmentSerializer(page, many=True).data)
        data = self._valid(s.UploadSerializer)
        with transaction.atomic():
            attachment = attachments.add_attachment(
                ticket, actor=request_user(request), upload=data["file"], public=data["public"]
            )
        return Response(s.AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentViewSet(ScopedReadOnlyViewSet):
    """Files on the tickets you may see (private ones only for provider staff)."""

    queryset = Attachment.objects.select_related("ticket").order_by("-created_at", "-id")
    serializer_class = s.AttachmentSerializer
    filterset_fields = ["ticket"]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> Any:
        """The file itself, as a download."""
        return attachments.download_response(self.get_object())


class SlaClockViewSet(ScopedReadOnlyViewSet):
    """SLA clocks (and, for provider staff, OLA clocks) of the tickets you may see."""

    queryset = SlaClock.objects.order_by("ticket_id", "metric", "id")
    serializer_class = s.SlaClockSerializer
    filterset_class = SlaClockFilterSet


class EscalationViewSet(ScopedReadOnlyViewSet):
    """Escalations fired by the SLA sweep (functional and hierarchical)."""

    queryset = Escalation.objects.select_related("clock").order_by("-created_at", "-id")
    serializer_class = s.EscalationSerializer
    filterset_fields = ["ticket", "kind", "trigger"]


class RatingViewSet(ScopedReadOnlyViewSet):
    """Satisfaction ratings of the tickets you may see."""

    queryset = Rating.objects.order_by("-created_at", "-id")
    serializer_class = s.RatingSerializer
    filterset_fields = ["ticket", "score"]


class RateByTokenView(APIView):
    """The e-mailed rating link: no login, the signed token is the credential."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        request=s.RateByTokenSerializer,
        responses={201: s.RatingSerializer, **ERROR_RESPONSES},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        payload = s.RateByTokenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data: dict[str, Any] = payload.validated_data
        with transaction.atomic():
            rating = ratings.rate_with_token(
                data["token"], score=data["score"], comment=data["comment"]
            )
        return Response(s.RatingSerializer(rating).data, status=status.HTTP_201_CREATED)
