from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "appcontrol.core"
    label = "core"

    def ready(self):
        from .counters import counters_expire
        from .jobs import jobs_reap
        from .periodic import register
        from .planner_statistics import planner_statistics_refresh

        register("reaped", jobs_reap)
        register("counters expired", counters_expire, every_seconds=300)
        register("planner statistics", planner_statistics_refresh, every_seconds=3600)
