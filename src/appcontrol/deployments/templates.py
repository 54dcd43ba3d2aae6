"""Application templates: repositories the operator offers as starting points. Each is mirrored when it is
added (and on `appcontrol templates refresh`); an application created from one starts with the template's
branch in its hosted repository, copied from that mirror — no network at creation time."""

from django.db import transaction

from appcontrol.applications.models import Application, AppTemplate, Repository

from . import git, hosted


class TemplateError(Exception):
    """The template cannot be added or used; the message says why."""


def _source(template: AppTemplate) -> Repository:
    # Mirrored like a repository without credentials (git.clone), beside the repositories' mirrors.
    return Repository(uuid=template.pk, url=template.url, allow_internal=True)


def template_mirror(template: AppTemplate) -> None:
    """Clone or update the template's mirror, and check that its branch exists."""
    source = _source(template)
    try:
        git.fetch(source)
        git.resolve(source, template.branch)
    except git.GitError as error:
        raise TemplateError(str(error)) from None


def template_add(**fields) -> AppTemplate:
    """Register a template (any URL git can read, file:// included: the operator's choice) once its mirror
    is made; nothing is saved when it cannot be."""
    problem = git.url_problem(fields["url"], operator=True)
    if problem:
        raise TemplateError(problem)
    template = AppTemplate(**fields)
    template.full_clean()
    template_mirror(template)
    with transaction.atomic():
        if template.is_default:
            AppTemplate.objects.filter(is_default=True).update(is_default=False)
        template.save(force_insert=True)
    return template


def template_remove(template: AppTemplate) -> None:
    """Applications made from it keep their own copies."""
    template.delete()
    git.remove(git.mirror_path(_source(template)))


def application_from_template(*, application_id, organisation_id) -> None:
    """Subscriber of `application.created`: fill the new application's hosted repository from its template,
    one branch per branch its environments follow."""
    application = Application.objects.select_related("template").filter(pk=application_id).first()
    if application is None or application.template is None or application.repository_id is not None:
        return
    template = application.template
    branches = set(application.environments.values_list("branch", flat=True)) or {"main"}
    mirror = git.mirror_path(_source(template))
    for branch in sorted(branches):
        hosted.seed(application, mirror, template.branch, branch)
