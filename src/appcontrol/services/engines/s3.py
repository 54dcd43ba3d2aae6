"""Media storage under a prefix of the operator's S3 bucket; artifacts are gzip-compressed tar archives.

A restore uploads the archive to a staging prefix first and only then replaces the live objects, so a
broken archive leaves the storage untouched.
"""

import secrets
import tarfile
import tempfile
from datetime import datetime
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.utils import timezone

from appcontrol.core.ids import encode_id
from appcontrol.core.jobs import check_deadline
from appcontrol.core.s3 import s3_client, s3_configured

from . import media_archive
from .base import Engine, EngineError, variable_name
from .filesystem import check_media_archive, check_tar_head, media_limits


def _staging_prefix(prefix: str) -> str:
    return f"{prefix.rstrip('/')}.restore-"


class S3Engine(Engine):
    name = "s3"
    artifact_extension = "tar.gz"

    def is_configured(self) -> bool:
        return s3_configured()

    def _require_configured(self):
        if not self.is_configured():
            raise EngineError("S3 media storage needs APPCONTROL_S3_BUCKET on the server.")

    def _keys(self, prefix: str):
        paginator = s3_client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=settings.APPCONTROL_S3_BUCKET, Prefix=prefix):
            yield from page.get("Contents", [])

    def _delete_prefix(self, prefix: str) -> None:
        client, bucket = s3_client(), settings.APPCONTROL_S3_BUCKET
        batch = []
        for item in self._keys(prefix):
            batch.append({"Key": item["Key"]})
            if len(batch) == 1000:
                client.delete_objects(Bucket=bucket, Delete={"Objects": batch})
                batch = []
        if batch:
            client.delete_objects(Bucket=bucket, Delete={"Objects": batch})

    def provision(self, instance) -> dict[str, str]:
        self._require_configured()
        prefix = f"{settings.APPCONTROL_S3_PREFIX}media/{encode_id(instance.pk)}/"
        instance.resource = {"bucket": settings.APPCONTROL_S3_BUCKET, "prefix": prefix}
        endpoint = settings.APPCONTROL_S3_ENDPOINT_URL or f"https://s3.{settings.APPCONTROL_S3_REGION}.amazonaws.com"
        parts = urlsplit(endpoint)
        credentials = ""
        if settings.APPCONTROL_S3_ACCESS_KEY_ID:
            key = quote(settings.APPCONTROL_S3_ACCESS_KEY_ID, safe="")
            secret = quote(settings.APPCONTROL_S3_SECRET_ACCESS_KEY, safe="")
            credentials = f"{key}:{secret}@"
        dsn = (
            f"s3://{credentials}{parts.netloc}/{settings.APPCONTROL_S3_BUCKET}/{prefix}"
            f"?region={settings.APPCONTROL_S3_REGION}&scheme={parts.scheme}"
        )
        return {variable_name(instance.prefix, "STORAGE"): dsn}

    def deprovision(self, instance) -> None:
        if "prefix" in instance.resource and self.is_configured():
            self._delete_prefix(instance.resource["prefix"])

    def dump(self, instance, out) -> datetime:
        self._require_configured()
        client, bucket, prefix = s3_client(), instance.resource["bucket"], instance.resource["prefix"]
        taken_at = timezone.now()
        with tarfile.open(fileobj=out, mode="w|gz") as archive:
            for item in sorted(self._keys(prefix), key=lambda item: item["Key"]):
                info = tarfile.TarInfo(item["Key"][len(prefix) :])
                info.size = item["Size"]
                info.mtime = item["LastModified"].timestamp()
                body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"]
                archive.addfile(info, body)
        return taken_at

    def restore(self, instance, source) -> None:
        self._require_configured()
        client, bucket, prefix = s3_client(), instance.resource["bucket"], instance.resource["prefix"]
        self.discard_partial_restore(instance)
        staging = f"{_staging_prefix(prefix)}{secrets.token_hex(4)}/"
        restored = set()
        try:
            for name, member, archive in media_archive.members(source, media_limits(), check=check_deadline):
                if not member.isreg():
                    continue
                # A streamed archive cannot seek, boto3 wants to: spool each file (to disk if large).
                with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
                    for chunk in media_archive.contents(archive, member):
                        spool.write(chunk)
                    spool.seek(0)
                    client.upload_fileobj(spool, bucket, staging + name)
                restored.add(name)
        except media_archive.ArchiveError as error:
            self._delete_prefix(staging)
            raise EngineError(f"The storage archive cannot be restored: {error}") from None
        except BaseException:
            self._delete_prefix(staging)
            raise
        for name in sorted(restored):
            client.copy({"Bucket": bucket, "Key": staging + name}, bucket, prefix + name)
        stale = [item["Key"] for item in self._keys(prefix) if item["Key"][len(prefix) :] not in restored]
        for start in range(0, len(stale), 1000):
            client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start : start + 1000]]})
        self._delete_prefix(staging)

    def discard_partial_restore(self, instance) -> None:
        if "prefix" in instance.resource and self.is_configured():
            self._delete_prefix(_staging_prefix(instance.resource["prefix"]))

    def check_artifact(self, head: bytes) -> None:
        check_tar_head(head)

    def verify_artifact(self, source) -> None:
        check_media_archive(source)
