import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_organisation_from_environment(apps, schema_editor):
    Environment = apps.get_model("applications", "Environment")
    organisation = Environment.objects.filter(pk=OuterRef("environment_id")).values("organisation_id")[:1]
    for name in ("Backup", "ServiceInstanceBackup"):
        apps.get_model("backups", name).objects.update(organisation_id=Subquery(organisation))


def organisation_field(null: bool):
    return models.ForeignKey(
        editable=False,
        null=null,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to="accounts.organisation",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("applications", "0011_environment_organisation"),
        ("backups", "0004_restores_waiting_for_provisioning"),
    ]

    operations = [
        migrations.AddField(model_name="backup", name="organisation", field=organisation_field(null=True)),
        migrations.AddField(
            model_name="serviceinstancebackup", name="organisation", field=organisation_field(null=True)
        ),
        migrations.RunPython(copy_organisation_from_environment, migrations.RunPython.noop),
        migrations.AlterField(model_name="backup", name="organisation", field=organisation_field(null=False)),
        migrations.AlterField(
            model_name="serviceinstancebackup", name="organisation", field=organisation_field(null=False)
        ),
    ]
