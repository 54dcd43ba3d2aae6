"""Which organisations a request may see: its user's memberships, narrowed by the token's scope."""

from django.db.models import QuerySet

from appcontrol.core.narrowing import narrowed

from .models import MANAGING_ROLES, Organisation


def visible_organisation_ids(request) -> QuerySet | list:
    """The ids of the organisations the request sees, for `organisation__in=`: the list the token's lookup
    read along (no subquery to build or run), else a subquery, so lists stay one query either way."""
    user = request.user
    if not user.is_authenticated:
        return Organisation.objects.none().values("pk")
    token = request.auth
    restricted_to = token.organisation_id if token is not None else None
    listed = getattr(token, "member_organisation_ids", None)
    if listed is not None:
        return [pk for pk in listed if restricted_to in (None, pk)]
    organisations = Organisation.objects.filter(memberships__user=user)
    if restricted_to is not None:
        organisations = organisations.filter(pk=restricted_to)
    return organisations.values("pk")


def manages_organisation(user, organisation_id) -> bool:
    """Whether the user is an owner or admin of the organisation (destructive actions need it)."""
    return user.memberships.filter(organisation_id=organisation_id, role__in=MANAGING_ROLES).exists()


def visible_organisations(request) -> QuerySet:
    return Organisation.objects.filter(pk__in=visible_organisation_ids(request))


def visible(queryset: QuerySet, request, organisation_path: str) -> QuerySet:
    """`queryset` narrowed to objects whose organisation (reached by `organisation_path`) the request sees."""
    return narrowed(queryset, [(f"{organisation_path}__in", visible_organisation_ids(request))])
