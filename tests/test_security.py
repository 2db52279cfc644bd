import contextlib
import os
import secrets
import subprocess
import sys
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings as django_settings
from django.urls import NoReverseMatch, URLPattern, reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from catalog import urls as catalog_urls

from .factories import make_citation, make_crisis, make_exercise, make_membership, make_state, make_summit

PROJECT_DIR = django_settings.BASE_DIR


def run_manage(*args, **env):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    environment.update(DJANGO_SETTINGS_MODULE="cstosite.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_HTTPS": "1",
    "DJANGO_ALLOWED_HOSTS": "csto.example.org",
}


def test_deploy_check_reports_nothing_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert result.stderr == ""


def test_deploy_check_warns_without_https_settings():
    result = run_manage("check", "--deploy", **{**PRODUCTION_ENV, "DJANGO_HTTPS": "0"})

    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_production_start_fails_clearly_without_a_secret_key():
    result = run_manage("check", DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_a_blank_database_url_serves_the_default_sqlite_database():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection; print(connection.vendor)",
        DATABASE_URL=" ",
        DJANGO_DEBUG="1",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sqlite"


EXPECTED_CSP = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def csp_directives(header):
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def assert_security_headers(response):
    assert csp_directives(response["Content-Security-Policy"]) == EXPECTED_CSP
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "script-src" not in response["Content-Security-Policy"]
    assert "style-src" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_public_page_sends_the_security_headers(client):
    response = client.get(reverse("catalog:exercise_list"))

    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.django_db
def test_admin_pages_send_the_security_headers(client, admin_client):
    login = client.get(reverse("admin:login"))
    change = admin_client.get(reverse("admin:catalog_exercise_add"))

    for response in (login, change):
        assert response.status_code == 200
        assert_security_headers(response)


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_http_only_or_same_site(admin_client):
    response = admin_client.get(reverse("admin:catalog_exercise_add"))

    assert response.cookies["csrftoken"]["samesite"] == "Lax"
    assert django_settings.SESSION_COOKIE_HTTPONLY is True


# Every public list page: the named routes of the catalog that take no arguments.
def list_url_names():
    names = [
        pattern.name
        for pattern in catalog_urls.urlpatterns
        if isinstance(pattern, URLPattern)
        and (pattern.name.endswith("_list") or pattern.name == "timeline")
        and not pattern.pattern.converters
    ]
    return sorted(f"catalog:{name}" for name in names)


KNOWN_LIST_PAGES = {
    "catalog:state_list",
    "catalog:membership_list",
    "catalog:summit_list",
    "catalog:exercise_list",
    "catalog:crisis_list",
    "catalog:source_list",
    "catalog:timeline",
}


def test_the_fuzzed_pages_include_every_known_list_page():
    assert set(list_url_names()) >= KNOWN_LIST_PAGES


# Keys the filters are likely to read, and anything else.
LIKELY_KEYS = [
    "q",
    "page",
    "sort",
    "ordering",
    "o",
    "year",
    "year_min",
    "year_max",
    "date_after",
    "date_before",
    "state",
    "states",
    "host",
    "series",
    "role",
    "kind",
    "response",
    "troops_min",
    "troops_max",
    "language",
    "per_page",
]
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
VALUES = st.one_of(
    TEXT,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", "0", "-1", "1e309", "NaN", "2008-13-45", "9999-99", "KZ", "kz", "xx", "null"]),
    st.text(st.characters(exclude_categories=["Cs"]), min_size=500, max_size=3000),
    st.sampled_from(
        ["鲁贝日", "集体安全条约组织", "ＲＵＢＥＺＨ", "Рубеж", "' OR 1=1 --", "%", "_", "\\", "\x00"]
    ),
)
QUERY_PAIRS = st.lists(st.tuples(st.one_of(st.sampled_from(LIKELY_KEYS), TEXT), VALUES), max_size=8)
# Raw query strings that are not valid percent-encoding or UTF-8.
RAW_QUERIES = st.sampled_from(
    ["%", "%ZZ", "q=%FF%FE", "page=%00", "=&&=&q", "q=" + "%E4" * 50, "a[]=1&a[]=2"]
)


@pytest.fixture
def some_records(db):
    kazakhstan = make_state("KZ")
    make_membership(state=kazakhstan, start="1994-04-20")
    exercise = make_exercise(name_zh="鲁贝日-2008", name_en="Rubezh 2008", hosts=[kazakhstan], troops=4000)
    make_summit(host=kazakhstan)
    make_crisis(states=[kazakhstan])
    make_citation(exercise)


FUZZ_SETTINGS = hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("url_name", list_url_names())
@FUZZ_SETTINGS
@given(pairs=QUERY_PAIRS, raw=st.one_of(st.none(), RAW_QUERIES))
def test_list_page_answers_any_query_string_without_a_server_error(
    client, some_records, url_name, pairs, raw
):
    query = raw if raw is not None else urlencode(pairs, quote_via=quote)
    for prefix in ("", "/en"):
        response = client.get(f"{prefix}{reverse(url_name)}?{query}")
        assert response.status_code < 500, (url_name, query)
        assert response.status_code in {200, 301, 302, 400, 404}


# Chromium: the admin's pages run under the CSP without a single violation.
CHROMIUM = "/usr/bin/chromium"
# Playwright's sync API keeps an event loop running for the whole session; Django would
# refuse database calls from the test thread under it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`);
});
"""


@pytest.fixture
def chromium(playwright):
    """Debian's Chromium, driven through pytest-playwright's session (never a downloaded browser)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: `make browser` installs it.")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    )
    yield browser
    browser.close()


