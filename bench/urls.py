"""The site's URLs plus `/bench/hello/`: the cheapest page Django can serve through the same
middleware and gunicorn configuration, the ceiling every page is compared with."""

from django.http import HttpResponse
from django.urls import path

from cstosite.urls import urlpatterns as site_urlpatterns


def hello(request):
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [path("bench/hello/", hello, name="bench_hello"), *site_urlpatterns]
