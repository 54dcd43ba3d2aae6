from django.contrib import admin
from django.urls import include, path, re_path

from appcontrol.core.views import api_not_found, home

urlpatterns = [
    path("", home, name="home"),
    path("apps/v3/", include(("appcontrol.api_urls", "api"))),
    path("iam/v3/", include(("appcontrol.accounts.api.urls", "iam"))),
    re_path(r"^(?:iam|apps|billing|legacy)(?:/.*)?$", api_not_found),
    path("account/", include("appcontrol.accounts.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "appcontrol.core.views.not_found"
handler500 = "appcontrol.core.views.server_error"
