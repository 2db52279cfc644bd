from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from . import versioning

        # Migrations may rebuild tables (dropping their triggers) or add tables: the version
        # triggers are dropped before and made again after every migrate of this app.
        pre_migrate.connect(versioning.before_migrate, sender=self)
        post_migrate.connect(versioning.after_migrate, sender=self)
