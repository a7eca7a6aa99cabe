"""griffe extension: a name re-exported as `from ._module import Name as Name` is public.

escalier's `__init__.py` files re-export their public names with the redundant-alias form
(PEP 484's convention for re-exports) rather than `__all__`; griffe, without `__all__`,
treats every imported name as private. This marks exactly those re-exports public.
"""

from __future__ import annotations

import ast

import griffe


class RedundantAliasReexports(griffe.Extension):
    """Mark `from x import A as A` aliases public."""

    def on_alias_instance(self, *, node, alias, agent, **kwargs) -> None:
        if isinstance(node, ast.ImportFrom):
            for name in node.names:
                if name.asname is not None and name.asname == name.name == alias.name:
                    alias.public = True
