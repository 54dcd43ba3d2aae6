import time

from .errors import WaitTimeout


def wait_until(fetch, done, timeout: float, interval: float, on_progress=None):
    """Call `fetch()` until `done(result)`; report each result to `on_progress`; give up after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if on_progress is not None:
            on_progress(result)
        if done(result):
            return result
        if time.monotonic() + interval > deadline:
            raise WaitTimeout(f"Still not finished after {timeout:.0f} s: {type(result).__name__} {result.uuid}")
        time.sleep(interval)
