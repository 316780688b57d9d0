"""Benchmarks, run by hand and never by the test suite, grouped by what they put under strain:

- `bench.search`: the search engine's speed, hostile input, freshness and bulk growth;
- `bench.load`: many visitors at once, bulk roster imports, the timing of password resets;
- `bench.faults`: processes killed mid-write, the index damaged, the API fuzzed;
- `bench.nodes`: several nodes on one database (replica lag);
- `bench.harness`: what they share with each other and with tests/ops (scratch databases, ports,
  processes, HTTP calls).

Each writes its figures to bench/results/*.json and then `bench.report` rewrites the README's tables
from those files, so no figure in the README is copied by hand.
"""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
README = REPO / "README.md"
