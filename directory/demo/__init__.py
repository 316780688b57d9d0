"""Synthetic practitioners for demos and benchmarks: `generator.generate(count, seed)`.

Modules: `generator` (the bulk writer and its per-batch hook seam), `profiles` (one practitioner
as plain data), `texts` (headlines and approach texts from the catalog's vocabulary and the catalog's plain words),
`names` (names, streets, labels), `places` (real US ZIP codes weighted by city population).
Nothing here does work at import time.
"""
