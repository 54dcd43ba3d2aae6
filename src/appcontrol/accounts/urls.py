from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("access-tokens/", views.access_tokens, name="access-tokens"),
    path("access-tokens/<uuid:token_uuid>/revoke/", views.access_token_revoke, name="access-token-revoke"),
    # Where the hosted control panel has this page.
    path("desktop-app/access-token/", RedirectView.as_view(pattern_name="accounts:access-tokens")),
]
