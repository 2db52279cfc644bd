"""Login throttling with django-axes, fitted to this site."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings


class LoginThrottleBackend(AxesStandaloneBackend):
    """Counts failed logins and refuses them during a lockout.

    Every login over the web carries its request. A call without one comes from code
    (the test client's `login()`, a shell), which no one can reach from outside, so it is
    left to the next backend instead of failing as django-axes' own backend does.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request):
    """The client's address: REMOTE_ADDR, or behind PROXY_COUNT trusted proxies the address
    the outermost of them appended to X-Forwarded-For (a client can forge the entries before it)."""
    count = settings.PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")
