"""The whitelist walk of a Python expression tree into SymPy, shared by the target language
and the SOS polynomial language.

Nothing is evaluated: `ast.parse(..., mode="eval")` gives the tree and only the nodes
handled here or by a subclass are accepted; every other node is an error naming it. Sums
and products are walked as chains (no recursion in their length), so long polynomials do
not hit the recursion limit. Subclasses supply the leaves (constants, names, calls), the
rules for division and powers, and how an error reads.
"""

from __future__ import annotations

import ast

import sympy as sp

__all__ = ["ArithmeticParser"]


class ArithmeticParser(ast.NodeVisitor):
    """+, -, *, / and ** over SymPy values; leaves and the checks of / and ** by subclasses.

    Subclasses define `visit_Constant`, `visit_Name` (and `visit_Call` if calls are
    accepted), `divide(node, left, right)`, `power(node, left, right)` and `fail(node, what)`
    (the ValueError to raise, with the language's accepted syntax).
    """

    def __init__(self, text: str):
        self.text = text

    def segment(self, node: ast.AST | None) -> str | None:
        """The source text of `node`, or None when it has no location."""
        if node is None or not hasattr(node, "col_offset"):
            return None
        try:
            return ast.get_source_segment(self.text, node)
        except Exception:  # noqa: BLE001 - the location is a courtesy only
            return None

    def fail(self, node: ast.AST | None, what: str) -> ValueError:
        raise NotImplementedError

    def divide(self, node: ast.BinOp, left: sp.Expr, right: sp.Expr) -> sp.Expr:
        raise NotImplementedError

    def power(self, node: ast.BinOp, left: sp.Expr, right: sp.Expr) -> sp.Expr:
        raise NotImplementedError

    def generic_visit(self, node):
        raise self.fail(node, f"unsupported syntax {type(node).__name__}")

    def visit_Expression(self, node):
        return self.visit(node.body)

    def visit_UnaryOp(self, node):
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.fail(node, f"unsupported operator {type(node.op).__name__}")

    @staticmethod
    def _chain(node, ops: tuple) -> list[tuple[ast.AST, ast.AST | None]]:
        """The operands of a left-nested chain a op b op c ...: [(a, None), (b, op), ...]."""
        items = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, ops):
            items.append((node.right, node.op))
            node = node.left
        items.append((node, None))
        return items[::-1]

    def visit_BinOp(self, node):
        if isinstance(node.op, ast.Add | ast.Sub):
            terms = []
            for operand, op in self._chain(node, (ast.Add, ast.Sub)):
                value = self.visit(operand)
                terms.append(-value if isinstance(op, ast.Sub) else value)
            return sp.Add(*terms)
        if isinstance(node.op, ast.Mult):
            return sp.Mul(*[self.visit(operand) for operand, _ in
                            self._chain(node, (ast.Mult,))])
        left, right = self.visit(node.left), self.visit(node.right)
        if isinstance(node.op, ast.Div):
            return self.divide(node, left, right)
        if isinstance(node.op, ast.Pow):
            return self.power(node, left, right)
        raise self.fail(node, f"unsupported operator {type(node.op).__name__}")
