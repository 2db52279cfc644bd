"""sitemap.xml: every public page and record, in Chinese and in English."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Crisis, Exercise, ExerciseSeries, Membership, Milestone, Source, State, Summit


class PagesSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    names = (
        "home",
        "state_list",
        "membership_list",
        "summit_list",
        "exercise_list",
        "crisis_list",
        "organization",
        "source_list",
        "timeline",
    )

    def items(self):
        return list(self.names)

    def location(self, item):
        return reverse(f"catalog:{item}")


class RecordSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    model = None

    def items(self):
        return self.model.objects.order_by("pk")

    def lastmod(self, record):
        return record.updated_at


def record_sitemap(model):
    return type(f"{model.__name__}Sitemap", (RecordSitemap,), {"model": model})


sitemaps = {
    "pages": PagesSitemap,
    **{
        model._meta.model_name: record_sitemap(model)
        for model in (State, Membership, Summit, ExerciseSeries, Exercise, Crisis, Milestone, Source)
    },
}
