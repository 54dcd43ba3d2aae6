"""List filters are django-filter declarations checked without a form: what a client sees stays the same."""

import threading

import appcontrol.urls  # noqa: F401 (every view, so that the subclasses below are all of them)
from appcontrol.applications.filtersets import PlanGroupFilterSet
from appcontrol.core.filtersets import FilterSet
from appcontrol.core.viewsets import ApiModelViewSet, ApiViewSet
from tests.conftest import api_url


def _viewsets():
    pending, found = [*ApiViewSet.__subclasses__(), *ApiModelViewSet.__subclasses__()], []
    while pending:
        view = pending.pop()
        found.append(view)
        pending += view.__subclasses__()
    return found


def test_every_list_filters_through_the_lean_filter_set():
    with_filters = [view for view in _viewsets() if getattr(view, "filterset_class", None)]
    assert len(with_filters) >= 15
    for view in with_filters:
        assert issubclass(view.filterset_class, FilterSet), view


def test_invalid_values_are_a_400_per_filter_in_the_forms_shape(world):
    response = world.client("member").get(api_url("api:backup-list", query="success=MAYBE&environment=nope&state="))
    assert response.status_code == 400
    assert response.json() == {
        "environment": ["Enter a valid id."],
        "success": ["Select a valid choice. MAYBE is not one of the available choices."],
    }


def test_valid_values_filter_and_empty_ones_are_ignored(world):
    client = world.client("member")
    live = world.apps["acme"].environments.get(slug="live")
    environments = client.get(api_url("api:environment-list", query=f"application={world.apps['acme'].pk}&slug="))
    assert sorted(row["slug"] for row in environments.json()["results"]) == ["live", "test"]
    only_live = client.get(api_url("api:environment-list", query=f"application={world.apps['acme'].pk}&slug=live"))
    assert [row["slug"] for row in only_live.json()["results"]] == ["live"]
    repeated = client.get(api_url("api:environment-variable-list", query=f"environment={live.pk}&environment=bad"))
    assert repeated.status_code == 400 and set(repeated.json()) == {"environment"}


def test_a_method_filter_calls_back_into_its_own_filter_set(world):
    # Filters with a `method` are copied per filter set: two filter sets in two threads never share one.
    seen = []

    class Recording(PlanGroupFilterSet):
        def offered_to(self, queryset, name, value):
            seen.append((threading.get_ident(), self))
            return queryset

    sets = []

    def filter_once():
        filter_set = Recording({"organisation": str(world.acme.pk)})
        sets.append(filter_set)
        assert filter_set.is_valid(), filter_set.errors
        filter_set.qs  # noqa: B018

    threads = [threading.Thread(target=filter_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(id(filter_set) for _, filter_set in seen) == sorted(id(filter_set) for filter_set in sets)
    assert getattr(Recording.base_filters["organisation"], "parent", None) is None
