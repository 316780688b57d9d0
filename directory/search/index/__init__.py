"""The Whoosh index of a node: where it lives, how it is rebuilt, and how it follows the outbox.

Layout under DATA_DIR/search/: one folder per build (`ix-<time>`), a `CURRENT` file naming the live
one (swapped with os.replace, so readers see the old or the new index, never half of one), and in
each folder a `progress.json` with the outbox position applied to it and the size and mtime of each
index file as written (damage done since is noticed: check_intact).

One job a module: files.py opens the live index and keeps its progress file and locks, writing.py
turns practitioners into documents in a writer, building.py rebuilds and swaps, following.py applies
the outbox, progress.py moves the applied position and remembers gaps. `IndexStore` is all of them.
"""

from directory.search.index.building import KEEP_BUILDS, START_WINDOW, Rebuilding
from directory.search.index.files import BUILD_NAME, INDEX_FILE, IndexUnavailable
from directory.search.index.following import Following
from directory.search.index.progress import GAP_PATIENCE_SECONDS, advance, unapplied

__all__ = [
    "BUILD_NAME",
    "GAP_PATIENCE_SECONDS",
    "INDEX_FILE",
    "KEEP_BUILDS",
    "START_WINDOW",
    "IndexStore",
    "IndexUnavailable",
    "advance",
    "unapplied",
]


class IndexStore(Following, Rebuilding):
    """A node's index store: open, rebuild, follow (each job's methods come from its module)."""
