from appcontrol.applications.models import Repository
from appcontrol.core.jobs import JobRunner

from . import services
from .engine import driver
from .git import GitError
from .models import Deployment
from .pipeline import DeploymentFailed, deploy


class RepositoryCloneRunner(JobRunner):
    name = "repository-clone"
    model = Repository

    def run(self, repository):
        try:
            services.repository_clone(repository=repository)
        except GitError as error:
            self.fail(repository, str(error))

    def record_failure(self, repository, message):
        services.repository_fail(repository=repository, message=message)


class DeploymentRunner(JobRunner):
    name = "deployment"
    model = Deployment

    def run(self, deployment):
        try:
            deploy(deployment)
        except DeploymentFailed as failure:
            self.fail(deployment, str(failure))

    def record_failure(self, deployment, message):
        services.deployment_fail(deployment=deployment, message=message, stop=_remove_process)

    def concurrency_keys(self, deployment):
        return [f"deploy:{deployment.environment_id}"]


def _remove_process(name: str) -> None:
    driver().stop(name, grace_seconds=0)
