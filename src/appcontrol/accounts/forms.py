from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from .login_throttle import wait_message
from .models import Organisation


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="What the token is for.")
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="All my organisations",
        help_text="Restrict the token to one organisation.",
    )
    read_only = forms.BooleanField(required=False, help_text="Allow reading only.")
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=3650, required=False, help_text="Leave empty for a token that does not expire."
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(memberships__user=user)


class ThrottledLoginMixin:
    """Says "try again in …" when the throttle refused the attempt, rather than "wrong password"."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            wait = getattr(self.request, "login_wait_seconds", None)
            if wait:
                raise ValidationError(wait_message(wait), code="throttled") from None
            raise


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    # One message for a wrong password and for an API-only account (which has none): it helps both, and
    # does not tell a stranger which addresses have an account of which kind.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "The email or the password is wrong. API-only accounts have no password and cannot log in here: "
            "an operator gives them tokens with `appcontrol tokens create`."
        ),
    }
