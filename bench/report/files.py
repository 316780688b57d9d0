"""Reading the benches' JSON files."""

import json
from pathlib import Path


def read(results: Path, name: str) -> dict | None:
    path = results / name
    return json.loads(path.read_text()) if path.exists() else None


def every(results: Path, pattern: str) -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(results.glob(pattern))]


def missing(*names: str) -> str:
    return f"_Not measured yet: no {', '.join(f'bench/results/{n}' for n in names)}._"
