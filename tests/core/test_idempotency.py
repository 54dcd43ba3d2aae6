"""`Idempotency-Key`: a retried POST does its work once and answers as the first time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appcontrol.accounts.models import IdempotentRequest
from appcontrol.accounts.services import token_create
from appcontrol.backups.models import Backup
from appcontrol.services.models import Service, ServiceInstance
from tests.conftest import api_url, client_for


@pytest.fixture
def env(world):
    environment = world.apps["acme"].environments.get(slug="test")
    ServiceInstance.objects.create(
        environment=environment,
        service=Service.objects.get(engine="sqlite"),
        type="DATABASE",
        service_status="ATTACHED",
    )
    return environment


def create_app(client, key, slug="retried", **extra):
    body = {"organisation": extra.pop("organisation"), "slug": slug, "name": "Retried"}
    return client.post(api_url("api:application-list"), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_retry_with_the_same_key_replays_the_first_answer(world):
    client, org = world.client("owner"), world.acme.pk.hex
    first = create_app(client, "key-1", organisation=org)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    retry = create_app(client, "key-1", organisation=org)
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert retry.content == first.content
    assert world.acme.applications.filter(slug="retried").count() == 1


def test_a_backup_retried_with_its_key_exists_once(world, env, django_capture_on_commit_callbacks):
    client = world.client("member")
    body = {"environment": env.pk.hex}
    with django_capture_on_commit_callbacks(execute=False):
        first = client.post(api_url("api:backup-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
        again = client.post(api_url("api:backup-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    assert first.status_code == again.status_code == 201, first.json()
    assert first.json()["uuid"] == again.json()["uuid"]
    assert Backup.objects.filter(environment=env).count() == 1


def test_the_same_key_with_another_request_is_422(world):
    client, org = world.client("owner"), world.acme.pk.hex
    create_app(client, "key-2", organisation=org)
    other = create_app(client, "key-2", slug="different", organisation=org)
    assert other.status_code == 422 and "different request" in other.json()["detail"]
    assert not world.acme.applications.filter(slug="different").exists()


def test_a_retry_while_the_first_runs_is_409_with_retry_after(world):
    client = world.client("owner")
    token = world.users["owner"].access_tokens.get()
    body = {"organisation": world.acme.pk.hex, "slug": "slow", "name": "Retried"}
    first = client.post(api_url("api:application-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    IdempotentRequest.objects.filter(token=token, key="k").update(status_code=None)  # as if still running
    running = client.post(api_url("api:application-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 201
    assert running.status_code == 409 and running["Retry-After"] == "1"
    # A claim left by a request that died is given up after a while.
    IdempotentRequest.objects.filter(key="k").update(created_at=timezone.now() - timedelta(minutes=6))
    again = client.post(api_url("api:application-list"), body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert again.status_code == 400  # it ran again, and met the slug taken by the first


def test_an_answer_that_is_not_a_success_is_not_kept(world):
    client, org = world.client("owner"), world.acme.pk.hex
    refused = create_app(client, "key-3", slug="Not A Slug", organisation=org)
    assert refused.status_code == 400
    assert not IdempotentRequest.objects.filter(key="key-3").exists()
    assert create_app(client, "key-3", slug="fixed", organisation=org).status_code == 201


def test_keys_are_per_token(world):
    org = world.acme.pk.hex
    _, second_token = token_create(user=world.users["owner"], name="second")
    assert create_app(world.client("owner"), "shared", organisation=org).status_code == 201
    # Another token's key of the same name is its own: the request runs (and meets the slug's uniqueness).
    assert create_app(client_for(second_token), "shared", organisation=org).status_code == 400


def test_answers_are_forgotten_after_a_day(world):
    from appcontrol.accounts.idempotency import idempotent_requests_expire

    create_app(world.client("owner"), "old", organisation=world.acme.pk.hex)
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotent_requests_expire() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_malformed_key_is_400(world, key):
    response = world.client("owner").post(
        api_url("api:application-list"), {"slug": "x"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["detail"]


def test_a_body_too_large_to_fingerprint_is_413_and_does_nothing(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = {"organisation": world.acme.pk.hex, "slug": "big", "name": "x" * 200}
    response = world.client("owner").post(
        api_url("api:application-list"), body, format="multipart", HTTP_IDEMPOTENCY_KEY="big"
    )
    assert response.status_code == 413 and "larger" in response.json()["detail"]
    assert not world.acme.applications.filter(slug="big").exists()
