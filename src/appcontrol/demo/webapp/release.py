"""The demo's release command: runs once per deployment, before the new release starts."""

import os

print(f"release: migrating the {os.environ.get('STAGE', '?')} database", flush=True)
if os.environ.get("DATABASE_URL"):
    print("release: DATABASE_URL is set", flush=True)
print("release: done", flush=True)
