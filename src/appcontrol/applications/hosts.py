"""The host names an environment answers at through the router."""

from django.conf import settings

from .models import Environment


def default_host(environment: Environment) -> str:
    return f"{environment.application.slug}-{environment.slug}.{settings.APPCONTROL_APPS_DOMAIN}"


def environment_hosts(environment: Environment) -> list[str]:
    """The default host name first, then the environment's domains (the primary one first)."""
    domains = sorted(environment.domains.all(), key=lambda domain: (not domain.is_primary, domain.domain))
    return [default_host(environment), *(domain.domain for domain in domains)]


def environment_url(environment: Environment) -> str:
    port = settings.APPCONTROL_ROUTER_BIND.rpartition(":")[2]
    suffix = "" if port in {"", "80"} else f":{port}"
    return f"http://{default_host(environment)}{suffix}/"
