"""The access-token page: a person sees their tokens, creates one (shown once) and revokes one."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import services
from .forms import LoginForm, TokenCreateForm
from .login_throttle import DEVICE_COOKIE, DEVICE_COOKIE_MAX_AGE


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        device = getattr(self.request, "login_device_cookie", None)
        if device:
            # This browser has logged into the account: failed logins elsewhere cannot lock it out.
            response.set_cookie(
                DEVICE_COOKIE,
                device,
                max_age=DEVICE_COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=self.request.is_secure(),
            )
        return response


@login_required
def access_tokens(request):
    form = TokenCreateForm(request.POST or None, user=request.user)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_token = services.token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                organisation=form.cleaned_data["organisation"],
                read_only=form.cleaned_data["read_only"],
                expires_at=services.token_expiry_in_days(form.cleaned_data["expires_in_days"]),
            )
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            form = TokenCreateForm(user=request.user)
    tokens = request.user.access_tokens.filter(revoked_at__isnull=True).select_related("organisation")
    response = render(request, "accounts/access_tokens.html", {"form": form, "tokens": tokens, "new_token": new_token})
    response["Cache-Control"] = "no-store"  # the clear token must not linger in any cache
    return response


@login_required
@require_POST
def access_token_revoke(request, token_uuid):
    token = get_object_or_404(request.user.access_tokens, pk=token_uuid)
    services.token_revoke(token=token)
    messages.success(request, f"Token {token.prefix}… revoked.")
    return redirect("accounts:access-tokens")
