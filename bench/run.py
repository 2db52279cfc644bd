"""`make bench`: the site at scale, against Datasette and against a "hello" ceiling.

1. Builds a synthetic catalog of 100,000 exercises (bench/generate.py) in a throwaway SQLite
   database, bench-data/bench.sqlite3.
2. Serves it under gunicorn with production settings (plus the bench-only hello view) and loads
   each page with wrk: 8 connections (one for the pages with the cache off), 15 s per URL, after a
   2 s warm-up. Then, with the page cache off but the facet counts cached, walks through further
   pages and sorts of one filter and of the whole list, one request at a time.
3. Serves the same database with Datasette (pinned, in its own venv under bench-data/), once with
   its defaults and once with `--setting suggest_facets off`, and loads its equivalent pages.
4. Times the whole-catalog export and a 10,000-row exercises import outside the server.
5. Prints every number with the target it is held to, and rewrites the results section of
   docs/benchmarks.md.

Placement: every server runs on CPU 0 (`taskset -c 0`), wrk and this script on CPU 1, for all rows.
Every wait is bounded: each wrk run by its duration plus a margin, each start-up by a deadline.
A page or command that does not exist yet is reported as "not available yet" and skipped.
"""

import argparse
import contextlib
import datetime
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench-data"
DATABASE = DATA / "bench.sqlite3"
DOC = ROOT / "docs" / "benchmarks.md"
DATASETTE_VENV = DATA / "datasette-venv"
DATASETTE_REQUIREMENTS = ROOT / "bench" / "requirements-datasette.txt"
WRK_SCRIPT = ROOT / "bench" / "wrk_report.lua"
WALK_SCRIPT = ROOT / "bench" / "wrk_walk.lua"  # each request the next of a list of paths
RESULTS_START = "<!-- bench-results:start -->"
RESULTS_END = "<!-- bench-results:end -->"

EXERCISES = 100_000
SEED = 1
CONNECTIONS = 8
DURATION = 15  # seconds per URL
WRK_TIMEOUT = 30  # seconds; a slower response counts as an error, not as a latency
WARM_UP = 1  # seconds per URL at 2 connections (one per worker), not counted
#: Rounds of page 1 and page 2,000 in turn, their duration split between the rounds: a drift of
#: the machine during the runs then falls on both pages alike, not on one of their ratio's terms.
PAIR_ROUNDS = 3
#: Seconds of hello just before each cached page, at the page's connections: the page's share of
#: hello is taken against it, since this machine's speed swings within minutes (hello has answered
#: 1,751 req/s, and 256 req/s a minute later).
HELLO_BESIDE = 3
SERVER_CPU = "0"
CLIENT_CPU = "1"
GUNICORN_WORKERS = 2
TTFB_REPEATS = 5

# Our pages. Change a URL here when a route or parameter changes.
HELLO_URL = "/bench/hello/"
FILTERED_LIST_URL = "/exercises/?state=KZ&year_from=2008&year_to=2014"
LIST_URL = "/exercises/?sort=date"
LIST_DEEP_URL = "/exercises/?sort=date&page=2000"
DETAIL_KEY = "syn-exercise-050000"  # any synthetic exercise: each has two citations
DETAIL_URL = f"/exercises/{DETAIL_KEY}/"
HOME_URL = "/"
# About 10,000 rows: the synthetic exercises spread evenly over 30 years, this is three of them.
CSV_URL = "/exercises/?year_from=2014&year_to=2016&format=csv"
PAGE_SIZE = 50  # our list's page size: page 2,000 starts at row 99,950
# A reader who has seen a list's first page and goes on to its further pages and sorts: the facet
# counts are then read from their cache, only the rows are read and rendered. Each walk is the
# first page (asked for in the warm-up, which caches the counts in both workers) and the further
# pages of every sort in turn, so consecutive requests differ in sort and page.
WALK_SORTS = ("date", "-troops", "name", "-date")
WALK_PAGES = range(2, 11)
WALKS = {
    "walk_filtered": ("a seen filter", FILTERED_LIST_URL),
    "walk_list": ("the unfiltered list", "/exercises/"),
}
# Every other kind of public page, loaded for a shorter time each (a third of --duration, at least
# 3 s) so that the whole run stays short. Detail pages of each kind are added by `kind_urls()` from
# keys found in the database; a page that does not exist yet is reported as not available.
KIND_PAGES = {
    "state_list": ("states", "/states/"),
    "membership_list": ("memberships", "/memberships/"),
    "summit_list": ("summits", "/summits/"),
    "crisis_list": ("crises", "/crises/"),
    "source_list": ("sources", "/sources/"),
    "milestone_list": ("milestones", "/milestones/"),
    "series_list": ("exercise series", "/exercises/series/"),
    "organization": ("the organization itself", "/organization/"),
    "list_sorted": ("exercises by troops, page 2", "/exercises/?sort=-troops&page=2"),
    "state_page": ("state page", "/states/KZ/"),
    "timeline": ("timeline, first years", "/timeline/"),
    "timeline_year": ("timeline from 2010", "/timeline/?year=2010"),
    "timeline_state": ("timeline of one state", "/timeline/?state=KZ"),
    "sitemap": ("sitemap index", "/sitemap.xml"),
    "sitemap_page": ("sitemap page", "/sitemap-exercise-zh-hans.xml?p=2"),
    "search": ("search", "/search/?q=rubezh"),
    # A word no exercise holds: every name and description is read, the worst case of the filter.
    "list_searched": ("exercises of a word none holds", "/exercises/?q=tsunami"),
    "json": ("JSON of a filtered list", "/exercises/?year_from=2016&year_to=2016&format=json"),
}
# Detail pages: (table, route prefix) of each kind; the record in the middle of the table is shown.
DETAIL_KINDS = {
    "membership_detail": ("catalog_membership", "/memberships/"),
    "summit_detail": ("catalog_summit", "/summits/"),
    "series_detail": ("catalog_exerciseseries", "/exercises/series/"),
    "crisis_detail": ("catalog_crisis", "/crises/"),
    "milestone_detail": ("catalog_milestone", "/milestones/"),
    "source_detail": ("catalog_source", "/sources/"),
}
# Content types other than HTML.
KIND_CONTENT_TYPES = {
    "sitemap": "application/xml",
    "sitemap_page": "application/xml",
    "json": "application/json",
}

# The same questions asked of Datasette. The state filter is "host or participant", a join through
# the two many-to-many tables, given as Datasette's `_where=` (a canned query would not be a table page).
DATASETTE_DB = DATABASE.stem
STATE_WHERE = (
    "id in (select exercise_id from catalog_exercise_participants where state_id = "
    "(select id from catalog_state where code = 'KZ') union select exercise_id from catalog_exercise_hosts "
    "where state_id = (select id from catalog_state where code = 'KZ'))"
)
DATASETTE_TABLE = f"/{DATASETTE_DB}/catalog_exercise"
DATASETTE_IDLE_URL = "/-/versions.json"
DATASETTE_FILTERED_URL = (
    DATASETTE_TABLE + "?" + urlencode({"_where": STATE_WHERE, "date__gte": "2008", "date__lt": "2015"})
)
DATASETTE_CSV_URL = (
    DATASETTE_TABLE + ".csv?" + urlencode({"date__gte": "2014", "date__lt": "2017", "_stream": "on"})
)

