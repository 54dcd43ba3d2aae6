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

    def close_if_unusable_or_obsolete(self):
        # Called as a request starts and as it ends; "checked and no error since" means it was used and worked.
        if self.connection is not None and self.health_check_done and not self.errors_occurred:
            self._healthy_at = time.monotonic()
        super().close_if_unusable_or_obsolete()

    def close_if_health_check_failed(self):
        if self.connection is not None and time.monotonic() - self._healthy_at < self.trusted_for_seconds:
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close(self):
        super().close()
        self._healthy_at = -math.inf
