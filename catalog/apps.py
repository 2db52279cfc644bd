from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")

    def ready(self):
        from . import involvement, versioning

        # Migrations may rebuild tables (dropping their triggers) or add tables: the database's
        # triggers are dropped before and made again after every migrate of this app.
        for module in (versioning, involvement):
            pre_migrate.connect(module.before_migrate, sender=self)
            post_migrate.connect(module.after_migrate, sender=self)
