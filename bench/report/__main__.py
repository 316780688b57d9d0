"""`python -m bench.report` rewrites the READMEs' generated figures; `--check` only says whether they are
current (exit 1 when not), for a check before a commit."""

import argparse
import sys

from bench.report import stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a README is stale")
    args = parser.parse_args(argv)
    paths = stale() if args.check else write()
    for path in paths:
        print(f"{'stale' if args.check else 'rewrote'}: {path}")
    return 1 if args.check and paths else 0


if __name__ == "__main__":
    sys.exit(main())
