"""Test URLconf: the site plus the configuration audit pages under the "cmdb" namespace.

``cmdb/urls_compliance.py`` is meant to be included from ``cmdb/urls.py``. Until that include
exists, this module mounts it (together with whatever ``cmdb/urls.py`` already has, and a stub
CI detail page if there is none yet) so the views can be tested; once the include is there,
it is simply the site's own URLconf.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, URLResolver, include, path, reverse

import opsassure.urls as site
from opsassure.cmdb import urls_compliance


def _reverses(name: str, *args: Any) -> bool:
    try:
        reverse(name, urlconf=site, args=args)
    except NoReverseMatch:
        return False
    return True


def _stub_ci_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(f"CI {pk}")


if _reverses("cmdb:compliance"):
    urlpatterns = list(site.urlpatterns)
else:
    cmdb_patterns: list[Any] = []
    if find_spec("opsassure.cmdb.urls") is not None:
        cmdb_patterns = list(import_module("opsassure.cmdb.urls").urlpatterns)
    cmdb_patterns += urls_compliance.urlpatterns
    if not _reverses("cmdb:ci-detail", 1):
        cmdb_patterns.append(path("cis/<int:pk>/", _stub_ci_detail, name="ci-detail"))
    others = [
        p for p in site.urlpatterns if not (isinstance(p, URLResolver) and p.namespace == "cmdb")
    ]
    urlpatterns = [path("cmdb/", include((cmdb_patterns, "cmdb"))), *others]
