from django import forms

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
