"""`Idempotency-Key` on POST: a retry gets the first request's answer instead of doing the work again.

The first request with a key claims it (a row unique per token and key, holding a fingerprint of the
request) before its view runs; a successful answer is then stored and replayed for 24 hours to any retry
with the same key and the same request (`Idempotent-Replayed: true`). The same key with a different request
is 422; a retry while the first still runs is 409 with `Retry-After`. An answer that is not a success is not
kept (the work did not happen, or a rule refused it): a retry runs again. A claim whose request died before
answering is given up after ABANDONED_AFTER, longer than any API request runs.
"""

import hashlib
from datetime import timedelta

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from .models import IdempotentRequest

HEADER = "HTTP_IDEMPOTENCY_KEY"
RETENTION = timedelta(hours=24)
ABANDONED_AFTER = timedelta(minutes=5)
MAX_KEY_LENGTH = 255


def applies(request, caller) -> bool:
    return request.method == "POST" and caller is not None and HEADER in request.META


def run_once(request, token, get_response):
    key = request.META[HEADER]
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in key):
        return JsonResponse({"detail": "Idempotency-Key must be 1 to 255 visible ASCII characters."}, status=400)
    try:
        fingerprint = _fingerprint(request)
    except RequestDataTooBig:
        # Answered here: passed on, a multipart body could still be parsed and acted on without a claim.
        return JsonResponse({"detail": "The request body is larger than this server accepts."}, status=413)
    record, claimed = _claim(token, key, fingerprint)
    if record is None:
        return _still_running()
    if not claimed:
        if record.fingerprint != fingerprint:
            return JsonResponse(
                {"detail": "This Idempotency-Key was used with a different request: use a new key."}, status=422
            )
        return _still_running() if record.status_code is None else _replay(record)
    try:
        response = get_response(request)
    except BaseException:
        IdempotentRequest.objects.filter(pk=record.pk, created_at=record.created_at).delete()
        raise
    claim = IdempotentRequest.objects.filter(pk=record.pk, created_at=record.created_at)
    if 200 <= response.status_code < 300 and not response.streaming:
        # Updates nothing if a retry took over a claim that outlived ABANDONED_AFTER: its answer stands.
        claim.update(
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            location=response.get("Location", ""),
            body=response.content,
        )
    else:
        claim.delete()
    return response


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.META.get("QUERY_STRING", ""), request.content_type or ""):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _claim(token, key: str, fingerprint: str) -> tuple[IdempotentRequest | None, bool]:
    """(the new claim, True), or (the earlier request's row, False); (None, False) when the key keeps
    changing hands under concurrent retries."""
    for _ in range(3):
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(token=token, key=key, fingerprint=fingerprint), True
        except IntegrityError:
            pass
        earlier = IdempotentRequest.objects.filter(token=token, key=key).first()
        if earlier is None:
            continue  # given up meanwhile: claim it again
        now = timezone.now()
        expired = earlier.created_at <= now - RETENTION
        abandoned = earlier.status_code is None and earlier.created_at <= now - ABANDONED_AFTER
        if not (expired or abandoned):
            return earlier, False
        IdempotentRequest.objects.filter(pk=earlier.pk, created_at=earlier.created_at).delete()
    return None, False


def _replay(record: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type)
    if record.location:
        response["Location"] = record.location
    response["Idempotent-Replayed"] = "true"
    return response


def _still_running() -> JsonResponse:
    response = JsonResponse(
        {"detail": "A request with this Idempotency-Key is still running: retry shortly for its answer."},
        status=409,
    )
    response["Retry-After"] = "1"
    return response


def idempotent_requests_expire() -> int:
    """Periodic duty: forget answers older than the retention."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lte=timezone.now() - RETENTION).delete()
    return deleted
