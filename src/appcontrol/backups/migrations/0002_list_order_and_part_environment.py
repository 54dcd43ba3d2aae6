import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_environment_from_backup(apps, schema_editor):
    Backup = apps.get_model("backups", "Backup")
    ServiceInstanceBackup = apps.get_model("backups", "ServiceInstanceBackup")
    environment_of_backup = Backup.objects.filter(pk=OuterRef("backup_id")).values("environment_id")[:1]
    ServiceInstanceBackup.objects.update(environment_id=Subquery(environment_of_backup))


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0003_environmentvariable_service_instance_and_more"),
        ("backups", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="backup",
            index=models.Index(fields=["-created_at", "-uuid"], name="backups_bac_created_94acae_idx"),
        ),
        migrations.AddIndex(
            model_name="serviceinstancebackup",
            index=models.Index(fields=["-queued_at", "-uuid"], name="backups_ser_queued__a92db1_idx"),
        ),
        migrations.AddField(
            model_name="serviceinstancebackup",
            name="environment",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="service_instance_backups",
                to="applications.environment",
            ),
        ),
        migrations.RunPython(copy_environment_from_backup, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="serviceinstancebackup",
            name="environment",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="service_instance_backups",
                to="applications.environment",
            ),
        ),
        migrations.AddIndex(
            model_name="serviceinstancebackup",
            index=models.Index(fields=["environment", "-queued_at"], name="backups_ser_environ_ef0b64_idx"),
        ),
    ]
