"""The capability URLs behind `download_url`, the upload URL and `finish_url`.

Clients call them with plain HTTP and no token (divio-cli even sends netrc Basic credentials), so
these views ignore the Authorization header entirely and trust only the signed, expiring link.
"""

import re

from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from appcontrol.core.ids import InvalidId, decode_id, encode_id
from appcontrol.core.links import LinkError, link_payload
from appcontrol.core.storage import ArtifactError, artifact_store
from appcontrol.services.engines import engine_for

from . import services
from .models import Backup, BackupDownloadServiceInstance, ServiceInstanceBackup

CHUNK = 1024 * 1024
# Offsets of up to 18 digits (any artifact's size fits); a longer one is not a range this server serves.
RANGE_RE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _object_from_link(purpose: str, token: str, key: str, model):
    payload = link_payload(purpose, token)
    try:
        return model.objects.filter(pk=decode_id(payload[key])).first()
    except (KeyError, InvalidId):
        raise LinkError("This link is not valid.") from None


class Unsatisfiable(Exception):
    pass


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """A single `bytes=a-b` range as inclusive offsets; None for a Range this server ignores (several
    ranges, another unit, invalid syntax: RFC 9110 lets it send the whole artifact instead). Raises
    Unsatisfiable for a valid range that lies beyond the artifact."""
    match = RANGE_RE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        if not length:
            raise Unsatisfiable()
        return max(size - length, 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable()
    return start, min(int(last), size - 1) if last else size - 1


def _stream(handle, remaining: int):
    with handle:
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


@require_http_methods(["GET", "HEAD"])
def artifact_download(request, token):
    try:
        item = _object_from_link("download", token, "item", BackupDownloadServiceInstance)
    except LinkError as error:
        return _error(403, str(error))
    if item is None or item.errors:
        return _error(404, "Not found.")
    sib = item.service_instance_backup
    size = sib.size or 0
    start, end, status = 0, size - 1, 200
    try:
        byte_range = _byte_range(request.headers.get("Range", ""), size)
    except Unsatisfiable:
        response = _error(416, "The requested range is not satisfiable.")
        response["Content-Range"] = f"bytes */{size}"
        return response
    if byte_range is not None:
        (start, end), status = byte_range, 206
    try:
        handle = artifact_store().open(sib.artifact, offset=start)
    except ArtifactError as error:
        return _error(404, str(error))
    length = end - start + 1 if size else 0
    response = StreamingHttpResponse(_stream(handle, length), status=status, content_type="application/octet-stream")
    extension = engine_for(sib.engine).artifact_extension
    filename = f"{sib.service_type.lower()}-{encode_id(sib.pk)}.{extension}"
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Checksum-SHA256"] = sib.sha256  # of the whole artifact, also for a range
    response["ETag"] = f'"{sib.sha256}"'
    response["Cache-Control"] = "private, no-store"
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _body(request):
    """The request body as a stream. With `Transfer-Encoding: chunked` there is no Content-Length, so
    Django reads it as empty; the server (gunicorn) has decoded the chunks and ends `wsgi.input` itself."""
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if chunked and request.META.get("wsgi.input_terminated"):
        return request.META["wsgi.input"]
    return request


@csrf_exempt
@require_http_methods(["PUT"])
def artifact_upload(request, token):
    try:
        sib = _object_from_link("upload", token, "sib", ServiceInstanceBackup)
    except LinkError as error:
        return _error(403, str(error))
    if sib is None:
        return _error(404, "Not found.")
    limit = services.upload_limit()
    declared = request.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        return _error(413, f"The upload is larger than the limit of {limit} bytes.")
    try:
        services.service_instance_backup_receive(sib=sib, stream=_body(request), max_bytes=limit)
    except services.UploadConflict as error:
        return _error(409, str(error))
    except services.BackupError as error:
        return _error(400, str(error))
    return JsonResponse({"uuid": encode_id(sib.pk), "size": sib.size, "sha256": sib.sha256})


@csrf_exempt
@require_http_methods(["POST"])
def artifact_upload_finish(request, token):
    try:
        backup = _object_from_link("upload-finish", token, "backup", Backup)
    except LinkError as error:
        return _error(403, str(error))
    if backup is None:
        return _error(404, "Not found.")
    try:
        services.backup_upload_finish(backup=backup)
    except services.BackupError as error:
        return _error(400, str(error))
    return JsonResponse({"uuid": encode_id(backup.pk), "state": backup.state}, status=202)
