"""The bounds of what a git client may send to the hosted repositories, checked as the body streams through:
git http-backend itself would unpack any gzip body and read any number of ref-update commands, and its
memory grows with both.

- A push (receive-pack) is never compressed by git: a compressed one is refused. Its commands, the
  pkt-lines before the first flush, are bounded by PUSH_COMMANDS_MAX_BYTES; its pack by the push limit.
- A fetch (upload-pack) request may be gzip: it is unpacked here, at most FETCH_REQUEST_MAX_BYTES of it,
  and reaches git uncompressed.
"""

import zlib

PUSH_COMMANDS_MAX_BYTES = 1024 * 1024
FETCH_REQUEST_MAX_BYTES = 64 * 1024 * 1024
COMPRESSED = ("gzip", "x-gzip")


class BodyRefused(Exception):
    """The body went past a bound; the message says which."""


class PushCommands:
    """Counts the bytes of a push's commands (pkt-lines until the first flush-pkt) across chunks."""

    def __init__(self, limit: int = PUSH_COMMANDS_MAX_BYTES):
        self.limit = limit
        self.seen = 0
        self.payload_left = 0
        self.length = b""
        self.done = False

    def feed(self, chunk: bytes) -> None:
        index = 0
        while not self.done and index < len(chunk):
            if self.payload_left:
                taken = min(self.payload_left, len(chunk) - index)
                self.payload_left -= taken
            else:
                taken = min(4 - len(self.length), len(chunk) - index)
                self.length += chunk[index : index + taken]
                if len(self.length) == 4:
                    self._header()
            index += taken
            self.seen += taken
            if self.seen > self.limit:
                raise BodyRefused(f"The push names more branches and tags than {self.limit} bytes of commands hold.")

    def _header(self) -> None:
        try:
            size = int(self.length, 16)
        except ValueError:
            size = 0  # not pkt-line framing: git refuses it itself
        self.length = b""
        if size <= 4:  # flush-pkt (0000) and the other special packets end the commands
            self.done = True
        else:
            self.payload_left = size - 4


class Gunzip:
    """Unpacks a gzip body chunk by chunk, never more than `limit` bytes in all."""

    def __init__(self, limit: int = FETCH_REQUEST_MAX_BYTES):
        self.limit = limit
        self.total = 0
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, chunk: bytes) -> bytes:
        try:
            data = self.inflater.decompress(chunk, self.limit - self.total + 1)
        except zlib.error:
            raise BodyRefused("The request body is not valid gzip.") from None
        self.total += len(data)
        if self.total > self.limit or self.inflater.unconsumed_tail:
            raise BodyRefused(f"The fetch request unpacks to more than {self.limit} bytes.")
        return data
