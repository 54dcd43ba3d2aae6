from django.contrib import admin
from django.urls import include, path, re_path

from appcontrol import api_urls
from appcontrol.core.views import api_not_found, home
from appcontrol.deployments.git_http import serve as git_serve

urlpatterns = [
    path("", home, name="home"),
    path("apps/v3/", include(("appcontrol.api_urls", "api"))),
    path("iam/v3/", include(("appcontrol.accounts.api.urls", "iam"))),
    path("billing/v3/", include((api_urls.billing_urlpatterns, "billing"))),
    path("legacy/v3/", include((api_urls.legacy_urlpatterns, "legacy"))),
    re_path(r"^(?:iam|apps|billing|legacy)(?:/.*)?$", api_not_found),
    # Hosted repositories: git's smart HTTP protocol, not part of the API (nor of its schema).
    re_path(r"^git/(?P<path>.*)$", git_serve, name="git"),
    path("account/", include("appcontrol.accounts.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "appcontrol.core.views.bad_request"
handler404 = "appcontrol.core.views.not_found"
handler500 = "appcontrol.core.views.server_error"
