import math
import time

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    compiler_module = "appcontrol.core.backends.postgresql.compiler"


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    # Django's health check pings a kept connection (`SELECT 1`, a round trip) before each request uses it, to
    # catch a database restarted between two requests. A connection whose last request ended without an error
    # moments ago is reused without the ping, as connection pools do (HikariCP: 500 ms); one that idled longer
    # is pinged as before.
    trusted_for_seconds = 0.5
    _healthy_at = -math.inf  # time.monotonic() when a request last ended with this connection working
    _used = False  # by the request under way

    def close_if_health_check_failed(self):
        # Called before each cursor of a request; the first call is where Django pings.
        if self.connection is not None and time.monotonic() - self._healthy_at < self.trusted_for_seconds:
            self.health_check_done = True
        else:
            super().close_if_health_check_failed()
        self._used = True

    def close_if_unusable_or_obsolete(self):
        # Called as a request starts and as it ends: only the end of a request that used the connection
        # without an error vouches for it (after an error, Django's own ping here decides, as before).
        if self._used and self.connection is not None and not self.errors_occurred:
            self._healthy_at = time.monotonic()
        self._used = False
        super().close_if_unusable_or_obsolete()

    def close(self):
        super().close()
        self._healthy_at = -math.inf
