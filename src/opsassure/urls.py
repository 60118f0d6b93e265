from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from opsassure.core import health
from opsassure.core.api.router import router
from opsassure.core.appmodules import import_app_modules
from opsassure.core.metrics import metrics_view
from opsassure.web import views as web_views
from opsassure.web.forms import LoginForm

# Every OpsAssure app registers its API viewsets in <app>/api/urls.py on the shared router and
# may have UI routes in <app>/urls.py, mounted at /<app label>/.
api_modules = import_app_modules("api.urls")
# A few API routes cannot be router viewsets (machine formats such as the Prometheus service
# discovery list); an app lists them in ``urlpatterns`` of its api/urls.py, and tests their
# tenant isolation itself (the generic walk covers router routes only).
api_extra_patterns = [
    path("api/v1/", include(module.urlpatterns))
    for _label, module in api_modules
    if hasattr(module, "urlpatterns")
]
app_ui_patterns = [
    path(f"{label}/", include(module)) for label, module in import_app_modules("urls")
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("favicon.ico", web_views.favicon, name="favicon"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm,
            template_name="web/login.html",
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The apps' plain API routes (alert ingest among them: thousands of requests a second)
    # come before the router's few hundred patterns, which Django would otherwise try first.
    *api_extra_patterns,
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    *app_ui_patterns,
    path("", include("opsassure.web.urls")),
]

handler400 = web_views.bad_request
handler403 = web_views.permission_denied
handler404 = web_views.page_not_found
handler500 = web_views.server_error