# Commands timed outside the server ({path} is filled in).
EXPORT_COMMAND = ("export_catalog", "{path}")
IMPORT_COMMAND = ("import_catalog", "{path}")
IMPORT_ROWS = 10_000
# A slow command is stopped (and reported as missed) so the whole run stays under 15 minutes:
# three times the export target, six times the import target.
EXPORT_TIMEOUT = 90
# The whole-catalog export, as a workbook and as a folder of csv files (a path ending in "/").
EXPORTS = {"export": "export.xlsx", "export_csv": "export-csv/"}
IMPORT_TIMEOUT = 60
GENERATE_TIMEOUT = 3600  # building the synthetic catalog, at any size
#: Runs of each command; the median run is reported. Fewer when a run leaves too little of the
#: command's time limit for another, so the limits still bound the whole benchmark.
COMMAND_RUNS = 3
IMPORT_SHEET = "exercises"  # the workbook keeps only this sheet; the rest is already in the database

# The pages held to a third of the hello ceiling (the CSV download is held to its first byte instead).
PAGE_LABELS = {
    "filtered": "filtered list",
    "list": "list page 1",
    "deep": "list page 2,000",
    "detail": "detail page",
    "home": "home page",
}

TARGETS = {
    "filtered_vs_datasette": 3.0,
    "filtered_vs_datasette_no_facets": 1.0,
    "filtered_p99_ms": 100.0,
    "detail_vs_datasette_row": 1.0,
    "page_vs_hello": 1 / 3,
    "deep_page_within": 0.20,
    "csv_ttfb_ms": 200.0,
    "walk_p50_ms": 30.0,
    "import_rows_per_s": 1_000.0,
    "export_s": 30.0,
    "peak_mb": 300.0,
}


def log(message):
    print(message, flush=True)


# Processes


def manage_command(*args):
    return [sys.executable, "manage.py", *args]


def generate_command(exercises, seed):
    """The synthetic catalog, written into the database the environment names."""
    return [sys.executable, "bench/generate.py", "--exercises", str(exercises), "--seed", str(seed)]


def gunicorn_command(port):
    """Our site under gunicorn on `port`, as every run of the harness serves it."""
    return [
        str(ROOT / ".venv" / "bin" / "gunicorn"), "cstosite.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(GUNICORN_WORKERS), "--error-logfile", "-",
    ]  # fmt: skip


def site_environment(database=None):
    """What production would set; DEBUG stays off, so these are the production settings."""
    database = database or DATABASE
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{database}",
        "BENCH_STATIC_ROOT": str(DATA / "static"),
        "DJANGO_LOG_LEVEL": "ERROR",
    }


def run(command, *, env=None, timeout=600):
    """Run to completion; returns stdout, raises with stderr's tail on failure."""
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{result.stderr[-2000:]}")
    return result.stdout


# Runs a command and writes its peak resident memory (KiB) to the file named first. A child's
# peak as wait4() reports it starts from its parent's size at the fork, so the command is forked
# from this small interpreter, not from the harness, which may have grown far larger.
PEAK_WRAPPER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as peak:
    peak.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure(command, *, env=None, timeout=600):
    """Run a command; returns (exit code, seconds, peak resident memory in MB, stderr's tail).

    The peak is the command's own (see PEAK_WRAPPER); a command still running at `timeout` is
    killed with its whole process group."""
    executable = shutil.which(command[0]) or command[0]
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        peak_file = Path(tmp) / "peak"
        wrapped = [sys.executable, "-c", PEAK_WRAPPER, str(peak_file), executable, *command[1:]]
        started = time.perf_counter()
        process = subprocess.Popen(wrapped, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True)
        killer = threading.Timer(timeout, lambda: os.killpg(process.pid, signal.SIGKILL))
        killer.start()
        try:
            process.wait()
        finally:
            killer.cancel()
        seconds = time.perf_counter() - started
        peak_kib = int(peak_file.read_text()) if peak_file.exists() else 0
        err.seek(0)
        return (process.returncode, seconds, peak_kib / 1024, err.read().decode(errors="replace")[-2000:])


def command_exists(name, env):
    return (
        subprocess.run(manage_command("help", name), cwd=ROOT, env=env, capture_output=True).returncode == 0
    )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path, timeout=60):
    """One GET: (status, headers, body up to 64 KB); header names are case-insensitive."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.msg, response.read(65536)
    finally:
        connection.close()


@contextlib.contextmanager
def server(command, *, env, port, ready_path, name, deadline=90):
    """Start a server pinned to the server CPU in its own process group; stop that group after."""
    log_path = DATA / f"{name}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *command],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            until = time.monotonic() + deadline
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited at start-up; see {log_path}")
                with contextlib.suppress(OSError):
                    if get(port, ready_path, timeout=5)[0] == 200:
                        break
                if time.monotonic() > until:
                    raise RuntimeError(
                        f"{name} did not answer {ready_path} within {deadline} s; see {log_path}"
                    )
                time.sleep(0.5)
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def worker_pids(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def peak_rss_mb(pid):
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


# Load generation


def availability(port, path, content_type=None):
    """None when the page answers 200 (with the expected content type); otherwise why not."""
    try:
        status, headers, _body = get(port, path)
    except OSError as error:
        return f"not available: {error}"
    if status == 404:
        return "not available yet (404)"
    if status != 200:
        return f"not available: HTTP {status}"
    received = headers.get("Content-Type") or ""
    if content_type and not received.startswith(content_type):
        return f"not available yet (answers {received or 'no content type'}, not {content_type})"
    return None


def wrk(port, path, duration, connections=CONNECTIONS, walk=()):
    """`path` loaded again and again; with `walk` (paths), each request the next of them instead."""
    command = [
        "taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{duration}s",
        "--timeout", f"{WRK_TIMEOUT}s", "-s", str(WALK_SCRIPT if walk else WRK_SCRIPT),
        f"http://127.0.0.1:{port}{path}",
    ]  # fmt: skip
    if walk:
        command += ["--", *walk]
    output = run(command, timeout=duration + 60)
    match = re.search(r"^BENCH-JSON (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{output[-1000:]}")
    raw = json.loads(match.group(1))
    errors = sum(raw[key] for key in raw if key.startswith("errors_"))
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "seconds": raw["duration_us"] / 1e6,
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        "errors": errors,
        "kb_per_request": raw["bytes"] / max(raw["requests"], 1) / 1024,
    }


def settle(port, idle_path, deadline=30):
    """Wait until the server has worked off the requests wrk left queued when it stopped (a slow page
    keeps the workers busy after the run), so they do not slow the next URL's run."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        started = time.perf_counter()
        with contextlib.suppress(OSError):
            get(port, idle_path, timeout=deadline)
            if time.perf_counter() - started < 0.2:
                return
        time.sleep(0.5)


def not_measured(path, duration):
    reason = f"not measured: no request completed within {duration} s (wrk gives up after {WRK_TIMEOUT} s)"
    log(f"  {path}: {reason}")
    return {"url": path, "skipped": reason}


def warm_up(port, path, *, idle_path, content_type="text/html"):
    """Request `path` once and load it briefly at 2 connections (one per worker); a dict saying
    why it is skipped when it is not there yet, else None."""
    reason = availability(port, path, content_type)
    if reason:
        log(f"  {path}: {reason}")
        return {"url": path, "skipped": reason}
    wrk(port, path, WARM_UP, connections=2)
    settle(port, idle_path)
    return None


def log_result(path, result, rounds=""):
    log(
        f"  {path}: {result['rps']:.1f} req/s{rounds}, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms" + (f", {result['errors']} errors" if result["errors"] else "")
    )


def hello_beside(port, connections):
    """Hello loaded for HELLO_BESIDE seconds, just before a page it is compared with."""
    hello = wrk(port, HELLO_URL, HELLO_BESIDE, connections)
    settle(port, HELLO_URL)
    return hello


