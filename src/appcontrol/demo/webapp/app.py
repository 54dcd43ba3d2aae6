"""A small web application: it answers on $PORT with its version, its STAGE and what its release command
recorded. It prints a line per request (appcontrol collects the output as the environment's logs)."""

import http.server
import os
from pathlib import Path

VERSION = Path(__file__).with_name("VERSION").read_text().strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"version={VERSION} stage={os.environ.get('STAGE', '?')} greeting={os.environ.get('GREETING', '')}\n"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        print(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}", flush=True)


if __name__ == "__main__":
    print(f"demo {VERSION} starting on port {os.environ['PORT']}", flush=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    server.serve_forever()
