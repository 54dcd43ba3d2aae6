"""`appctl`: the command line. `appctl api GET /apps/v3/applications/ --paginate` for any call."""

import argparse
import json
import os
import sys

from . import __version__
from .client import Client
from .errors import APIError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appctl", description="Command line for the apps/v3 API.")
    parser.add_argument("--version", action="version", version=f"appctl {__version__}")
    parser.add_argument(
        "--url",
        default=os.environ.get("APPCTL_URL", "http://127.0.0.1:8000"),
        help="Server URL (env APPCTL_URL).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    api = commands.add_parser("api", help="Call any endpoint and print its JSON (token from APPCTL_TOKEN).")
    api.add_argument("method", type=str.upper, choices=["GET", "POST", "PUT", "PATCH", "DELETE"])
    api.add_argument("path", help="e.g. /apps/v3/applications/")
    api.add_argument("--paginate", action="store_true", help="Merge every page of a list into one JSON array.")
    api.add_argument(
        "-f",
        "--field",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Query parameter for GET, JSON body field otherwise; may repeat.",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    fields = dict(field.split("=", 1) for field in args.field)
    try:
        with Client(args.url) as client:
            if args.method == "GET" and args.paginate:
                result = list(client.paginate(args.path, **fields))
            elif args.method == "GET":
                result = client.get(args.path, **fields)
            else:
                response = client.request(args.method, args.path, json=fields)
                result = response.json() if response.content else None
    except APIError as error:
        print(f"error: {error.status} {json.dumps(error.detail)}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: cannot reach {args.url}: {error}", file=sys.stderr)
        return 1
    if result is not None:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
