import secrets

from django.core.management.base import BaseCommand
from django.db import transaction

from appcontrol.accounts.models import Organisation, Role, User
from appcontrol.accounts.services import account_create, membership_set, token_create
from appcontrol.applications.models import Application, Region
from appcontrol.applications.services import application_create
from appcontrol.core.ids import encode_id
from appcontrol.demo.content import demo_repository, demo_services, demo_template

DEMO_ORG = "demo"
DEMO_APP = "example-application"
OWNER_EMAIL = "owner@demo.example"
API_EMAIL = "api@demo.example"


class Command(BaseCommand):
    help = (
        "Create demo data (idempotent): organisation `demo`, a region, the application "
        "`example-application` with `test` and `live` and a git repository holding a small web app, an owner "
        "who can log in and an API-only account; "
        "then print a ready-to-paste curl line with a new token for the API-only account."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Server URL for the printed examples.")

    def handle(self, *args, url, **options):
        url = url.rstrip("/")
        with transaction.atomic():
            organisation, _ = Organisation.objects.get_or_create(slug=DEMO_ORG, defaults={"name": "Demo"})
            region, _ = Region.objects.get_or_create(slug="local", defaults={"name": "Local"})
            owner_password = None
            if not User.objects.filter(email=OWNER_EMAIL).exists():
                owner_password = secrets.token_urlsafe(12)
                account_create(email=OWNER_EMAIL, password=owner_password, organisation=organisation, role=Role.OWNER)
            api_user = User.objects.filter(email=API_EMAIL).first() or account_create(email=API_EMAIL, api_only=True)
            membership_set(user=api_user, organisation=organisation, role=Role.MEMBER)
            if not Application.objects.filter(slug=DEMO_APP).exists():
                application_create(organisation=organisation, slug=DEMO_APP, name="Example application", region=region)
            _, token = token_create(user=api_user, name="demo", organisation=organisation)
        application = Application.objects.get(slug=DEMO_APP)
        database_engine = demo_services(application)
        repository = demo_repository(application)
        if demo_template() is None:
            self.stderr.write("The demo's template could not be mirrored (confined git cannot read the data dir).")

        self.stdout.write(
            f"Demo data ready: organisation '{DEMO_ORG}', application '{DEMO_APP}' (test, live), "
            f"each with a {database_engine} database and media storage."
        )
        if owner_password:
            self.stdout.write(
                f"Control panel: {url}/account/login/  email {OWNER_EMAIL}  password {owner_password} (shown once)"
            )
        self.stdout.write(f"API docs: {url}/apps/v3/docs/")
        self.stdout.write(f"A new token for the API-only account {API_EMAIL} (member of '{DEMO_ORG}'):")
        self.stdout.write(f"  export TOKEN={token}")
        self.stdout.write("Try:")
        self.stdout.write(f'  curl {url}/apps/v3/applications/ -H "authorization: Token $TOKEN"')
        self.stdout.write(f"  curl '{url}/apps/v3/applications/?slug={DEMO_APP}' -H \"authorization: Token $TOKEN\"")
        test = application.environments.get(slug="test")
        if repository.state != repository.State.CLONED:
            self.stderr.write(f"The demo's repository could not be cloned, so it cannot deploy: {repository.reason}")
        self.stdout.write(f"Its repository is {repository.url}; deploy test (needs a Docker Engine, see the README):")
        self.stdout.write(
            f'  curl {url}/apps/v3/deployments/ -H "authorization: Token $TOKEN" -d environment={encode_id(test.pk)}'
        )
