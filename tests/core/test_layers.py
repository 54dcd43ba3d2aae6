"""The parts of the product build on each other in one direction: a lower layer never imports a higher one
(it publishes an event instead), and a service function never imports the job runners that call it."""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "appcontrol"
LAYERS = ["core", "accounts", "applications", "services", "backups", "deployments", "activities", "demo"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                package = path.relative_to(SOURCE.parent).parent.parts
                base = ".".join(package[: len(package) - node.level + 1])
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return found


def modules_of(layer: str):
    return [path for path in (SOURCE / layer).rglob("*.py") if "migrations" not in path.parts]


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_a_higher_one(layer):
    higher = LAYERS[LAYERS.index(layer) + 1 :]
    offences = [
        f"{path.relative_to(SOURCE)} imports {module}"
        for path in modules_of(layer)
        for module in imported_modules(path)
        if any(module == f"appcontrol.{name}" or module.startswith(f"appcontrol.{name}.") for name in higher)
    ]
    assert not offences, offences


@pytest.mark.parametrize("layer", LAYERS)
def test_service_functions_do_not_import_their_job_runners(layer):
    services = SOURCE / layer / "services.py"
    if services.exists():
        assert f"appcontrol.{layer}.tasks" not in imported_modules(services)


def test_the_runtime_drivers_import_neither_django_nor_the_rest_of_appcontrol():
    offences = [
        f"{path.relative_to(SOURCE)} imports {module}"
        for path in modules_of("runtime")
        for module in imported_modules(path)
        if module.split(".")[0] == "django"
        or (module.startswith("appcontrol.") and not module.startswith("appcontrol.runtime"))
    ]
    assert not offences, offences
