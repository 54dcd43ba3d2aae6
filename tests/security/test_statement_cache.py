"""SELECT statements kept per shape (core/sql_compiler.py) are shared by every tenant: each request must run
with its own organisations and filters, never with the values of the request that made the shape."""

from appcontrol.applications.services import application_create
from appcontrol.core.sql_compiler import shapes
from tests.conftest import api_url


def test_tenants_taking_turns_on_kept_statements_see_only_their_own_rows(world):
    shapes.clear()
    acme, other = world.client("member"), world.client("outsider")
    own = {"member": world.apps["acme"], "outsider": world.apps["other"]}
    for _ in range(3):  # the first turn makes the shapes, the next ones run them
        for actor, client in (("member", acme), ("outsider", other)):
            mine, theirs = own[actor], own["outsider" if actor == "member" else "member"]
            applications = client.get(api_url("api:application-list")).json()["results"]
            assert [row["slug"] for row in applications] == [mine.slug]
            environments = client.get(api_url("api:environment-list", query=f"application={mine.pk}"))
            assert len(environments.json()["results"]) == 2
            foreign = client.get(api_url("api:environment-list", query=f"application={theirs.pk}"))
            assert foreign.json() == {"count": 0, "next": None, "previous": None, "results": []}
            by_slug = client.get(api_url("api:application-list", query=f"slug={theirs.slug}"))
            assert by_slug.json()["results"] == []
    assert shapes._entries  # the turns above did run kept statements


def test_a_page_counts_its_own_tenants_list_in_its_statement(world):
    application_create(organisation=world.acme, slug="second", name="Second")  # acme: 4 environments, other: 2
    shapes.clear()
    clients = {"member": (world.client("member"), 4), "outsider": (world.client("outsider"), 2)}
    for _ in range(3):
        for client, own_count in clients.values():
            page = client.get(api_url("api:environment-list", query="page_size=1")).json()
            assert page["count"] == own_count and page["next"]
            following = client.get(page["next"]).json()
            assert following["count"] == own_count
