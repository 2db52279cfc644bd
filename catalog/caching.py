"""Conditional GET and a page cache for the public pages, both keyed by the catalog's version.

The version is the counter the database raises in every transaction that writes to the catalog
(catalog/versioning.py), read in one query of one row. A cached page is therefore never served
after the data behind it changed, by whatever means, and nothing has to be invalidated by hand.

A page is stored under its version, its path (which names the language) and the query parameters
its view knows, normalised: unknown parameters are dropped, empty values and defaults left out,
repeated values sorted. The view then renders from that normalised query, so every URL that maps
to one key gets the same page, and `?m=1` ... `?m=36` share one entry. Pages larger than
`PUBLIC_PAGE_CACHE_MAX_BYTES` are served but not stored. A view may keep a page for less time by
setting `cache_seconds` on the response (a list whose facet counts were left out, until they are
tried again); such a page gets no ETag, so that a reader's next visit is answered in full.

There is no Last-Modified header: the version says that something changed, not when, and the
ETag alone lets a reader revalidate.
"""

import hashlib
import math
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.http import QueryDict
from django.utils.cache import get_conditional_response, patch_cache_control

from .versioning import current_version

CACHE_ALIAS = "pages"


def normalized_query(view_class, query):
    """The query string as the view reads it: only the parameters it declares in
    `query_parameters`, without empty values or values equal to `query_defaults`; a parameter in
    `query_lists` keeps its distinct values sorted, any other its last value."""
    lists = set(getattr(view_class, "query_lists", ()))
    defaults = getattr(view_class, "query_defaults", {})
    normalized = QueryDict(mutable=True)
    for name in sorted(getattr(view_class, "query_parameters", ())):
        values = [value.strip() for value in query.getlist(name) if value.strip()]
        values = sorted(set(values)) if name in lists else values[-1:]
        if values and values != [defaults.get(name)]:
            normalized.setlist(name, values)
    return QueryDict(normalized.urlencode())  # read-only, as request.GET is


def cache_key(version, request):
    text = f"{version}|{request.path}|{request.GET.urlencode()}"
    return "page:" + hashlib.blake2b(text.encode(), digest_size=20).hexdigest()


def cached_public_page(view):
    """Answer GET and HEAD from the cache when the catalog has not changed, and with 304 when the
    reader's copy is current. Only complete, successful pages within the size bound are stored."""

    view_class = getattr(view, "view_class", view)  # a class-based view, or a function with the attributes

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD") or "format" in request.GET:
            return view(request, *args, **kwargs)
        request.GET = normalized_query(view_class, request.GET)
        version = request.catalog_version = current_version()
        if version is None:  # no counter row (a database being set up): nothing is cached
            return view(request, *args, **kwargs)
        etag = f'"{version}"'
        not_modified = get_conditional_response(request, etag=etag)
        if not_modified is not None:
            return not_modified

        cache = caches[CACHE_ALIAS]
        key = cache_key(version, request)
        response = cache.get(key)
        if response is None:
            response = view(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            seconds = min(settings.PUBLIC_PAGE_CACHE_SECONDS, getattr(response, "cache_seconds", math.inf))
            if (
                response.status_code == 200
                and not response.streaming
                and len(response.content) <= settings.PUBLIC_PAGE_CACHE_MAX_BYTES
                and seconds > 0
            ):
                cache.set(key, response, seconds)
        if not hasattr(response, "cache_seconds"):  # a page kept briefly is not revalidated
            response["ETag"] = etag
        patch_cache_control(response, public=True, max_age=0, must_revalidate=True)
        return response

    return wrapper
