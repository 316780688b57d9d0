"""URL rules whose URL builders are written on first use.

Werkzeug writes two small Python functions for every rule as it is added (the builders behind
`url_for`), parsing and compiling generated source: a fifth of the time it takes to build the app,
paid by every worker at start-up and by every test, which builds an app of its own, although most
rules are never built into a link in a worker's life. This rule class puts each builder off until
its first call; matching requests is untouched. It overrides a private method of Werkzeug's
`Rule`, so the version is pinned (pyproject.toml) and the URL tests prove the links.
"""

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule


class LazyRule(Rule):
    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        write = super()._compile_builder
        written: list[Callable[..., tuple[str, str]]] = []

        # Werkzeug binds what this returns to the rule (`__get__`), so it is called with the rule first.
        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            if not written:
                written.append(write(append_unknown))
            return written[0](rule, *args, **kwargs)

        return build