def admin_pages(exercise, state):
    pages = [
        reverse("admin:index"),
        reverse("admin:catalog_exercise_changelist"),
        reverse("admin:catalog_exercise_change", args=[exercise.pk]),
        reverse("admin:catalog_summit_add"),
        reverse("admin:catalog_state_change", args=[state.pk]),
        reverse("admin:catalog_exercise_history", args=[exercise.pk]),
        reverse(
            "admin:catalog_exercise_simple_history",
            args=[exercise.pk, exercise.history.earliest("history_date").pk],
        ),
    ]
    # Import and export pages, wherever an admin offers them.
    for name in ("import", "export"):
        with contextlib.suppress(NoReverseMatch):
            pages.append(reverse(f"admin:catalog_exercise_{name}"))
    return pages


@pytest.mark.django_db(transaction=True)
def test_admin_pages_run_in_chromium_without_csp_violations(live_server, chromium, django_user_model):
    django_user_model.objects.create_superuser("admin", password="admin-password")
    state = make_state("KZ")
    exercise = make_exercise(hosts=[state], troops=1000)
    make_citation(exercise)
    exercise.troops = 2000
    exercise.save()
    page = chromium.new_page()
    page.add_init_script(REPORT_VIOLATIONS)
    messages, failed = [], []
    page.on("console", lambda message: messages.append((page.url, message.type, message.text)))
    # The browser asks for /favicon.ico by itself; the site has none yet.
    page.on(
        "response", lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and failed.append(r.url)
    )

    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin-password")
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + reverse("admin:index"))
    visited = []
    for path in admin_pages(exercise, state):
        response = page.goto(live_server.url + path)
        visited.append((path, response.status))
    # The inline's "add another" link is script: it must still work under the CSP.
    page.goto(live_server.url + reverse("admin:catalog_exercise_change", args=[exercise.pk]))
    page.click("#catalog-photo-content_type-object_id-group .add-row a")
    added = page.locator("#catalog-photo-content_type-object_id-group .inline-related:not(.empty-form)")

    assert [status for _, status in visited] == [200] * len(visited)
    assert added.count() == 1
    assert [m for m in messages if "Content Security Policy" in m[2] or "CSP violation" in m[2]] == []
    assert [m for m in messages if m[1] == "error" and "404" not in m[2]] == []
    assert failed == []
    page.close()
