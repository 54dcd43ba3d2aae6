from django.core.management.base import BaseCommand, CommandError

from appcontrol.accounts.models import Organisation
from appcontrol.accounts.services import AccountError, organisation_create


class Command(BaseCommand):
    help = (
        "Manage organisations: `orgs create SLUG [--name NAME]`, `orgs list`, "
        "`orgs limit SLUG REQUESTS|default` (API requests a minute for each of its tokens)."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="Create an organisation.")
        create.add_argument("slug", help="Short unique name, e.g. acme.")
        create.add_argument("--name", default="", help="Display name (defaults to the slug).")
        actions.add_parser("list", help="List organisations (slug, name, own rate limit).")
        limit = actions.add_parser(
            "limit", help="Set the API requests a minute allowed to each token of an organisation."
        )
        limit.add_argument("slug", help="The organisation.")
        limit.add_argument(
            "requests", help="Requests a minute, 0 for no limit, or `default` for the server's APPCONTROL_RATE_LIMIT."
        )

    def handle(self, *args, action, **options):
        if action == "create":
            try:
                organisation = organisation_create(slug=options["slug"], name=options["name"])
            except AccountError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(f"Created organisation {organisation.slug} ({organisation.name}).")
        elif action == "limit":
            self._limit(options["slug"], options["requests"])
        else:
            for organisation in Organisation.objects.all():
                own = "default" if organisation.rate_limit is None else organisation.rate_limit
                self.stdout.write(f"{organisation.slug}\t{organisation.name}\t{own}")

    def _limit(self, slug: str, requests: str) -> None:
        if requests == "default":
            limit = None
        elif requests.isdigit():
            limit = int(requests)
        else:
            raise CommandError(f"REQUESTS must be a whole number or `default`, not {requests!r}.")
        if not Organisation.objects.filter(slug=slug).update(rate_limit=limit):
            raise CommandError(f"No organisation with the slug {slug!r}.")
        said = "the server's default" if limit is None else ("no limit" if limit == 0 else f"{limit} a minute")
        self.stdout.write(f"API requests of {slug}'s tokens: {said}.")
