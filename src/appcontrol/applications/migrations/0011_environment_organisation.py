import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_organisation_from_application(apps, schema_editor):
    Application = apps.get_model("applications", "Application")
    organisation = Application.objects.filter(pk=OuterRef("application_id")).values("organisation_id")[:1]
    apps.get_model("applications", "Environment").objects.update(organisation_id=Subquery(organisation))


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
        ("applications", "0010_repositories_allowed_internal_hosts"),
    ]

    operations = [
        migrations.AddField(model_name="environment", name="organisation", field=organisation_field(null=True)),
        migrations.RunPython(copy_organisation_from_application, migrations.RunPython.noop),
        migrations.AlterField(model_name="environment", name="organisation", field=organisation_field(null=False)),
    ]
