"""What deployments do when other parts of the product say something happened (see core/events.py)."""

from . import hosted


def hosted_repository_of_deleted_application(*, application_id, organisation_id, slug) -> None:
    hosted.remove(application_id)
