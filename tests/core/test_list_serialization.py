"""List rows are serialized by fields built once per serializer class and thread: each request's rows still
read that request (its host, its caller), and threads never share a field."""

import threading

from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from appcontrol.applications.api.views import ApplicationViewSet
from appcontrol.applications.models import Application
from tests.conftest import api_url


def test_each_request_is_served_with_its_own_host(world):
    client = world.client("member")
    for host in ["localhost", "testserver", "localhost"]:
        rows = client.get(api_url("api:application-list"), HTTP_HOST=host).json()["results"]
        assert [row["git_url"] for row in rows] == [f"http://{host}/git/acme/example-application.git"]


def test_threads_serialize_with_fields_of_their_own(world):
    rows = list(Application.objects.filter(organisation=world.acme).select_related("organisation"))
    start, answers, errors = threading.Barrier(4), {}, []

    def list_as(host: str) -> None:
        try:
            start.wait()
            for _ in range(50):
                view = ApplicationViewSet(action="list", format_kwarg=None)
                view.request = Request(APIRequestFactory().get("/apps/v3/applications/", HTTP_HOST=host))
                data = view.get_serializer(rows, many=True).data
                answers.setdefault(host, set()).update(row["git_url"] for row in data)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    hosts = ["testserver", "localhost", "127.0.0.1", "[::1]"]
    threads = [threading.Thread(target=list_as, args=(host,)) for host in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert answers == {host: {f"http://{host}/git/acme/example-application.git"} for host in hosts}
