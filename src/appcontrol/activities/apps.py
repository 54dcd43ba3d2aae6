from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "appcontrol.activities"
    label = "activities"

    def ready(self):
        from appcontrol.core.events import EVENTS, subscribe

        from .recorder import recorder_for

        # Every domain event is an activity: a new write publishes an event, and is recorded by that alone.
        for event in sorted(EVENTS):
            subscribe(event, recorder_for(event))
