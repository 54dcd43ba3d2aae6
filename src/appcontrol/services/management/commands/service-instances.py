from django.core.management.base import BaseCommand, CommandError

from appcontrol.services.services import ServiceError, service_instances_secure


class Command(BaseCommand):
    help = (
        "Operator duties on service instances. `service-instances secure`: re-apply each PostgreSQL instance's "
        "least privilege (its role may not be a superuser nor create roles or databases; only it may connect "
        "to its database; its recorded password). Run it once after upgrading from a version without it; "
        "dumps and restores re-apply it to their own instance anyway."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("secure", help="Re-apply least privilege to every PostgreSQL service instance.")

    def handle(self, *args, action, **options):
        try:
            secured, failed = service_instances_secure()
        except ServiceError as error:
            raise CommandError(str(error)) from None
        for instance, message in failed:
            self.stderr.write(f"{instance.pk}: {message}")
        self.stdout.write(f"Secured {secured} PostgreSQL service instance(s); {len(failed)} failed.")
        if failed:
            raise CommandError("Some service instances could not be secured (see above).")
