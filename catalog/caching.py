"""Conditional GET and a page cache for the public pages, both keyed by the catalog's version.

The version is read in one query from indexed columns: the newest `updated_at` of every catalog
table (raised by every save, by bulk inserts through the column's database default, and by
fixture loads) and the newest `history_date` of every history table (every audited save, revert,
import and delete writes one). Any change to the catalog therefore changes the version, so a
cached page is never served after the data behind it changed, and nothing has to be invalidated
by hand.
"""

import hashlib
from datetime import UTC
from functools import wraps

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from django.utils.timezone import is_aware, make_aware

CACHE_ALIAS = "pages"


def _version_sql():
    quote = connection.ops.quote_name
    columns = []
    for model in apps.get_app_config("catalog").get_models():
        if model._meta.db_table.startswith("catalog_historical"):
            column = "history_date"
        elif any(field.name == "updated_at" for field in model._meta.concrete_fields):
            column = "updated_at"
        else:
            continue
        columns.append(f"(SELECT MAX({quote(column)}) FROM {quote(model._meta.db_table)})")
    return "SELECT " + ", ".join(columns)


def catalog_version():
    """(an opaque version string, the time of the latest change or None)."""
    with connection.cursor() as cursor:
        cursor.execute(_version_sql())
        row = cursor.fetchone()
    stamps = [value if hasattr(value, "timestamp") else parse_datetime(value) for value in row if value]
    # SQLite hands back naive text; every stored time is UTC (USE_TZ).
    stamps = [stamp if is_aware(stamp) else make_aware(stamp, UTC) for stamp in stamps]
    latest = max(stamps, default=None)
    version = hashlib.blake2b("|".join(str(value) for value in row).encode(), digest_size=12).hexdigest()
    return version, latest


def cached_public_page(view):
    """Answer GET and HEAD from the cache when the catalog has not changed, and with 304 when the
    reader's copy is current. Only complete, successful HTML pages are stored."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or "format" in request.GET:
            return view(request, *args, **kwargs)
        version, latest = catalog_version()
        etag = f'"{version}"'
        last_modified = int(latest.timestamp()) if latest else None
        not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if not_modified is not None:
            return not_modified

        cache = caches[CACHE_ALIAS]
        key = "page:" + hashlib.blake2b(f"{version}|{request.get_full_path()}".encode()).hexdigest()
        response = cache.get(key)
        if response is None:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            if response.status_code == 200 and not response.streaming:
                cache.set(key, response, settings.PUBLIC_PAGE_CACHE_SECONDS)
        response["ETag"] = etag
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
        patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        return response

    return wrapper
