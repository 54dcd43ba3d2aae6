from urllib.parse import urlencode

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from appcontrol.accounts.models import Membership
from appcontrol.core.schema import operation_ids
from appcontrol.core.viewsets import ApiViewSet

from .. import services
from ..filtersets import BuildFilterSet, DeploymentFilterSet, RepositoryFilterSet
from ..logs import page
from ..selectors import builds_visible, deployments_visible, environments_visible, repositories_visible
from .serializers import (
    BuildSerializer,
    DeploymentCreateSerializer,
    DeploymentSerializer,
    DeploymentVariablesSerializer,
    LogPageSerializer,
    LogQuerySerializer,
    LogsSerializer,
    RepositoryCheckErrorSerializer,
    RepositoryCheckResultSerializer,
    RepositoryCheckSerializer,
    RepositorySerializer,
    deployment_variables,
)


def logs_body(obj) -> dict:
    return {"uuid": obj.pk, "logs": "\n".join(obj.log)}


@extend_schema_view(**operation_ids("Repository", "Repositories", ["list", "retrieve", "create"]))
class RepositoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ApiViewSet):
    """Git repositories applications deploy from. Creating one answers at once with `state: CLONING`; the
    server clones a bare mirror and the state becomes CLONED, or INVALID with a `reason`. Point an application
    at it with `PATCH /apps/v3/applications/{uuid}/ {"repository": …}`."""

    serializer_class = RepositorySerializer
    filterset_class = RepositoryFilterSet

    def get_queryset(self):
        return repositories_visible(self.request)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.repository_create(
            organisation=data["organisation"],
            url=data["url"],
            operator=self.request.user.is_superuser,
            key_type=data.get("key_type", ""),
            username=data.get("username", ""),
            password=data.get("password", ""),
        )

    @extend_schema(
        operation_id="CheckRepository",
        request=RepositoryCheckSerializer,
        responses={200: RepositoryCheckResultSerializer, 400: RepositoryCheckErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def check(self, request, uuid=None):
        """Ask the git host now whether the repository can be read with its deploy key or password, and has
        `branch`. 400 with a `code` says what is wrong. A repository that could not be cloned (the deploy key
        was not yet added at the host) is cloned again after a successful check."""
        repository = self.get_object()
        serializer = RepositoryCheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.repository_check(repository=repository, branch=serializer.validated_data.get("branch", ""))
        except services.RepositoryCheckFailed as failure:
            body = {"code": failure.code, "non_field_errors": [str(failure)]}
            return Response(RepositoryCheckErrorSerializer(body).data, status=status.HTTP_400_BAD_REQUEST)
        return Response(RepositoryCheckResultSerializer({"code": "success"}).data)


@extend_schema_view(**operation_ids("Build", "Builds", ["list", "retrieve"]))
class BuildViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Images built from one commit of an application's repository, newest first. A deployment re-uses a
    successful build of the same commit (`build_mode` AUTO or ADOPT) or builds (AUTO, FORCE)."""

    serializer_class = BuildSerializer
    filterset_class = BuildFilterSet

    def get_queryset(self):
        return builds_visible(self.request)

    @extend_schema(operation_id="GetBuildLogs", responses={200: LogsSerializer})
    @action(detail=True, methods=["get"])
    def logs(self, request, uuid=None):
        """The build's output, a line each with its UTC time (the newest 1000 lines)."""
        return Response(LogsSerializer(logs_body(self.get_object())).data)


@extend_schema_view(**operation_ids("Deployment", "Deployments", ["list", "retrieve", "create"]))
class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """Deployments of environments, newest first (a running one included). Creating one answers at once;
    poll it until `ended_at` is set, then `success` says how it went (`errors` says why it failed). One
    deployment per environment runs at a time: another POST meanwhile answers 409 naming the running one.
    A failed deployment leaves the previous release serving."""

    serializer_class = DeploymentSerializer
    filterset_class = DeploymentFilterSet

    def get_queryset(self):
        return deployments_visible(self.request)

    @extend_schema(
        operation_id="CreateDeployment",
        request=DeploymentCreateSerializer,
        responses={201: DeploymentSerializer},
    )
    def create(self, request):
        serializer = DeploymentCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        deployment = services.deployment_create(
            environment=data["environment"],
            build_mode=data["build_mode"],
            build=data.get("build"),
            user=request.user,
        )
        return Response(self.get_serializer(deployment).data, status=status.HTTP_201_CREATED)

    @extend_schema(operation_id="GetDeploymentLogs", responses={200: LogsSerializer})
    @action(detail=True, methods=["get"])
    def logs(self, request, uuid=None):
        """Every step with its UTC time: build output, release command output, health checks and, for a failed
        deployment, the reason in one line at the end."""
        return Response(LogsSerializer(logs_body(self.get_object())).data)

    @extend_schema(operation_id="GetDeploymentEnvironmentVariables", responses={200: DeploymentVariablesSerializer})
    @action(detail=True, methods=["get"], url_path="environment-variables")
    def environment_variables(self, request, uuid=None):
        """The variables the release ran with; sensitive values are null, except service credentials for owners
        and admins."""
        deployment = self.get_object()
        role = (
            Membership.objects.filter(organisation_id=deployment.application.organisation_id, user=request.user)
            .values_list("role", flat=True)
            .first()
        )
        body = {
            "environment": deployment.environment_id,
            "environment_variables": deployment_variables(deployment, role),
        }
        return Response(DeploymentVariablesSerializer(body).data)


class EnvironmentLogViewSet(ApiViewSet):
    """What an environment's processes print, collected with timestamps."""

    def get_queryset(self):
        return environments_visible(self.request)

    @extend_schema(
        operation_id="GetEnvironmentLogs", parameters=[LogQuerySerializer], responses={200: LogPageSerializer}
    )
    @action(detail=True, methods=["get"])
    def logs(self, request, uuid=None):
        """The environment's log, a page at a time: without a cursor the newest lines, oldest first. Follow
        `next` to get what arrives later (it is never null), `previous` for older lines (the request's own URL
        when there are none). `from_ts` and `to_ts` narrow it to a time range."""
        environment = self.get_object()
        query = LogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        found = page(
            environment.pk,
            after=options.get("after"),
            before=options.get("before"),
            start=options.get("from_ts"),
            end=options.get("to_ts"),
            size=options["page_size"],
        )
        kept = {key: value for key, value in request.query_params.items() if key not in {"after", "before"}}
        here = request.build_absolute_uri(request.path)
        body = {
            "next": f"{here}?{urlencode({**kept, 'after': found.newest_id})}",
            "previous": (
                f"{here}?{urlencode({**kept, 'before': found.entries[0].id})}"
                if found.has_older
                else request.build_absolute_uri()
            ),
            "results": found.entries,
        }
        return Response(LogPageSerializer(body).data)
