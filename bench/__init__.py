"""duban's benchmarks: ``python -m bench`` (full) or ``python -m bench --quick``. See bench/README.md."""
