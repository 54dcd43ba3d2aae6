from appcontrol.core.ids import encode_id
from tests.conftest import api_url


def deploy(world, run_jobs, environment, actor="member", **body) -> dict:
    """POST a deployment (jobs run inline) and return it as the API shows it once it ended."""
    client = world.client(actor)
    with run_jobs():
        response = client.post(
            api_url("api:deployment-list"), {"environment": encode_id(environment.pk), **body}, format="json"
        )
        assert response.status_code == 201, response.json()
    deployment = client.get(api_url("api:deployment-detail", uuid=response.json()["uuid"])).json()
    assert deployment["ended_at"] is not None
    return deployment


def deployment_log(world, deployment: dict, actor="member") -> str:
    response = world.client(actor).get(api_url("api:deployment-logs", uuid=deployment["uuid"]).rstrip("/"))
    assert response.status_code == 200
    return response.json()["logs"]
