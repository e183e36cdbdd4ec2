"""Benchmarks of the system's hot paths, each against a baseline measured in the same run on the
same database (`make bench`, or `python -m bench --help`). See bench/README.md."""
