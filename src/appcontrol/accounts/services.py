"""Account, organisation and token actions; views, commands and the admin all call these."""

from datetime import datetime, timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from appcontrol.core.exceptions import ActionError

from .models import AccessToken, Membership, Organisation, Role, User
from .tokens import generate_token, token_digest, token_prefix


class AccountError(ActionError):
    """An action that cannot be carried out, with a message meant for the person asking."""


def organisation_create(*, slug: str, name: str = "") -> Organisation:
    if Organisation.objects.filter(slug=slug).exists():
        raise AccountError(f"An organisation with the slug {slug!r} already exists.")
    return Organisation.objects.create(slug=slug, name=name or slug)


@transaction.atomic
def account_create(
    *,
    email: str,
    api_only: bool = False,
    password: str | None = None,
    organisation: Organisation | None = None,
    role: str = Role.MEMBER,
) -> User:
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email=email).exists():
        raise AccountError(f"An account with the email {email!r} already exists.")
    if api_only and password:
        raise AccountError("An API-only account has no password.")
    if password is not None:
        try:
            validate_password(password, user=User(email=email))
        except ValidationError as error:
            raise AccountError("The password is not good enough: " + " ".join(error.messages)) from None
    user = User.objects.create_user(email, password=password, is_api_only=api_only)
    if organisation is not None:
        membership_set(user=user, organisation=organisation, role=role)
    return user


def membership_set(*, user: User, organisation: Organisation, role: str) -> Membership:
    if role not in Role.values:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    membership, _ = Membership.objects.update_or_create(user=user, organisation=organisation, defaults={"role": role})
    return membership


def token_create(
    *,
    user: User,
    name: str = "",
    organisation: Organisation | None = None,
    read_only: bool = False,
    expires_at: datetime | None = None,
) -> tuple[AccessToken, str]:
    """Create a token and return it with its clear text, which is never stored and never shown again."""
    if organisation is not None and not user.memberships.filter(organisation=organisation).exists():
        raise AccountError(f"{user.email} is not a member of the organisation {organisation.slug!r}.")
    if expires_at is not None and expires_at <= timezone.now():
        raise AccountError("The expiry must lie in the future.")
    for _ in range(5):
        clear = generate_token()
        try:
            with transaction.atomic():
                token = AccessToken.objects.create(
                    user=user,
                    name=name,
                    prefix=token_prefix(clear),
                    digest=token_digest(clear),
                    organisation=organisation,
                    read_only=read_only,
                    expires_at=expires_at,
                )
        except IntegrityError:  # prefix collision: astronomically rare, but cheap to survive
            continue
        return token, clear
    raise AccountError("Could not generate a unique token; try again.")


def token_expiry_in_days(days: int | None) -> datetime | None:
    if days is None:
        return None
    if days < 1:
        raise AccountError("A token must live at least one day.")
    return timezone.now() + timedelta(days=days)


def token_revoke(*, token: AccessToken) -> AccessToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
