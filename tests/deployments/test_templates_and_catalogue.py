"""Templates (added by the operator, copied into new applications' hosted repositories), plan groups and
legacy application numbers: what divio-cli's `app create` and `--remote-id` read."""

import pytest
from django.core.management import CommandError, call_command

from appcontrol.applications.models import Application, AppTemplate, PlanGroup, Region
from appcontrol.core.ids import encode_id
from appcontrol.deployments import hosted
from tests.conftest import api_url

from .git_client import git


@pytest.fixture
def template(demo_repository):
    call_command(
        "templates", "add", demo_repository.url, "--name", "Demo web app", "--service", "sqlite:default",
        "--release-command", "migrate=python3 /app/release.py", "--default",
    )  # fmt: skip
    return AppTemplate.objects.get()


def create_app(world, run_jobs, actor="member", **body):
    body = {"name": "From template", "slug": "from-template", "organisation": encode_id(world.acme.pk), **body}
    with run_jobs():  # the template is copied once the application's creation commits
        return world.client(actor).post(api_url("api:application-list"), body, format="json")


def test_templates_are_listed_as_divio_cli_reads_them(world, template):
    listed = world.client("member").get(api_url("api:app-template-list")).json()
    assert listed["count"] == 1
    row = listed["results"][0]
    assert row == {
        "uuid": encode_id(template.pk), "identifier": "demo-web-app", "name": "Demo web app",
        "short_description": "", "url": template.url, "is_default": True, "order": 0,
    }  # fmt: skip
    detail = world.client("member").get(api_url("api:app-template-detail", uuid=template.pk).rstrip("/")).json()
    assert detail["services"] == [{"id": "sqlite", "identifier": "sqlite", "prefix": "DEFAULT"}]
    assert detail["release_commands"] == [{"label": "migrate", "command": "python3 /app/release.py"}]
    assert detail["tags"] == [] and detail["icon_dark_mode"] == ""


def test_an_application_from_a_template_starts_with_its_files(world, run_jobs, template, demo_repository, tmp_path):
    response = create_app(world, run_jobs, app_template=template.url)
    assert response.status_code == 201, response.json()
    application = Application.objects.get(slug="from-template")
    assert application.template == template and application.repository is None
    path = hosted.hosted_path(application)
    assert hosted.refs(path) == {"main": demo_repository.git("rev-parse", "HEAD")}
    clone = tmp_path / "clone"
    git("clone", "-q", str(path), str(clone))
    assert (clone / "Dockerfile").exists() and (clone / "VERSION").read_text() == "1\n"


def test_template_urls_are_validated_like_divio_expects(world, run_jobs, template):
    for value, message in [("not a url", "Enter a valid URL."), ("https://example.com/other.git", "templates")]:
        response = world.client("member").post(api_url("api:application-list"), {"app_template": value}, format="json")
        assert response.status_code == 400
        assert message in response.json()["app_template"][0]
    alone = world.client("member").post(api_url("api:application-list"), {"app_template": template.url}, format="json")
    assert alone.status_code == 400 and "app_template" not in alone.json()  # valid: divio-cli goes on
    assert Application.objects.count() == 2


def test_a_template_with_an_external_repository_is_refused(world, run_jobs, template):
    from appcontrol.applications.models import Repository

    repository = Repository.objects.create(organisation=world.acme, url="https://git.example.com/x.git")
    response = create_app(world, run_jobs, app_template=template.url, repository=encode_id(repository.pk))
    assert response.status_code == 400 and "app_template" in response.json()


def test_adding_a_template_that_cannot_be_read_saves_nothing(world, tmp_path):
    with pytest.raises(CommandError, match="Cannot clone"):
        call_command("templates", "add", f"file://{tmp_path}/missing", "--name", "Missing")
    with pytest.raises(CommandError, match="IDENTIFIER:PREFIX"):
        call_command("templates", "add", "https://example.com/x.git", "--name", "X", "--service", "sqlite")
    assert not AppTemplate.objects.exists()


def test_a_template_whose_branch_is_missing_is_refused(world, demo_repository):
    with pytest.raises(CommandError, match="'stable' does not exist"):
        call_command("templates", "add", demo_repository.url, "--name", "Demo", "--branch", "stable")
    assert not AppTemplate.objects.exists()


def test_plan_groups_offer_regions(world, run_jobs):
    standard = PlanGroup.objects.get()
    listed = world.client("member").get(
        api_url("billing:application-plan-group-list", query=f"organisation={encode_id(world.acme.pk)}")
    )
    assert listed.json()["results"] == [{"uuid": encode_id(standard.pk), "name": "Standard"}]
    detail = world.client("member").get(api_url("billing:application-plan-group-detail", uuid=standard.pk)).json()
    assert detail["regions"] == [encode_id(world.region.pk)]  # no regions of its own: every region

    elsewhere = Region.objects.create(slug="far", name="Far away")
    small = PlanGroup.objects.create(name="Small")
    small.regions.add(world.region)
    refused = create_app(world, run_jobs, plan_group=encode_id(small.pk), region=encode_id(elsewhere.pk))
    assert refused.status_code == 400 and refused.json() == {"region": ["The plan group does not offer this region."]}
    unknown = create_app(world, run_jobs, plan_group=encode_id(world.acme.pk))
    assert unknown.status_code == 400 and "plan_group" in unknown.json()
    created = create_app(world, run_jobs, plan_group=encode_id(small.pk))
    assert created.status_code == 201
    application = Application.objects.get(slug="from-template")
    assert application.plan_group == small and application.region == world.region


def test_legacy_numbers_find_only_your_applications(world):
    own = world.apps["acme"].legacy_id.id
    theirs = world.apps["other"].legacy_id.id
    found = world.client("member").get(api_url("legacy:legacy-application-list", query=f"id={own}")).json()
    assert [row["uuid"] for row in found["results"]] == [encode_id(world.apps["acme"].pk)]
    hidden = world.client("member").get(api_url("legacy:legacy-application-list", query=f"id={theirs}")).json()
    assert hidden["results"] == [] and hidden["count"] == 0
    assert world.client(None).get(api_url("legacy:legacy-application-list", query=f"id={own}")).status_code == 401
    bad = world.client("member").get(api_url("legacy:legacy-application-list", query="id=abc"))
    assert bad.status_code == 400


def test_a_deleted_application_takes_its_hosted_repository_along(world, run_jobs, template):
    create_app(world, run_jobs, app_template=template.url)
    application = Application.objects.get(slug="from-template")
    path = hosted.hosted_path(application)
    assert path.exists()
    with run_jobs():
        response = world.client("owner").delete(api_url("api:application-detail", uuid=application.pk))
    assert response.status_code == 204 and not path.exists()
