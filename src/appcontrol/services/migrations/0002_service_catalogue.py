from django.db import migrations

CATALOGUE = [
    ("postgres", "PostgreSQL", "DATABASE", "postgres",
     "A PostgreSQL database with its own login role, on the cluster the operator configured."),
    ("sqlite", "SQLite", "DATABASE", "sqlite", "A SQLite database file on the server's data volume."),
    ("storage", "Media storage", "STORAGE", "filesystem", "A directory for media files on the server's data volume."),
    ("s3-storage", "S3 media storage", "STORAGE", "s3", "A prefix in the S3 bucket the operator configured."),
]


def add_catalogue(apps, schema_editor):
    Service = apps.get_model("services", "Service")
    for identifier, name, service_type, engine, description in CATALOGUE:
        Service.objects.update_or_create(
            engine=engine,
            defaults={"identifier": identifier, "name": name, "type": service_type, "description": description},
        )


class Migration(migrations.Migration):
    dependencies = [("services", "0001_initial")]
    operations = [migrations.RunPython(add_catalogue, migrations.RunPython.noop)]
