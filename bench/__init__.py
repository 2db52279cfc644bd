"""The benchmark harness (`make bench`): see docs/benchmarks.md. Nothing here is part of the site."""