def load(
    port, path, duration, *, idle_path, content_type="text/html", connections=CONNECTIONS, beside_hello=False
):
    """`path` loaded for `duration` seconds after its warm-up; with `beside_hello`, a hello run
    just before it is kept with the result (`hello_for`)."""
    skipped = warm_up(port, path, idle_path=idle_path, content_type=content_type)
    if skipped:
        return skipped
    hello = hello_beside(port, connections) if beside_hello else None
    result = {"url": path, **wrk(port, path, duration, connections)}
    settle(port, idle_path)
    if not result["requests"]:
        return not_measured(path, duration)
    if hello:
        result["hello_beside"] = hello
    log_result(path, result)
    return result


def load_pair(port, paths, duration, *, idle_path, connections=CONNECTIONS, beside_hello=False):
    """Each of `paths` loaded in turn, PAIR_ROUNDS times, for `duration` seconds each in all:
    requests and bytes summed over the rounds, p50 the median of the rounds', p99 the highest.
    With `beside_hello`, a hello run before each round, their rate kept with both results."""
    results = {path: warm_up(port, path, idle_path=idle_path) for path in paths}
    measured = [path for path in paths if results[path] is None]
    rounds = {path: [] for path in measured}
    hellos = []
    seconds = max(1, round(duration / PAIR_ROUNDS))
    for _ in range(PAIR_ROUNDS):
        if beside_hello and measured:
            hellos.append(hello_beside(port, connections))
        for path in measured:
            rounds[path].append(wrk(port, path, seconds, connections))
            settle(port, idle_path)
    for path, runs in rounds.items():
        requests = sum(run["requests"] for run in runs)
        if not requests:
            results[path] = not_measured(path, duration)
            continue
        results[path] = {
            "url": path,
            "rps": requests / sum(run["seconds"] for run in runs),
            "p50_ms": statistics.median(run["p50_ms"] for run in runs),
            "p99_ms": max(run["p99_ms"] for run in runs),
            "requests": requests,
            "errors": sum(run["errors"] for run in runs),
            "kb_per_request": sum(run["kb_per_request"] * run["requests"] for run in runs) / requests,
            "rounds": [round(run["rps"], 1) for run in runs],
        }
        if hellos:
            requests = sum(hello["requests"] for hello in hellos)
            results[path]["hello_beside"] = {"rps": requests / sum(hello["seconds"] for hello in hellos)}
        log_result(path, results[path], f" (rounds: {', '.join(map(str, results[path]['rounds']))})")
    return [results[path] for path in paths]


def walk_path(first_page, sort, page):
    """`first_page` with the sort and page added to its query."""
    return f"{first_page}{'&' if '?' in first_page else '?'}sort={sort}&page={page}"


def walk_paths(first_page):
    """The further pages of every sort of the list whose first page is `first_page`, page by page."""
    return [walk_path(first_page, sort, page) for page in WALK_PAGES for sort in WALK_SORTS]


def walk_pattern(first_page):
    """The walk's paths in one line, for the report."""
    return walk_path(first_page, f"{{{','.join(WALK_SORTS)}}}", f"{{{WALK_PAGES[0]}..{WALK_PAGES[-1]}}}")


def load_walk(port, first_page, duration, *, idle_path):
    """A reader going on from a list's first page: its further pages and sorts (`walk_paths`), one
    request at a time, each the next of them. The warm-up asks for the first page at 2 connections
    (one per worker), so both workers have counted the list's facets before the timed run, then
    for every path of the walk once, so that a missing one skips the walk."""
    skipped = warm_up(port, first_page, idle_path=idle_path)
    if skipped:
        return skipped
    paths = walk_paths(first_page)
    for path in paths:
        reason = availability(port, path, "text/html")
        if reason:
            log(f"  {path}: {reason}")
            return {"url": walk_pattern(first_page), "skipped": reason}
    settle(port, idle_path)
    result = {
        "url": walk_pattern(first_page),
        "paths": paths,
        **wrk(port, paths[0], duration, connections=1, walk=paths),
    }
    settle(port, idle_path)
    if not result["requests"]:
        return not_measured(result["url"], duration)
    log_result(result["url"], result)
    return result


def first_byte(port, path):
    """Median time to the first body byte and to the last, over a few downloads, and whether the
    response streams (no Content-Length) or was built whole before the first byte left."""
    firsts, totals, rows, streamed = [], [], 0, True
    for _ in range(TTFB_REPEATS):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read(1)
        firsts.append(time.perf_counter() - started)
        size, newlines = len(body), body.count(b"\n")
        while chunk := response.read(65536):
            size += len(chunk)
            newlines += chunk.count(b"\n")
        totals.append(time.perf_counter() - started)
        streamed = streamed and response.getheader("Content-Length") is None
        rows = newlines - 1  # less the header line
        connection.close()
    return {
        "ttfb_ms": statistics.median(firsts) * 1000,
        "total_ms": statistics.median(totals) * 1000,
        "rows": rows,
        "streamed": streamed,
    }


# The runs


def build_database(exercises, reuse):
    if reuse and DATABASE.exists():
        log(f"Reusing {DATABASE.relative_to(ROOT)}, migrated to the current schema")
        run(manage_command("migrate", "--no-input", "--verbosity", "0"), env=site_environment())
        return None
    DATABASE.unlink(missing_ok=True)
    env = site_environment()
    run(manage_command("migrate", "--no-input", "--verbosity", "0"), env=env)
    log(f"Generating {exercises:,} exercises ...")
    # Not held to a target, only bounded: a million exercises took about 6 minutes on a fast
    # machine and passed measure()'s default 10 on a slower one.
    code, seconds, peak, stderr = measure(
        generate_command(exercises, SEED), env=env, timeout=GENERATE_TIMEOUT
    )
    if code:
        stopped = f" (stopped after {seconds:.0f} s)" if seconds >= GENERATE_TIMEOUT else ""
        raise RuntimeError(f"bench/generate.py failed{stopped}:\n{stderr}")
    log(f"  bench/generate.py: {seconds:.1f} s, peak {peak:.0f} MB")
    return {"seconds": seconds, "peak_mb": peak}


def datasette_ready():
    binary = DATASETTE_VENV / "bin" / "datasette"
    marker = DATASETTE_VENV / ".requirements"
    wanted = DATASETTE_REQUIREMENTS.read_text()
    if binary.exists() and marker.exists() and marker.read_text() == wanted:
        return binary
    log("Installing Datasette into bench-data/datasette-venv ...")
    shutil.rmtree(DATASETTE_VENV, ignore_errors=True)
    run([sys.executable, "-m", "venv", str(DATASETTE_VENV)])
    run([str(DATASETTE_VENV / "bin" / "pip"), "install", "--quiet", "-r", str(DATASETTE_REQUIREMENTS)])
    marker.write_text(wanted)
    return binary


def tilde_encode(value):
    """Datasette's encoding of a key in `_next=` tokens."""
    safe = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "".join(chr(b) if b in safe else "+" if b == 32 else f"~{b:02X}" for b in str(value).encode())


def datasette_urls():
    """The deep sorted page and the row page need values from the database itself."""
    with contextlib.closing(sqlite3.connect(f"file:{DATABASE}?mode=ro", uri=True)) as db:
        offset = (2000 - 1) * PAGE_SIZE - 1  # the last row before our page 2,000
        row = db.execute("select date, id from catalog_exercise order by date, id limit 1 offset ?", [offset])
        date, pk = row.fetchone()
        detail_id = db.execute("select id from catalog_exercise where key = ?", [DETAIL_KEY]).fetchone()[0]
        csv_rows = db.execute(
            "select count(*) from catalog_exercise where date >= '2014' and date < '2017'"
        ).fetchone()[0]
    deep = (
        DATASETTE_TABLE
        + "?"
        + urlencode({"_sort": "date", "_next": f"{tilde_encode(date)},{tilde_encode(pk)}"})
    )
    return {"deep": deep, "row": f"{DATASETTE_TABLE}/{detail_id}", "csv_rows": csv_rows}


