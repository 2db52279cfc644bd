"""Production settings plus the benchmark's "hello" ceiling view, used only by `make bench`.

The public URLs never include that view: only this settings module routes to `bench.urls`.
The environment (secret key, database, hosts) is set by bench/run.py as it would be in production.
"""

import os

from cstosite.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# collectstatic writes here, so the benchmark leaves the project's own staticfiles/ alone.
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT)  # noqa: F405
