"""The sitemap: an index (/sitemap.xml) of sections, one per kind of page and language, each split
into pages of at most `RecordSitemap.limit` URLs (the protocol allows 50,000).

Each section is read one page at a time from the database, in primary-key order. Django's own
`i18n = True` would list every (record, language) pair of a section in memory to paginate them, so
every page would read the whole table; a section per language avoids that. The pages themselves
name their other language with `<link rel="alternate" hreflang>`, so the sitemap does not repeat it.
"""

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils import translation

from .caching import cached_public_page
from .models import Crisis, Exercise, ExerciseSeries, Membership, Milestone, Source, State, Summit
from .views import count_all


class LanguageSitemap(Sitemap):
    language = settings.LANGUAGE_CODE

    def get_urls(self, page=1, site=None, protocol=None):
        with translation.override(self.language):
            return super().get_urls(page=page, site=site, protocol=protocol)


class PagesSitemap(LanguageSitemap):
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


class RecordSitemap(LanguageSitemap):
    # A URL costs about 55 µs (its reverse(), its date and the template): 1,000 a page keeps a page
    # near 55 ms, and 100,000 records still need only 100 pages per language in the index.
    limit = 1000
    model = None
    fields = ("key", "updated_at")

    def __init__(self, count=None):
        self.count = count  # the number of records, when the index counted every kind at once

    def items(self):
        return self.model.objects.only(*self.fields).order_by("pk")

    @property
    def paginator(self):
        paginator = Paginator(self.items(), self.limit)
        if self.count is not None:
            paginator.count = self.count
        return paginator

    def lastmod(self, record):
        return record.updated_at

    def get_latest_lastmod(self):
        """None: the index gives no date per section (Django's default reads every record);
        each URL in a section has its own."""
        return None


def record_sitemap(model, language):
    fields = ("code", "updated_at") if model is State else RecordSitemap.fields
    attributes = {"model": model, "language": language, "fields": fields}
    return type(f"{model.__name__}Sitemap", (RecordSitemap,), attributes)


MODELS = (State, Membership, Summit, ExerciseSeries, Exercise, Crisis, Milestone, Source)
sitemaps = {}
for language, _name in settings.LANGUAGES:
    sitemaps[f"pages-{language}"] = type("PagesSitemap", (PagesSitemap,), {"language": language})
    for model in MODELS:
        sitemaps[f"{model._meta.model_name}-{language}"] = record_sitemap(model, language)


def index(request):
    """The index, with every kind counted in one query."""
    record_sitemaps = {
        name: sitemap for name, sitemap in sitemaps.items() if issubclass(sitemap, RecordSitemap)
    }
    counts = dict(zip(MODELS, count_all([model.objects.values("pk") for model in MODELS]), strict=True))
    counted = {
        name: sitemap(counts[sitemap.model]) if name in record_sitemaps else sitemap
        for name, sitemap in sitemaps.items()
    }
    return sitemap_views.index(request, counted, sitemap_url_name="sitemap_section")


def section(request, section):
    # Django's template also renders a changefreq, a priority and alternates for each URL, which
    # no section sets, and strips the whole page's whitespace: a third of a page's time.
    return sitemap_views.sitemap(request, sitemaps, section=section, template_name="catalog/sitemap.xml")


# The page cache keys on these parameters only (catalog/caching.py).
section.query_parameters = ("p",)
section.query_defaults = {"p": "1"}
cached_index = cached_public_page(index)
cached_section = cached_public_page(section)