def kind_urls():
    """KIND_PAGES with one detail page of every kind, keyed from the database (the record in the
    middle of each table, so neither the first nor the last)."""
    pages = dict(KIND_PAGES)
    with contextlib.closing(sqlite3.connect(f"file:{DATABASE}?mode=ro", uri=True)) as db:
        for name, (table, prefix) in DETAIL_KINDS.items():
            (count,) = db.execute(f"select count(*) from {table}").fetchone()
            row = db.execute(f"select key from {table} order by id limit 1 offset ?", [count // 2]).fetchone()
            if row:
                pages[name] = (name.replace("_", " "), f"{prefix}{row[0]}/")
    return pages


def copy_to_postgresql(url):
    """The bench database copied into the PostgreSQL database `url` names: migrated, emptied, every
    table not filled by the database's own triggers copied in one transaction (Django's foreign keys
    are deferred to its commit), sequences moved past the copied ids, migrated again so the catalog
    version's triggers and counter are in place, then vacuumed and analyzed. Independent of how the
    SQLite database was made."""
    import psycopg

    env = {**site_environment(), "DATABASE_URL": url}
    run(manage_command("migrate", "--no-input", "--verbosity", "0"), env=env)
    log("Copying the bench database into PostgreSQL ...")
    started = time.monotonic()
    with (
        contextlib.closing(sqlite3.connect(f"file:{DATABASE}?mode=ro", uri=True)) as source,
        psycopg.connect(url) as target,
    ):
        target.execute("SET TIME ZONE 'UTC'")
        tables = target.execute("select tablename from pg_tables where schemaname = current_schema()")
        theirs = {
            table: [
                column
                for (column,) in target.execute(
                    "select column_name from information_schema.columns "
                    "where table_name = %s and table_schema = current_schema()",
                    [table],
                )
            ]
            for (table,) in tables.fetchall()
        }
        ours = [
            table
            for (table,) in source.execute("select name from sqlite_master where type = 'table'")
            if table in theirs and table != "django_migrations"
        ]
        target.execute("TRUNCATE " + ", ".join(f'"{table}"' for table in ours) + " CASCADE")
        rows = 0
        for table in ours:
            # A table the database's own triggers filled from those copied before it (the hosts
            # and participants of each exercise as one table) is left as they made it.
            if target.execute(f'select exists (select 1 from "{table}")').fetchone()[0]:
                continue
            columns = [
                row[1] for row in source.execute(f'pragma table_info("{table}")') if row[1] in theirs[table]
            ]
            names = ", ".join(f'"{column}"' for column in columns)
            with target.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for row in source.execute(f'select {names} from "{table}"'):
                    copy.write_row(row)
                    rows += 1
            if "id" in columns:
                sequence = f"pg_get_serial_sequence('\"{table}\"', 'id')"
                target.execute(f'select setval({sequence}, coalesce(max(id), 0) + 1, false) from "{table}"')
    run(manage_command("migrate", "--no-input", "--verbosity", "0"), env=env)
    # The tables as autovacuum would leave them in time: planner statistics, and a visibility map,
    # which COPY leaves unset, so that index-only scans need not visit the heap. VACUUM cannot run
    # inside a transaction, hence a connection of its own in autocommit mode.
    with psycopg.connect(url, autocommit=True) as maintenance:
        maintenance.execute("VACUUM ANALYZE")
    seconds = time.monotonic() - started
    log(f"  {rows:,} rows in {seconds:.1f} s")
    return {"rows": rows, "seconds": seconds}


def served_environment(database_url=None, *, page_cache=True, facet_cache=True):
    """site_environment() serving `database_url` (PostgreSQL) instead of the SQLite bench database,
    with the page cache or the facet counts' cache turned off: a timeout of 0 stores nothing."""
    env = site_environment()
    if database_url:
        env["DATABASE_URL"] = database_url
    if not page_cache:
        env["DJANGO_PAGE_CACHE_SECONDS"] = "0"
    if not facet_cache:
        env["DJANGO_FACET_CACHE_SECONDS"] = "0"
    return env


@contextlib.contextmanager
def our_site(env, description=None, *, name="gunicorn", deadline=90):
    """Our site under gunicorn with `env`, its static files collected first: yields the port and
    the gunicorn master process."""
    run(manage_command("collectstatic", "--no-input", "--verbosity", "0"), env=env)
    port = free_port()
    if description:
        log(f"gunicorn on 127.0.0.1:{port} (CPU {SERVER_CPU}), {GUNICORN_WORKERS} workers, {description}")
    command = gunicorn_command(port)
    with server(command, env=env, port=port, ready_path=HELLO_URL, name=name, deadline=deadline) as master:
        yield port, master


def bench_site(duration, page_cache=True, database_url=None):
    """Our pages under gunicorn; with `page_cache` off every request renders its page and counts
    its list's facets (cold: the counts have a cache of their own, shared by every page of a
    filter, which is turned off too). `database_url` serves another database than the SQLite
    bench database (PostgreSQL)."""
    env = served_environment(database_url, page_cache=page_cache, facet_cache=page_cache)
    shown = " ".join(["taskset -c", SERVER_CPU, "gunicorn", *gunicorn_command("PORT")[1:]])
    results = {"gunicorn_command": shown}
    description = "page cache on" if page_cache else "page cache off, facet counts not cached"
    # Cold pages are asked for one at a time, as a reader's first visit would be: their p50 is the
    # time one page takes, not a queue of eight; warm pages under eight connections.
    connections = CONNECTIONS if page_cache else 1
    with our_site(env, description) as (port, master):
        results["hello"] = load(port, HELLO_URL, duration, idle_path=HELLO_URL, content_type="text/plain")
        # Cached pages are held to a third of hello: each is compared with a hello run just before it.
        page = {"idle_path": HELLO_URL, "connections": connections, "beside_hello": page_cache}
        results["filtered"] = load(port, FILTERED_LIST_URL, duration, **page)
        results["list"], results["deep"] = load_pair(port, (LIST_URL, LIST_DEEP_URL), duration, **page)
        results["detail"] = load(port, DETAIL_URL, duration, **page)
        results["home"] = load(port, HOME_URL, duration, **page)
        short = max(3, duration // 3)
        for key, (_label, path) in kind_urls().items():
            content_type = KIND_CONTENT_TYPES.get(key, "text/html")
            results[key] = load(port, path, short, content_type=content_type, **page)
        if not page_cache or database_url:
            return results  # downloads are never cached: measured once, in the SQLite run with the cache
        workers = worker_pids(master.pid)
        before = max((peak_rss_mb(pid) or 0 for pid in workers), default=0)
        csv = load(port, CSV_URL, duration, idle_path=HELLO_URL, content_type="text/csv")
        if "skipped" not in csv:
            csv.update(first_byte(port, CSV_URL))
            csv["worker_peak_before_mb"] = before
            csv["worker_peak_after_mb"] = max((peak_rss_mb(pid) or 0 for pid in workers), default=0)
            log(
                f"  CSV: first byte {csv['ttfb_ms']:.0f} ms, complete {csv['total_ms']:.0f} ms, "
                f"{csv['rows']} rows, "
                f"streamed: {'yes' if csv['streamed'] else 'no'}, worker peak {before:.0f} -> "
                f"{csv['worker_peak_after_mb']:.0f} MB"
            )
        results["csv"] = csv
    return results


def bench_walks(duration, database_url=None):
    """The walks (WALKS) under gunicorn with the page cache off and the facet counts cached: what
    a further page or sort of a list already seen costs, each page rendered but not recounted."""
    env = served_environment(database_url, page_cache=False)
    with our_site(env, "page cache off, facet counts cached") as (port, _master):
        return {
            key: load_walk(port, first_page, duration, idle_path=HELLO_URL)
            for key, (_label, first_page) in WALKS.items()
        }


def bench_datasette(duration, urls, facets):
    binary = datasette_ready()
    port = free_port()
    command = [str(binary), "serve", str(DATABASE), "--host", "127.0.0.1", "--port", str(port)]
    if not facets:
        command += ["--setting", "suggest_facets", "off"]
    label = "defaults" if facets else "suggest_facets off"
    log(f"Datasette ({label}) on 127.0.0.1:{port} (CPU {SERVER_CPU})")
    shown = " ".join(["taskset -c", SERVER_CPU, "datasette", *command[1:]])
    results = {"command": shown.replace(str(DATABASE), "bench-data/bench.sqlite3").replace(str(port), "PORT")}
    with server(command, env=dict(os.environ), port=port, ready_path=DATASETTE_IDLE_URL, name="datasette"):
        results["filtered"] = load(port, DATASETTE_FILTERED_URL, duration, idle_path=DATASETTE_IDLE_URL)
        results["deep"] = load(port, urls["deep"], duration, idle_path=DATASETTE_IDLE_URL)
        results["row"] = load(port, urls["row"], duration, idle_path=DATASETTE_IDLE_URL)
        csv = load(port, DATASETTE_CSV_URL, duration, idle_path=DATASETTE_IDLE_URL, content_type="text/")
        if "skipped" not in csv:
            csv.update(first_byte(port, DATASETTE_CSV_URL))
        results["csv"] = csv
    return results


def keep_only_sheet(path, sheet):
    """Drop every sheet but `sheet` from an xlsx workbook; False when there is no such sheet."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    if sheet not in book.sheetnames:
        return False
    for name in book.sheetnames:
        if name != sheet:
            del book[name]
    book.save(path)
    return True


def timed(command, *, env, timeout):
    """A command's wall time and peak memory; one stopped at `timeout` is marked `timed_out`."""
    code, seconds, peak, stderr = measure(command, env=env, timeout=timeout)
    if seconds >= timeout and code:
        return {"timed_out": True, "seconds": seconds, "peak_mb": peak}
    if code:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {code}"
        return {"skipped": f"failed: {last}"}
    return {"seconds": seconds, "peak_mb": peak}


def timed_runs(command, *, env, timeout, prepare):
    """Up to COMMAND_RUNS runs of a command, `prepare()` before each, all within `timeout`
    together: the median run's wall time, the highest peak memory, and every run's time. A
    failed or stopped run is the result."""
    runs = []
    while len(runs) < COMMAND_RUNS:
        prepare()
        result = timed(command, env=env, timeout=timeout - sum(run["seconds"] for run in runs))
        if "skipped" in result or result.get("timed_out"):
            return result
        runs.append(result)
        if sum(run["seconds"] for run in runs) + result["seconds"] > timeout:
            break
    median = sorted(runs, key=lambda run: run["seconds"])[len(runs) // 2]
    return {
        **median,
        "peak_mb": max(run["peak_mb"] for run in runs),
        "runs": [round(run["seconds"], 1) for run in runs],
    }


def bench_commands():
    """Export of the whole synthetic catalog; import of a 10,000-row exercises workbook into a
    database that already holds the states, series and sources those rows name."""
    env = site_environment()
    if not command_exists(EXPORT_COMMAND[0], env):
        reason = f"not available yet (no {EXPORT_COMMAND[0]} command)"
        log(f"export: {reason}")
        return {**{key: {"skipped": reason} for key in EXPORTS}, "import": {"skipped": reason}}
    results = {}
    for key, name in EXPORTS.items():
        export_path = DATA / name

        def remove_export(export_path=export_path):
            if export_path.is_dir():
                shutil.rmtree(export_path)
            export_path.unlink(missing_ok=True)

        log(f"export_catalog {name} of the whole catalog (stopped after {EXPORT_TIMEOUT} s) ...")
        argument = str(export_path) + ("/" if name.endswith("/") else "")  # Path drops the slash
        command = manage_command(*(part.format(path=argument) for part in EXPORT_COMMAND))
        results[key] = timed_runs(command, env=env, timeout=EXPORT_TIMEOUT, prepare=remove_export)
        files = list(export_path.glob("*")) if export_path.is_dir() else [export_path]
        results[key]["mb"] = sum(path.stat().st_size for path in files if path.exists()) / 1e6
        log(f"  {key}: {results[key]}")

    if not command_exists(IMPORT_COMMAND[0], env):
        results["import"] = {"skipped": f"not available yet (no {IMPORT_COMMAND[0]} command)"}
        log(f"import: {results['import']['skipped']}")
        return results
    # The workbook: exported from a second synthetic catalog of 10,000 exercises (seed 2) ...
    log(f"import_catalog of a {IMPORT_ROWS:,}-row exercises workbook (stopped after {IMPORT_TIMEOUT} s) ...")
    source_db, target_db = DATA / "import-source.sqlite3", DATA / "import-target.sqlite3"
    base_db = DATA / "import-base.sqlite3"
    workbook = DATA / "import-exercises.xlsx"
    for path in (source_db, target_db, base_db, workbook):
        path.unlink(missing_ok=True)
    source_env, target_env = site_environment(source_db), site_environment(target_db)
    run(manage_command("migrate", "--no-input", "--verbosity", "0"), env=source_env)
    shutil.copyfile(source_db, target_db)
    run(generate_command(IMPORT_ROWS, 2), env=source_env)
    command = manage_command(*(part.format(path=workbook) for part in EXPORT_COMMAND))
    made = timed(command, env=source_env, timeout=EXPORT_TIMEOUT)
    if "seconds" not in made or made.get("timed_out") or not keep_only_sheet(workbook, IMPORT_SHEET):
        reason = made.get("skipped") or (
            "the export did not finish in time" if made.get("timed_out") else f"no '{IMPORT_SHEET}' sheet"
        )
        results["import"] = {"skipped": f"could not build the workbook: {reason}"}
        log(f"  import: {results['import']['skipped']}")
        return results
    # ... imported where the same seed has written the states, series and sources, and no exercises.
    run(generate_command(0, 2), env=target_env)
    shutil.copyfile(target_db, base_db)
    command = manage_command(*(part.format(path=workbook) for part in IMPORT_COMMAND))
    result = timed_runs(
        command, env=target_env, timeout=IMPORT_TIMEOUT, prepare=lambda: shutil.copyfile(base_db, target_db)
    )
    with contextlib.closing(sqlite3.connect(target_db)) as db:
        imported = db.execute("select count(*) from catalog_exercise").fetchone()[0]
    if "skipped" not in result and not result.get("timed_out") and imported != IMPORT_ROWS:
        result = {"skipped": f"failed: {imported} of {IMPORT_ROWS} rows imported"}
    if "seconds" in result:
        result["rows_per_s"] = IMPORT_ROWS / result["seconds"]
    results["import"] = result
    log(f"  import: {results['import']}")
    return results


# Reporting


def runs_of(result):
    """`, median of 9.1, 9.4, 9.2 s` for a command run several times."""
    runs = result.get("runs", [])
    return f", median of {', '.join(map(str, runs))} s" if len(runs) > 1 else ""


def version_of(command):
    """The first version number a command prints about itself."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        output = subprocess.run(command, capture_output=True, text=True, timeout=30)
        match = re.search(r"\d+\.\d+[\w.+~-]*", output.stdout + output.stderr)
        return match.group(0) if match else "?"
    return "?"


def machine():
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "?",
    )  # fmt: skip
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024 / 1024:.1f} GB memory, {platform.platform()}"


def versions():
    import django
    import gunicorn

    return {
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "SQLite": sqlite3.sqlite_version,
        "Datasette": version_of([str(DATASETTE_VENV / "bin" / "datasette"), "--version"]),
        "wrk": version_of(["wrk", "-v"]),
        "commit": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        or "?",
    }


def fmt(result, key, pattern="{:.1f}"):
    if not result or "skipped" in result:
        return "–"
    return pattern.format(result[key])


def ratio(ours, theirs):
    if not ours or not theirs or "skipped" in ours or "skipped" in theirs or not theirs["rps"]:
        return None
    return ours["rps"] / theirs["rps"]


def hello_for(result, hello):
    """The hello a page is compared with: the run just before it when there is one, else `hello`,
    the run at the start of its half."""
    return (result or {}).get("hello_beside") or hello


def verdict(met, text):
    return ("met" if met else "MISSED") + f": {text}"


def at_least(value, target, unit="×"):
    """A verdict for `value ≥ target`, saying by how much it was missed."""
    if value >= target:
        return verdict(True, f"{value:.3g}{unit} (target ≥ {target:.3g}{unit})")
    return verdict(
        False, f"{value:.3g}{unit}, short of {target:.3g}{unit} by {(1 - value / target) * 100:.0f}%"
    )


def check_targets(site, site_cold, datasette, datasette_off, commands):
    """(target, verdict) pairs; a target whose measurement is missing says so. The page targets are
    checked twice: as served (page cache on) and with every request rendered (page cache off)."""
    t = TARGETS
    rows = []

    def need(name, *results):
        missing = [r.get("skipped", "not measured") for r in results if not r or "skipped" in r]
        if missing:
            rows.append((name, f"not measured ({missing[0]})"))
            return False
        return True

    for cache, pages in (("cache on", site), ("cache off", site_cold)):
        filtered, hello = pages.get("filtered"), pages.get("hello")
        comparisons = (
            (
                "filtered list ≥ 3× Datasette defaults",
                filtered,
                datasette["filtered"],
                t["filtered_vs_datasette"],
            ),
            (
                "filtered list ≥ Datasette with suggest_facets off",
                filtered,
                datasette_off["filtered"],
                t["filtered_vs_datasette_no_facets"],
            ),
            (
                "detail page ≥ Datasette row page",
                pages.get("detail"),
                datasette["row"],
                t["detail_vs_datasette_row"],
            ),
            *(
                (
                    f"{label} ≥ 1/3 of hello",
                    pages[key],
                    hello_for(pages[key], hello),
                    t["page_vs_hello"],
                )
                for key, label in PAGE_LABELS.items()
                if key in pages
            ),
            (
                "page 2,000 within 20% of page 1",
                pages.get("deep"),
                pages.get("list"),
                1 - t["deep_page_within"],
            ),
        )
        for name, ours, theirs, target in comparisons:
            name = f"{name} ({cache})"
            if need(name, ours, theirs):
                rows.append((name, at_least(ratio(ours, theirs), target)))
        name = f"filtered list p99 ≤ 100 ms ({cache})"
        if need(name, filtered):
            p99 = filtered["p99_ms"]
            over = f" (over by {p99 - t['filtered_p99_ms']:.0f} ms)" if p99 > t["filtered_p99_ms"] else ""
            rows.append((name, verdict(p99 <= t["filtered_p99_ms"], f"{p99:.0f} ms{over}")))
    csv = site.get("csv")
    if need("CSV first byte ≤ 200 ms, streamed", csv):
        ok = csv["ttfb_ms"] <= t["csv_ttfb_ms"] and csv["streamed"]
        detail = f"{csv['ttfb_ms']:.0f} ms to first byte, {'streamed' if csv['streamed'] else 'NOT streamed'}"
        detail += f", worker peak {csv['worker_peak_before_mb']:.0f} → {csv['worker_peak_after_mb']:.0f} MB"
        rows.append(("CSV first byte ≤ 200 ms, streamed", verdict(ok, detail)))
    imported = commands.get("import")
    if need("import ≥ 1,000 rows/s, peak ≤ 300 MB", imported):
        ok = imported["rows_per_s"] >= t["import_rows_per_s"] and imported["peak_mb"] <= t["peak_mb"]
        detail = f"{imported['rows_per_s']:.0f} rows/s, peak {imported['peak_mb']:.0f} MB"
        if imported.get("timed_out"):
            ok, detail = False, f"stopped unfinished after {imported['seconds']:.0f} s: under " + detail
        rows.append(("import ≥ 1,000 rows/s, peak ≤ 300 MB", verdict(ok, detail)))
    for key, name in EXPORTS.items():
        exported = commands.get(key)
        target = f"export of 100,000 exercises ({name}) ≤ 30 s, peak ≤ 300 MB"
        if need(target, exported):
            ok = exported["seconds"] <= t["export_s"] and exported["peak_mb"] <= t["peak_mb"]
            detail = f"{exported['seconds']:.1f} s, peak {exported['peak_mb']:.0f} MB"
            if exported.get("timed_out"):
                ok = False
                detail = (
                    f"stopped unfinished after {exported['seconds']:.0f} s, peak {exported['peak_mb']:.0f} MB"
                )
            rows.append((target, verdict(ok, detail)))
    return rows


def walk_targets(walks):
    """Each walk, in every run given as (database, walks): p50 at most 30 ms."""
    rows = []
    for database, results in walks:
        for key, (label, _first_page) in WALKS.items():
            name = f"further page/sort of {label} p50 ≤ 30 ms ({database})"
            result = results.get(key)
            if not result or "skipped" in result:
                rows.append((name, f"not measured ({(result or {}).get('skipped', 'not measured')})"))
                continue
            p50 = result["p50_ms"]
            rows.append((name, verdict(p50 <= TARGETS["walk_p50_ms"], f"{p50:.0f} ms")))
    return rows


def walks_report(walks):
    """The walks of every run given as (database, walks): req/s, p50, p99 and size."""
    lines = [
        "",
        "### A further page or sort of a seen filter (page cache off, facet counts cached)",
        "",
        "`DJANGO_PAGE_CACHE_SECONDS=0`, `DJANGO_FACET_CACHE_SECONDS` left on (a seen filter's counts, filter "
        "panel and ordered ids): after the list's first page "
        "(the warm-up, which counts its facets in both workers), one connection asks for pages "
        f"{WALK_PAGES[0]}–{WALK_PAGES[-1]} of each sort in turn (`-c1 -s bench/wrk_walk.lua`), never the "
        "same URL twice in a row: what a reader's next page or sort costs.",
        "",
        "| walk | database | URLs | req/s | p50 ms | p99 ms | KB |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for key, (label, first_page) in WALKS.items():
        for database, results in walks:
            result = results.get(key) or {"skipped": "not measured"}
            pattern = result.get("url", walk_pattern(first_page))
            if "skipped" in result:
                lines.append(f"| {label} | {database} | `{pattern}` | {result['skipped']} | | | |")
                continue
            lines.append(
                f"| {label} | {database} | `{pattern}` | {fmt(result, 'rps')} | {fmt(result, 'p50_ms')} "
                f"| {fmt(result, 'p99_ms')} | {fmt(result, 'kb_per_request', '{:.0f}')} |"
            )
    return lines


# Targets of every kind of page (issue: "every page bounded at any catalog size").
KIND_TARGETS = {"most_kb": 300.0, "cold_p50_ms": 100.0, "warm_vs_hello": 1 / 3}
# The downloads are held to their own targets (first byte), not to the size of a page.
NOT_PAGES = {"csv", "json", "hello"}


def kind_names():
    names = {
        "filtered": "exercises, filtered",
        "list": "exercises by date, page 1",
        "deep": "exercises by date, page 2,000",
        "detail": "exercise detail",
        "home": "home",
    }
    return {**names, **{key: label for key, (label, _path) in kind_urls().items()}}


def kind_targets(runs):
    """Every page, in every run given as (database, cache on, cache off): at most 300 KB, p50 at
    most 100 ms with the cache off, and at least a third of the hello view's rate with it on."""
    rows = []
    for database, warm, cold in runs:
        for key, label in kind_names().items():
            if key in NOT_PAGES:
                continue
            for cache, pages in (("cache on", warm), ("cache off", cold)):
                result = pages.get(key)
                if not result or "skipped" in result:
                    continue
                kb, name = result["kb_per_request"], f"{label} ({database}, {cache})"
                if kb > KIND_TARGETS["most_kb"]:
                    rows.append((f"{name} ≤ 300 KB", verdict(False, f"{kb:.0f} KB")))
                if cache == "cache off":
                    p50 = result["p50_ms"]
                    rows.append(
                        (f"{name} p50 ≤ 100 ms", verdict(p50 <= KIND_TARGETS["cold_p50_ms"], f"{p50:.0f} ms"))
                    )
                elif warm.get("hello") and "skipped" not in warm["hello"]:
                    rows.append(
                        (
                            f"{name} ≥ 1/3 of hello",
                            at_least(
                                ratio(result, hello_for(result, warm["hello"])), KIND_TARGETS["warm_vs_hello"]
                            ),
                        )
                    )
    return rows


def kinds_report(runs):
    """One table of every kind of page: req/s (p50/p99 ms) and size, per database and cache."""
    header = ["page", "URL"] + [
        f"{database}, {cache}" for database, *_r in runs for cache in ("cache on", "cache off")
    ]
    lines = [
        "",
        "### Every kind of page",
        "",
        "req/s (p50/p99 ms) and KB per response; the pages after the first five are each loaded for a third "
        "of the time of the others.",
        "",
        "| " + " | ".join(header) + " | KB |",
        "| --- | --- |" + " ---: |" * (2 * len(runs) + 1),
    ]
    for key, label in kind_names().items():
        results = [pages.get(key) for _database, warm, cold in runs for pages in (warm, cold)]
        known = next((result for result in results if result), None)
        if known is None:
            continue
        size = next(
            (result["kb_per_request"] for result in results if result and "kb_per_request" in result), None
        )
        lines.append(
            f"| {label} | `{known['url']}` | "
            + " | ".join(cell(result) for result in results)
            + f" | {'–' if size is None else f'{size:.0f}'} |"
        )
    return lines


def page_rows(site, names):
    hello = site.get("hello")
    lines = []
    for key, name in names.items():
        result = site.get(key)
        if result is None:
            continue
        if "skipped" in result:
            lines.append(f"| {name} | `{result['url']}` | {result['skipped']} | | | | |")
            continue
        share = ratio(result, hello_for(result, hello))
        lines.append(
            f"| {name} | `{result['url']}` | {fmt(result, 'rps')} | {fmt(result, 'p50_ms')} "
            f"| {fmt(result, 'p99_ms')} "
            f"| {fmt(result, 'kb_per_request', '{:.0f}')} | {'–' if share is None else f'{share:.3g}'} |"
        )
    return lines


def report(run_info, site, site_cold, walks, datasette, datasette_off, commands, urls):
    lines = [
        f"Run on {run_info['date']} by `make bench` (harness run time {run_info['elapsed_s'] / 60:.1f} min).",
        "",
        f"- Machine: {run_info['machine']}",
        "- Versions: " + ", ".join(f"{name} {value}" for name, value in run_info["versions"].items()),
        f"- Catalog: {EXERCISES:,} exercises, seed {SEED}"
        + (
            f", built in {run_info['build']['seconds']:.1f} s (peak {run_info['build']['peak_mb']:.0f} MB)"
            if run_info.get("build")
            else " (database reused)"
        ),  # fmt: skip
        f"- Load: `taskset -c {CLIENT_CPU} wrk -t1 -c{CONNECTIONS} -d{run_info['duration']}s "
        f"--timeout {WRK_TIMEOUT}s -s bench/wrk_report.lua URL` after a {WARM_UP} s warm-up "
        f"at 2 connections; servers on CPU {SERVER_CPU}. Our list page 1 and page 2,000, whose ratio is "
        f"a target, in {PAIR_ROUNDS} alternating rounds of "
        f"{max(1, round(run_info['duration'] / PAIR_ROUNDS))} s each (`-d` that long).",
        f"- Our server: `{site['gunicorn_command']}` with `DJANGO_SETTINGS_MODULE=bench.settings`",
        f"- Datasette: `{datasette.get('command', '?')}` and `{datasette_off.get('command', '?')}`",
        "",
        "### Our pages, as served (page cache on)",
        "",
        "Each URL is asked for again and again, so after its first request in each worker it comes from the",
        "page cache (catalog/caching.py), checked against the catalog's version on every request.",
        f"Each page's share of hello is taken against a hello run of {HELLO_BESIDE} s just before it, at the",
        "same connections; the hello row is the run at the start.",
        "",
        "| page | URL | req/s | p50 ms | p99 ms | KB | ÷ hello |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = {
        "hello": "hello (ceiling)",
        "filtered": "exercises, filtered",
        "list": "exercises by date, page 1",
        "deep": "exercises by date, page 2,000",
        "detail": "exercise detail",
        "home": "home with timeline chart",
        "csv": "CSV of a filtered list",
    }
    lines += page_rows(site, names)
    lines += [
        "",
        "### Our pages, every request rendered (page cache off)",
        "",
        "The same server with `DJANGO_PAGE_CACHE_SECONDS=0` and `DJANGO_FACET_CACHE_SECONDS=0`, so every "
        "request also counts its list's facets: what a first visit to a page costs.",
        "",
        "| page | URL | req/s | p50 ms | p99 ms | KB | ÷ hello |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += page_rows(site_cold, names)
    lines += walks_report(walks)
    lines += [
        "",
        "### Against Datasette",
        "",
        "Datasette's state filter is `_where=` (host or participant, through the two link tables); its deep "
        f"page is the `_next=` keyset token of row {(2000 - 1) * PAGE_SIZE:,}; its CSV uses `_stream=on`.",
        "",
        "| page | ours req/s (p50/p99 ms) | Datasette defaults | ours ÷ "
        "| Datasette, suggest_facets off | ours ÷ |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for ours_key, their_key, name, pages in (
        ("filtered", "filtered", "filtered list (cache on)", site),
        ("filtered", "filtered", "filtered list (cache off)", site_cold),
        ("deep", "deep", "sorted page deep in the table (cache on)", site),
        ("deep", "deep", "sorted page deep in the table (cache off)", site_cold),
        ("detail", "row", "detail / row page (cache on)", site),
        ("detail", "row", "detail / row page (cache off)", site_cold),
        ("csv", "csv", "CSV of the filtered list", site),
    ):
        ours = pages.get(ours_key, {})
        cells = [name, cell(ours)]
        for theirs in (datasette.get(their_key, {}), datasette_off.get(their_key, {})):
            value = ratio(ours, theirs)
            cells += [cell(theirs), "–" if value is None else f"{value:.3g}×"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Datasette URLs:", ""]
    for key in ("filtered", "deep", "row", "csv"):
        lines.append(f"- {key}: `{datasette.get(key, {}).get('url', '?')}`")
    csv = site.get("csv", {})
    lines += ["", "### CSV download", ""]
    if "ttfb_ms" in csv:
        lines.append(
            f"Ours: {csv['rows']:,} rows, first byte after {csv['ttfb_ms']:.0f} ms, "
            f"complete after {csv['total_ms']:.0f} ms "
            f"(median of {TTFB_REPEATS}), "
            f"{'streamed (no Content-Length)' if csv['streamed'] else 'not streamed'}; "
            f"gunicorn worker peak memory {csv['worker_peak_before_mb']:.0f} MB before the CSV runs, "
            f"{csv['worker_peak_after_mb']:.0f} MB after."
        )
    else:
        lines.append(
            f"Ours: {csv.get('skipped', 'not measured')}. The filter selects {urls['csv_rows']:,} rows."
        )
    their_csv = datasette.get("csv", {})
    if "ttfb_ms" in their_csv:
        lines.append(
            f"Datasette (defaults): {their_csv['rows']:,} rows, "
            f"first byte after {their_csv['ttfb_ms']:.0f} ms, "
            f"complete after {their_csv['total_ms']:.0f} ms."
        )
    lines += ["", "### Import and export (outside the server)", "", "| command | result |", "| --- | --- |"]
    command_names = {
        **{key: f"`export_catalog bench-data/{name}` (whole catalog)" for key, name in EXPORTS.items()},
        "import": f"`import_catalog` of a {IMPORT_ROWS:,}-row exercises workbook",
    }
    for key, name in command_names.items():
        result = commands.get(key, {})
        if "skipped" in result:
            text = result["skipped"]
        elif result.get("timed_out"):
            text = (
                f"stopped unfinished after {result['seconds']:.0f} s, peak {result['peak_mb']:.0f} MB so far"
            )
        elif key != "import":
            text = f"{result['seconds']:.1f} s{runs_of(result)}, peak {result['peak_mb']:.0f} MB, "
            text += f"{result.get('mb', 0):.1f} MB file"
        else:
            text = f"{result['rows_per_s']:.0f} rows/s ({result['seconds']:.1f} s{runs_of(result)}), "
            text += f"peak {result['peak_mb']:.0f} MB"
        lines.append(f"| {name} | {text} |")
    lines += ["", "### Targets", "", "| target | result |", "| --- | --- |"]
    lines += [f"| {name} | {result} |" for name, result in run_info["targets"]]
    return "\n".join(lines)


def cell(result):
    if not result or "skipped" in result:
        return (result or {}).get("skipped", "–")
    return f"{result['rps']:.1f} ({result['p50_ms']:.0f}/{result['p99_ms']:.0f})"


def write_results(text):
    document = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    section = f"{RESULTS_START}\n{text}\n{RESULTS_END}"
    if RESULTS_START in document and RESULTS_END in document:
        before, rest = document.split(RESULTS_START, 1)
        after = rest.split(RESULTS_END, 1)[1]
        document = before + section + after
    else:
        document = document.rstrip("\n") + "\n\n## Results\n\n" + section + "\n"
    DOC.write_text(document)


def cold_pages_at(exercises, reuse):
    """Every kind of page, page cache and facet counts' cache off, asked for alone three times at
    `exercises` exercises: the slowest answer of each. The database is its own
    (bench-data/bench-N.sqlite3)."""
    global DATABASE
    DATABASE = DATA / f"bench-{exercises}.sqlite3"
    build_database(exercises, reuse)
    env = served_environment(page_cache=False, facet_cache=False)
    pages = {"filtered": FILTERED_LIST_URL, "list": LIST_URL, "detail": DETAIL_URL, "home": HOME_URL}
    pages |= {key: path for key, (_label, path) in kind_urls().items()}
    pages["deep"] = f"/exercises/?sort=date&page={exercises // PAGE_SIZE}"
    rows = []
    with our_site(env, name="gunicorn-cold", deadline=300) as (port, _master):
        for key, path in pages.items():
            times, size, status = [], 0, None
            for _ in range(3):
                begun = time.perf_counter()
                status, _headers, body = get(port, path, timeout=120)
                times.append((time.perf_counter() - begun) * 1000)
                size = len(body)
            rows.append((key, path, status, max(times), size))
            log(f"  {path}: HTTP {status}, slowest {max(times):.0f} ms, {size / 1024:.0f} KB")
    slowest = max(rows, key=lambda row: row[3])
    log(
        f"\n{exercises:,} exercises: slowest page {slowest[1]} at {slowest[3]:.0f} ms "
        "(target: none over 1,000 ms)"
    )
    log("\n| page | URL | HTTP | slowest of 3, ms | KB (first 64) |\n| --- | --- | ---: | ---: | ---: |")
    for key, path, status, ms, size in rows:
        log(f"| {key} | `{path}` | {status} | {ms:.0f} | {size / 1024:.0f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=int, default=DURATION, help=f"seconds per URL (default {DURATION})"
    )
    parser.add_argument("--reuse-db", action="store_true", help="keep bench-data/bench.sqlite3 if it exists")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument(
        "--cold-pages-at",
        type=int,
        metavar="EXERCISES",
        help="a one-off run: build a catalog of this many exercises in its own database and time one cold "
        "request of every kind of page (the slowest of three), nothing else",
    )
    args = parser.parse_args()
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            sys.exit(
                f"{tool} is missing: `make bench` installs wrk (apt-get install wrk); "
                "taskset comes with util-linux."
            )
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("The benchmark needs two CPUs: one for the server, one for the load generator.")
    # Stopped from outside, still stop the servers this run started (the `finally` in `server()`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.sched_setaffinity(0, {int(CLIENT_CPU)})  # this script and what it starts, unless pinned elsewhere
    started = time.monotonic()
    DATA.mkdir(exist_ok=True)
    if args.cold_pages_at:
        cold_pages_at(args.cold_pages_at, args.reuse_db)
        return

    build = build_database(EXERCISES, args.reuse_db)
    urls = datasette_urls()
    site = bench_site(args.duration)
    site_cold = bench_site(args.duration, page_cache=False)
    walks = [("SQLite", bench_walks(args.duration))]
    datasette = bench_datasette(args.duration, urls, facets=True)
    datasette_off = bench_datasette(args.duration, urls, facets=False)
    commands = bench_commands()
    runs = [("SQLite", site, site_cold)]
    postgresql_url = os.environ.get("DATABASE_URL", "")
    if postgresql_url.startswith(("postgres://", "postgresql://")):
        copy_to_postgresql(postgresql_url)
        runs.append(
            (
                "PostgreSQL",
                bench_site(args.duration, database_url=postgresql_url),
                bench_site(args.duration, page_cache=False, database_url=postgresql_url),
            )
        )
        walks.append(("PostgreSQL", bench_walks(args.duration, database_url=postgresql_url)))

    run_info = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
        "build": build,
        "duration": args.duration,
        "elapsed_s": time.monotonic() - started,
        "targets": check_targets(site, site_cold, datasette, datasette_off, commands)
        + walk_targets(walks)
        + kind_targets(runs),
    }
    text = report(run_info, site, site_cold, walks, datasette, datasette_off, commands, urls)
    text += "\n" + "\n".join(kinds_report(runs))
    (DATA / "results.json").write_text(
        json.dumps(
            {
                "run": run_info,
                "site": site,
                "site_page_cache_off": site_cold,
                "site_walks": walks[0][1],
                "postgresql": {
                    **dict(zip(("cache_on", "cache_off"), runs[1][1:], strict=True)),
                    "walks": walks[1][1],
                }
                if len(runs) > 1
                else None,
                "datasette": datasette,
                "datasette_suggest_facets_off": datasette_off,
                "commands": commands,
            },
            indent=2,
            default=str,
        )  # fmt: skip
    )
    log("\n" + text)
    if not args.no_write:
        write_results(text)
        log(f"\nWrote the results into {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
