from django.core.management.base import BaseCommand, CommandError

from appcontrol.accounts.models import Organisation
from appcontrol.accounts.services import AccountError, organisation_create


class Command(BaseCommand):
    help = "Manage organisations: `orgs create SLUG [--name NAME]`, `orgs list`."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="Create an organisation.")
        create.add_argument("slug", help="Short unique name, e.g. acme.")
        create.add_argument("--name", default="", help="Display name (defaults to the slug).")
        actions.add_parser("list", help="List organisations.")

    def handle(self, *args, action, **options):
        if action == "create":
            try:
                organisation = organisation_create(slug=options["slug"], name=options["name"])
            except AccountError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"Created organisation {organisation.slug} ({organisation.name}).")
        else:
            for organisation in Organisation.objects.all():
                self.stdout.write(f"{organisation.slug}\t{organisation.name}")
