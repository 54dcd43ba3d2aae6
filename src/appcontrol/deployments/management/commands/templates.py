from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.text import slugify

from appcontrol.applications.models import AppTemplate
from appcontrol.core.ids import encode_id
from appcontrol.deployments.templates import TemplateError, template_add, template_mirror, template_remove


def _pair(text: str, separator: str, what: str) -> tuple[str, str]:
    left, found, right = text.partition(separator)
    if not found or not left or not right:
        raise CommandError(f"{what} must look like {'IDENTIFIER:PREFIX' if separator == ':' else 'LABEL=COMMAND'}.")
    return left, right


class Command(BaseCommand):
    help = (
        "Manage application templates: `templates add URL --name NAME [...]`, `templates list`, "
        "`templates refresh [IDENTIFIER]`, `templates remove IDENTIFIER`. A template is mirrored when added."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = actions.add_parser("add", help="Offer a git repository as a template for new applications.")
        add.add_argument("url", help="A URL git can read: https://, git://, ssh:// without credentials, or file://.")
        add.add_argument("--name", required=True, help="What users see, e.g. 'Django 5'.")
        add.add_argument("--identifier", help="Short unique name (default: from the name).")
        add.add_argument("--branch", default="main", help="The branch new applications start from.")
        add.add_argument("--description", default="", help="One line about it.")
        add.add_argument(
            "--service", action="append", default=[], metavar="IDENTIFIER:PREFIX",
            help="A service the template needs (see /apps/v3/services/), e.g. postgres:DEFAULT; may repeat.",
        )  # fmt: skip
        add.add_argument(
            "--release-command", action="append", default=[], metavar="LABEL=COMMAND",
            help="A release command the template suggests, e.g. 'migrate=python manage.py migrate'; may repeat.",
        )  # fmt: skip
        add.add_argument("--default", action="store_true", help="Make it the default template.")
        add.add_argument("--order", type=int, default=0, help="Position in lists (lower first).")
        actions.add_parser("list", help="List templates (identifier, name, url, branch).")
        refresh = actions.add_parser("refresh", help="Fetch templates' repositories again (default: all).")
        refresh.add_argument("identifier", nargs="?")
        remove = actions.add_parser("remove", help="Stop offering a template (applications keep their copies).")
        remove.add_argument("identifier")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _add(self, url, name, identifier, branch, description, service, release_command, default, order, **_):
        services = [dict(zip(("identifier", "prefix"), _pair(s, ":", "--service"), strict=True)) for s in service]
        for entry in services:
            entry["prefix"] = entry["prefix"].upper()
        commands = [
            dict(zip(("label", "command"), _pair(c, "=", "--release-command"), strict=True)) for c in release_command
        ]
        try:
            template = template_add(
                url=url, name=name, identifier=identifier or slugify(name), branch=branch,
                short_description=description, services=services, release_commands=commands,
                is_default=default, order=order,
            )  # fmt: skip
        except (TemplateError, ValidationError) as error:
            raise CommandError(_message(error)) from None
        self.stdout.write(f"Added template {template.identifier} ({encode_id(template.pk)}): {template.url}")

    def _list(self, **_):
        for template in AppTemplate.objects.all():
            marker = " (default)" if template.is_default else ""
            self.stdout.write(f"{template.identifier}\t{template.name}{marker}\t{template.url}\t{template.branch}")

    def _refresh(self, identifier=None, **_):
        templates = AppTemplate.objects.all()
        if identifier:
            templates = templates.filter(identifier=identifier)
            if not templates:
                raise CommandError(f"No template {identifier!r}.")
        for template in templates:
            try:
                template_mirror(template)
            except TemplateError as error:
                raise CommandError(f"{template.identifier}: {error}") from None
            self.stdout.write(f"Refreshed {template.identifier}.")

    def _remove(self, identifier, **_):
        template = AppTemplate.objects.filter(identifier=identifier).first()
        if template is None:
            raise CommandError(f"No template {identifier!r}.")
        template_remove(template)
        self.stdout.write(f"Removed template {identifier}.")


def _message(error) -> str:
    if isinstance(error, ValidationError) and hasattr(error, "message_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return str(error.messages[0] if isinstance(error, ValidationError) else error)
