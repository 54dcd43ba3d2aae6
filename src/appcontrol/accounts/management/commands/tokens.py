from django.core.management.base import BaseCommand, CommandError

from appcontrol.accounts.models import AccessToken, User
from appcontrol.accounts.services import AccountError, token_create, token_expiry_in_days, token_revoke
from appcontrol.accounts.tokens import token_prefix

from .accounts import organisation_by_slug


def user_by_email(email: str) -> User:
    try:
        return User.objects.get(email=User.objects.normalize_email(email).lower())
    except User.DoesNotExist:
        raise CommandError(f"No account with the email {email!r}.") from None


class Command(BaseCommand):
    help = (
        "Manage access tokens: `tokens create EMAIL` prints only the new token (capture it in scripts), "
        "`tokens list EMAIL`, `tokens revoke PREFIX`."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="Create a token and print it; it is shown only once.")
        create.add_argument("email")
        create.add_argument("--org", metavar="SLUG", help="Restrict the token to this organisation.")
        create.add_argument("--read-only", action="store_true", help="Allow only GET, HEAD and OPTIONS.")
        create.add_argument("--expires-in", type=int, metavar="DAYS", help="Expire after this many days.")
        create.add_argument("--name", default="", help="What the token is for.")
        listing = actions.add_parser("list", help="List an account's tokens (prefixes only).")
        listing.add_argument("email")
        revoke = actions.add_parser("revoke", help="Revoke a token at once.")
        revoke.add_argument("prefix", help="The token's prefix as `tokens list` shows it, e.g. apc_AbCdEfGh.")

    def handle(self, *args, action, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_create(self, *, email, org, read_only, expires_in, name, **_):
        user = user_by_email(email)
        organisation = organisation_by_slug(org) if org else None
        try:
            _, clear = token_create(
                user=user,
                name=name,
                organisation=organisation,
                read_only=read_only,
                expires_at=token_expiry_in_days(expires_in),
            )
        except AccountError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(clear)

    def handle_list(self, *, email, **_):
        tokens = user_by_email(email).access_tokens.select_related("organisation")
        self.stdout.write("PREFIX\tNAME\tORGANISATION\tREAD-ONLY\tEXPIRES\tLAST USED\tSTATE")
        for token in tokens:
            state = "revoked" if token.is_revoked else "expired" if token.is_expired else "active"
            self.stdout.write(
                "\t".join(
                    [
                        token.prefix,
                        token.name or "-",
                        token.organisation.slug if token.organisation else "*",
                        "yes" if token.read_only else "no",
                        token.expires_at.isoformat() if token.expires_at else "never",
                        token.last_used_at.isoformat() if token.last_used_at else "never",
                        state,
                    ]
                )
            )

    def handle_revoke(self, *, prefix, **_):
        try:
            # A pasted whole token or a listed `apc_AbCdEfGh…` both name the token by its prefix.
            token = AccessToken.objects.get(prefix=token_prefix(prefix.rstrip("….")))
        except AccessToken.DoesNotExist:
            raise CommandError(f"No token with the prefix {prefix!r}.") from None
        token_revoke(token=token)
        self.stdout.write(f"Revoked {token.prefix} of {token.user.email}.")
