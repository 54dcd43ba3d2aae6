import getpass

from django.core.management.base import BaseCommand, CommandError

from appcontrol.accounts.models import Organisation, Role
from appcontrol.accounts.services import AccountError, account_create


def organisation_by_slug(slug: str) -> Organisation:
    try:
        return Organisation.objects.get(slug=slug)
    except Organisation.DoesNotExist:
        raise CommandError(
            f"No organisation with the slug {slug!r}; create it with `appcontrol orgs create {slug}`."
        ) from None


class Command(BaseCommand):
    help = "Manage accounts: `accounts create EMAIL [--api-only] [--org SLUG --role ROLE] [--password]`."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="Create an account.")
        create.add_argument("email")
        create.add_argument(
            "--api-only",
            action="store_true",
            help="An account for scripts: it cannot log in with a password and only holds tokens.",
        )
        create.add_argument("--org", metavar="SLUG", help="Make the account a member of this organisation.")
        create.add_argument("--role", choices=Role.values, default=Role.MEMBER, help="Role in --org (default member).")
        create.add_argument(
            "--password", action="store_true", help="Prompt for a password (for the control-panel login)."
        )

    def handle(self, *args, action, **options):
        organisation = organisation_by_slug(options["org"]) if options["org"] else None
        if options["role"] != Role.MEMBER and organisation is None:
            raise CommandError("--role needs --org.")
        password = None
        if options["password"]:
            if options["api_only"]:
                raise CommandError("An API-only account has no password.")
            password = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != password:
                raise CommandError("The two passwords do not match; nothing was created.")
        try:
            user = account_create(
                email=options["email"],
                api_only=options["api_only"],
                password=password,
                organisation=organisation,
                role=options["role"],
            )
        except AccountError as error:
            raise CommandError(str(error)) from None
        where = f" as {options['role']} of {organisation.slug}" if organisation else ""
        kind = "API-only account" if user.is_api_only else "account"
        self.stdout.write(f"Created {kind} {user.email}{where}.")
