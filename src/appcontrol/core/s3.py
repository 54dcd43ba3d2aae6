"""The operator's S3 bucket (any S3-compatible server), shared by artifact storage and media storage."""

from functools import lru_cache

from django.conf import settings


def s3_configured() -> bool:
    return bool(settings.APPCONTROL_S3_BUCKET)


@lru_cache(maxsize=8)
def _client(endpoint_url, region, access_key, secret_key):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        config=Config(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"}),
    )


def s3_client():
    return _client(
        settings.APPCONTROL_S3_ENDPOINT_URL,
        settings.APPCONTROL_S3_REGION,
        settings.APPCONTROL_S3_ACCESS_KEY_ID,
        settings.APPCONTROL_S3_SECRET_ACCESS_KEY,
    )
