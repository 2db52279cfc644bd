"""Measure spreadsheet import and export speed against a throwaway SQLite database.

    .venv/bin/python bench/measure_import.py [--rows 10000] [--skip-admin] [--skip-export]

Builds a deterministic exercises workbook (columns key, name_zh, name_en, date, hosts,
participants, troops, description_en; six states in the database), then runs, each in its own
process so that its peak memory is its own:

1. `import_catalog` of the workbook into a database with only the states (every row new);
2. `import_catalog` of the same file again (every row unchanged);
3. `import_catalog` of a file where half the rows changed (troops, some participants and names);
4. the admin import of the same workbook into a fresh database: preview, then confirm;
5. `export_catalog` to xlsx, json and a folder of csv files, of 100,000 exercises, 10,000
   summits and 5,000 crises with two citations per record (scaled by --export-scale);
6. the public csv download of the exercises list filtered to a tenth of them (10,000 rows at
   full scale), through the test client: first byte and whole body.

Prints seconds, rows per second and peak memory (maxrss) for each.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATES = ("AM", "BY", "KG", "KZ", "RU", "TJ")
HEADER = ("key", "name_zh", "name_en", "date", "hosts", "participants", "troops", "description_en")


def exercise_row(n, changed=False):
    """Row `n` of the workbook; `changed` gives its edited version (every row differs)."""
    hosts = [STATES[n % 6]] + ([STATES[(n + 3) % 6]] if n % 3 == 0 else [])
    participants = sorted({STATES[(n + k) % 6] for k in range(3 + n % 3)})
    troops = 100 + (n * 37) % 5000
    name_en = f"Exercise {n}"
    if changed:
        troops += 1
        if n % 4 == 0:
            participants = sorted(set(participants) ^ {STATES[(n + 5) % 6]})
        if n % 10 == 0:
            name_en += " (renamed)"
    return (
        f"ex-{n:05d}",
        f"演习{n}",
        name_en,
        f"{1995 + n % 30}-{n % 12 + 1:02d}",
        ", ".join(sorted(hosts)),
        ", ".join(participants),
        troops,
        f"Command-post exercise number {n}, held to rehearse a collective response.",
    )


def write_workbook(path, rows):
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("exercises")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)


def environment(database):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cstosite.settings_test",  # plain static files for the admin
        "DJANGO_SECRET_KEY": "throwaway-key-for-measuring-only",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{database}",
    }


def run(args, database):
    """Run a child process that is not measured (set-up)."""
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment(database), capture_output=True, check=False
    )
    if done.returncode:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{done.stderr.decode()[-3000:]}")


def run_measured(args, database):
    """Like run(), but reads the child's own rusage (Popen has already reaped it otherwise)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment(database),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Read the pipes ourselves and reap the child with wait4 to get its peak memory.
    stdout = process.stdout.read()
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if process.returncode:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{stderr.decode()[-3000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout.decode(), usage.ru_utime + usage.ru_stime


def report(label, rows, seconds, megabytes, output="", cpu=None):
    """One line: wall time, rows per second, peak memory, and CPU time (user + system), which
    other work on a busy machine disturbs less than wall time."""
    summary = next((line for line in output.splitlines() if line.startswith("exercises:")), "")
    cpu = f"cpu {cpu:6.2f} s" if cpu is not None else ""
    print(
        f"{label:<40} {rows:>7} rows {seconds:7.2f} s {rows / seconds:7.0f} rows/s {megabytes:5.0f} MB "
        f"{cpu}  {summary}"
    )
    sys.stdout.flush()


# --- work done inside child processes ----------------------------------------------------


def child_setup():
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def child_seed_states():
    child_setup()
    from catalog.models import State

    for code in STATES:
        State.objects.create(code=code, name_zh=f"国家{code}", name_en=f"State {code}")


def child_admin_import(path):
    child_setup()
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    user = User.objects.create_superuser("measure", password="measure-password")
    client = Client()
    client.force_login(user)
    content = Path(path).read_bytes()
    start = time.perf_counter()
    preview = client.post(
        reverse("admin:catalog_exercise_import"),
        {"import_file": SimpleUploadedFile("exercises.xlsx", content), "format": "0", "resource": "0"},
    )
    middle = time.perf_counter()
    assert preview.status_code == 200, preview.status_code
    form = preview.context["confirm_form"]
    assert form is not None, "the preview found errors"
    done = client.post(reverse("admin:catalog_exercise_process_import"), form.initial)
    end = time.perf_counter()
    assert done.status_code == 302, done.status_code
    print(f"preview {middle - start:.2f} confirm {end - middle:.2f}")


def child_seed_catalog(scale):
    """A large catalog written straight through the ORM in bulk (no history: not measured)."""
    child_setup()
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from catalog.models import Citation, Crisis, Exercise, Source, State, Summit

    exercises, summits, crises = int(100_000 * scale), int(10_000 * scale), int(5_000 * scale)
    states = list(State.objects.order_by("code"))
    with transaction.atomic():
        sources = Source.objects.bulk_create(
            Source(key=f"source-{n}", kind="news", title=f"Source {n}", language="en") for n in range(50)
        )
        batches = []
        for model, count, prefix, extra in (
            (Exercise, exercises, "ex", lambda n: {"date": f"{1995 + n % 30}", "troops": n % 5000}),
            (Summit, summits, "summit", lambda n: {"date": f"{1995 + n % 30}-06", "host": states[n % 6]}),
            (Crisis, crises, "crisis", lambda n: {"start": f"{1995 + n % 30}", "response": "statement"}),
        ):
            records = model.objects.bulk_create(
                (
                    model(
                        key=f"{prefix}-{n:06d}",
                        name_zh=f"记录{n}",
                        name_en=f"Record {n}",
                        description_en=f"Description of record {n}, long enough to look real.",
                        **extra(n),
                    )
                    for n in range(count)
                ),
                batch_size=2000,
            )
            batches.append((model, records))
        for model, records in batches:
            for field in model._meta.many_to_many:
                through = field.remote_field.through
                source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
                through.objects.bulk_create(
                    (
                        through(**{f"{source}_id": record.pk, f"{target}_id": states[(record.pk + k) % 6].pk})
                        for record in records
                        for k in range(1 + record.pk % 3)
                    ),
                    batch_size=5000,
                )
            content_type = ContentType.objects.get_for_model(model)
            Citation.objects.bulk_create(
                (
                    Citation(
                        content_type=content_type,
                        object_id=record.pk,
                        source=sources[(record.pk + k) % 50],
                        quote=f"Passage {k} about record {record.pk}.",
                    )
                    for record in records
                    for k in range(2)
                ),
                batch_size=5000,
            )


def child_download(year_from, year_to):
    """The exercises list as csv, filtered by year, read to the end; a few times over."""
    child_setup()
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()
    client = Client()
    url = reverse("catalog:exercise_list")
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        response = client.get(url, {"year_from": year_from, "year_to": year_to, "format": "csv"})
        chunks = iter(response.streaming_content)
        first = next(chunks)
        first_byte = time.perf_counter() - start
        lines = first.count(b"\n") + sum(chunk.count(b"\n") for chunk in chunks)
        timings.append((time.perf_counter() - start, first_byte))
    seconds, first_byte = min(timings)
    print(f"rows {lines - 1} best of 3: {seconds:.2f} s, first byte {first_byte * 1000:.0f} ms")


CHILDREN = {
    "seed-states": child_seed_states,
    "download": child_download,
    "admin-import": child_admin_import,
    "seed-catalog": lambda scale: child_seed_catalog(float(scale)),
}


def main():
    if len(sys.argv) > 1 and sys.argv[1] in CHILDREN:
        return CHILDREN[sys.argv[1]](*sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--export-scale", type=float, default=1.0)
    parser.add_argument("--skip-admin", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--skip-import", action="store_true")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="measure-import-"))
    try:
        script = str(Path(__file__).resolve())
        states_db = work / "states.sqlite3"
        run(["manage.py", "migrate", "--no-input"], states_db)
        run([script, "seed-states"], states_db)
        rows = options.rows
        new, changed = work / "exercises.xlsx", work / "exercises-changed.xlsx"
        write_workbook(new, (exercise_row(n) for n in range(rows)))
        write_workbook(changed, (exercise_row(n, changed=n % 2 == 0) for n in range(rows)))
        print(f"python {sys.version.split()[0]}, {rows} exercise rows, workbook {new.stat().st_size:,} bytes")

        if not options.skip_import:
            database = work / "import.sqlite3"
            shutil.copy(states_db, database)
            command = ["manage.py", "import_catalog"]
            report("import_catalog, all new", rows, *run_measured([*command, str(new)], database))
            report("import_catalog, all unchanged", rows, *run_measured([*command, str(new)], database))
            report("import_catalog, half updated", rows, *run_measured([*command, str(changed)], database))
            report(
                "import_catalog --dry-run, half updated",
                rows,
                *run_measured([*command, str(new), "--dry-run"], database),
            )

        if not options.skip_admin:
            database = work / "admin.sqlite3"
            shutil.copy(states_db, database)
            seconds, megabytes, output, cpu = run_measured([script, "admin-import", str(new)], database)
            report("admin import, preview + confirm", rows, seconds, megabytes, cpu=cpu)
            print(f"{'':34} {output.strip()}")

        if not options.skip_export:
            database = work / "export.sqlite3"
            shutil.copy(states_db, database)
            run([script, "seed-catalog", str(options.export_scale)], database)
            for form, target in (("xlsx", "out.xlsx"), ("json", "out.json"), ("csv files", "out/")):
                seconds, megabytes, output, cpu = run_measured(
                    ["manage.py", "export_catalog", str(work / target)], database
                )
                total = int(output.strip().splitlines()[-1].split()[1])
                report(f"export_catalog to {form}", total, seconds, megabytes, cpu=cpu)
            print(f"{'':34} {' / '.join(output.strip().splitlines()[:-1])}")
            # Exercises are dated 1995 + n % 30: three years of thirty are a tenth of them.
            seconds, megabytes, output, cpu = run_measured([script, "download", "2010", "2012"], database)
            print(f"{'csv download of one tenth, in-process':<40} {output.strip()} {megabytes:5.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
