"""Who may see which customer's data. Every queryset's ``visible_to(user)`` asks this module."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from opsassure.core.models.users import User

_CACHE_ATTR = "_opsassure_visible_customer_ids"


def is_provider_staff(user: User | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated and user.is_active and getattr(user, "customer_id", 1) is None
    )


def visible_customer_ids(user: User | AnonymousUser) -> frozenset[int] | None:
    """The ids of the customers ``user`` may see, or None for all of them.

    - inactive or anonymous: none;
    - superusers and holders of ``core.access_all_customers``: all;
    - customer users: their own customer;
    - other provider staff: the customers served by the teams they belong to.

    Cached on the user object for the duration of a request.
    """
    if hasattr(user, _CACHE_ATTR):
        cached: frozenset[int] | None = getattr(user, _CACHE_ATTR)
        return cached
    result: frozenset[int] | None
    if not user.is_authenticated or not user.is_active:
        result = frozenset()
    elif user.is_superuser or user.has_perm("core.access_all_customers"):
        result = None
    elif user.customer_id is not None:
        result = frozenset({user.customer_id})
    else:
        from opsassure.core.models.tenancy import Customer

        result = frozenset(
            Customer.objects.filter(teams__members=user, teams__is_active=True)
            .values_list("id", flat=True)
            .distinct()
        )
    setattr(user, _CACHE_ATTR, result)
    return result


def forget_visibility(user: Any) -> None:
    """Drop the cached scope (after team membership or role changes in the same request)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def scoped(model: type[models.Model], user: User | AnonymousUser) -> models.QuerySet[Any]:
    """``model``'s rows visible to ``user``; refuses models that declare no scope."""
    manager: Any = model._default_manager
    if not hasattr(manager, "visible_to"):
        raise TypeError(f"{model._meta.label} has no tenant scope (visible_to)")
    return manager.visible_to(user)
