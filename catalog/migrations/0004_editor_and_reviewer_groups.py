"""The editors' groups. Superusers manage accounts; these groups carry no auth permissions.

Editors view, add and change every catalog kind and its history, delete everything but
sources, and import and export spreadsheets (django-import-export checks the "add" and "view"
codes: IMPORT_EXPORT_*_PERMISSION_CODE). Reviewers view everything and export.

Permissions are normally created after migrate (post_migrate), so on an empty database they
do not exist yet when this runs: create them first. Running it again changes nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITORS = "Editors"
REVIEWERS = "Reviewers"
NOT_DELETED_BY_EDITORS = {"source", "historicalsource"}


def catalog_permissions(apps):
    app_config = apps.get_app_config("catalog")
    # create_permissions skips an app without a models module, as migration states have none.
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = models_module
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="catalog").select_related("content_type")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = list(catalog_permissions(apps))
    editors = [
        permission
        for permission in permissions
        if not (
            permission.codename.startswith("delete_")
            and permission.content_type.model in NOT_DELETED_BY_EDITORS
        )
    ]
    reviewers = [permission for permission in permissions if permission.codename.startswith("view_")]
    for name, granted in ((EDITORS, editors), (REVIEWERS, reviewers)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(granted)


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[EDITORS, REVIEWERS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0003_photo_and_state_emblem"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
