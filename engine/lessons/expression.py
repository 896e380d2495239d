"""Safe expressions and their gradients: a whitelisted `ast` parser and a small reverse-mode autodiff.

The autodiff has micrograd's shape over float64 NumPy arrays: every operator is a registered `Op` with a
`forward` and a few-line gradient (`local` for elementwise ops: d(out)/d(input) per element; `backward` for
the others), a `Node` keeps its value, its gradient and its inputs, and a topological sort drives backward.

    expr = parse_expression("(x + y) * z", ["x", "y", "z"])        # SpecError at "expression" if not allowed
    graph = expr.evaluate({"x": -2, "y": 5, "z": -4})              # forward, node by node
    graph.backward()                                               # df/d(every node)
    graph.to_json()  # {"value", "grads", "nodes": [{"id", "op", "inputs", "value", "grad", ...}]}

Nothing is ever passed to eval/exec/compile; only the node types in ALLOWED_NODES are walked.
"""
from __future__ import annotations

import ast
from typing import Any

import numpy as np

from ..errors import SpecError
from ..limits import DEFAULT_LIMITS, Limits
from .ops import FUNCTIONS, OPS, Op

# the syntax an expression may contain; anything else is refused with its name
ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Load, ast.Constant,
                 ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.USub, ast.UAdd)
BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.MatMult: "matmul"}
REFUSED = {  # what the student sees for the syntax most often tried
    ast.Attribute: "attributes (a.b)", ast.Subscript: "subscripts (a[i])", ast.ListComp: "comprehensions",
    ast.GeneratorExp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.Lambda: "lambdas", ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Compare: "comparisons",
    ast.BoolOp: "and / or", ast.IfExp: "if-else", ast.NamedExpr: "assignments (:=)", ast.Starred: "* unpacking",
    ast.keyword: "keyword arguments", ast.JoinedStr: "strings", ast.Mod: "%", ast.FloorDiv: "//",
    ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~",
    ast.Not: "not",
}


class Node:
    """One value of the graph (micrograd's Value): data, grad (same shape), the op and the nodes it came from."""

    def __init__(self, data: np.ndarray, op: str, inputs: tuple = (), label: str = "", fn: Op | None = None):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.op, self.inputs, self.label, self.fn = op, inputs, label, fn
        self.local: list = []    # per input: d(out)/d(input) elementwise (None for matmul / sum / mean)
        self.passed: list = []   # per input: the gradient this node sent it (local x upstream)
        self.id = -1

    def backward_step(self) -> None:
        """Add this node's contribution into its inputs' gradients (the chain rule, once)."""
        if self.fn is None:
            return
        xs = [n.data for n in self.inputs]
        self.passed = list(self.fn.backward(self.grad, self.data, *xs))
        self.local = list(self.fn.local(self.data, *xs)) if self.fn.elementwise else [None] * len(xs)
        for node, g in zip(self.inputs, self.passed):
            node.grad = node.grad + g


class Graph:
    """The evaluated nodes in evaluation order; `backward()` fills every node's grad with df/d(node)."""

    def __init__(self, nodes: list[Node], variables: dict[str, Node]):
        self.nodes, self.variables, self.output = nodes, variables, nodes[-1]

    def backward(self) -> "Graph":
        # reverse topological order; the evaluation order already is one (inputs come before their users)
        for node in self.nodes:
            node.grad = np.zeros_like(node.data)
        self.output.grad = np.ones_like(self.output.data)   # df/df = 1 (a non-scalar f is seeded as if summed)
        with np.errstate(all="ignore"):
            for node in reversed(self.nodes):
                node.backward_step()
        for node in self.nodes:
            if not np.all(np.isfinite(node.grad)):
                raise SpecError(f"the gradient at {node.label!r} is not finite at these values "
                                "(e.g. sqrt or log at 0, abs at a kink is fine)", "expression")
        return self

    def to_json(self) -> dict:
        return {"value": _json(self.output.data),
                "grads": {name: _json(node.grad) for name, node in self.variables.items()},
                "nodes": [_node_json(n) for n in self.nodes]}


def _json(a: np.ndarray) -> Any:
    return a.tolist() if a.ndim else float(a)


def _node_json(n: Node) -> dict:
    out = {"id": n.id, "op": n.op, "inputs": [i.id for i in n.inputs], "value": _json(n.data),
           "grad": _json(n.grad), "label": n.label, "shape": list(n.data.shape)}
    if n.fn is not None:
        out.update(symbol=getattr(n.fn, "symbol", n.op), rule=n.fn.rule, power=n.fn.power,
                   local=[None if d is None else _json(np.broadcast_to(d, n.data.shape)) for d in n.local],
                   passed=[_json(g) for g in n.passed])
    return out


class Expression:
    """A checked expression tree over named variables; evaluate(values) builds and runs its graph."""

    def __init__(self, text: str, tree: ast.Expression, variables: tuple, limits: Limits):
        self.text, self.tree, self.variables, self.limits = text, tree, variables, limits

    def evaluate(self, values: dict) -> Graph:
        arrays = {name: check_value(values.get(name), f"values.{name}", self.limits) for name in self.variables}
        nodes: list[Node] = []
        variables: dict[str, Node] = {}
        with np.errstate(all="ignore"):
            for name in self.variables:   # every given variable has a node (and a gradient, 0 if unused)
                variables[name] = self._add(nodes, Node(arrays[name], "input", label=name))
            self._build(self.tree.body, nodes, variables)
        return Graph(nodes, variables)

    def _add(self, nodes: list, node: Node) -> Node:
        node.id = len(nodes)
        nodes.append(node)
        return node

    def _build(self, t: ast.AST, nodes: list, variables: dict) -> Node:
        """Post-order walk: inputs first, so `nodes` ends in evaluation order."""
        if isinstance(t, ast.Name):
            return variables[t.id]
        if isinstance(t, ast.Constant):
            return self._add(nodes, Node(float(t.value), "const", label=ast.unparse(t)))
        if isinstance(t, ast.BinOp) and isinstance(t.op, ast.Pow):
            fn, args = OPS.get("pow")(power=_number(t.right)), [t.left]
        elif isinstance(t, ast.BinOp):
            fn, args = OPS.get(BINARY[type(t.op)])(), [t.left, t.right]
        elif isinstance(t, ast.UnaryOp):
            if isinstance(t.op, ast.UAdd):
                return self._build(t.operand, nodes, variables)
            fn, args = OPS.get("neg")(), [t.operand]
        else:  # ast.Call, checked by _check
            fn, args = OPS.get(t.func.id)(), t.args
        inputs = tuple(self._build(a, nodes, variables) for a in args)
        return self._add(nodes, self._apply(fn, inputs, ast.unparse(t)))

    def _apply(self, fn: Op, inputs: tuple, label: str) -> Node:
        xs = [n.data for n in inputs]
        try:
            shape = fn.out_shape(*xs)
        except ValueError:
            shapes = " and ".join(str(list(x.shape)) for x in xs)
            raise SpecError(f"{label!r}: shapes {shapes} do not fit together for {fn.name}", "expression") from None
        if int(np.prod(shape)) > self.limits.max_expression_values:
            raise SpecError(f"{label!r} would hold {int(np.prod(shape))} values; the limit is "
                            f"max_expression_values = {self.limits.max_expression_values}", "expression")
        data = fn.forward(*xs)
        if not np.all(np.isfinite(data)):
            raise SpecError(f"{label!r} is not finite at these values (overflow, log of 0, sqrt of a "
                            "negative number...)", "expression")
        return Node(data, fn.name, inputs, label, fn)


def check_value(value: Any, path: str, limits: Limits = DEFAULT_LIMITS) -> np.ndarray:
    """A variable's value: a number, a list of numbers or a list of equal-length lists -> float64 array."""
    if value is None:
        raise SpecError("is required: a number, a vector [..] or a matrix [[..], ..]", path)
    if _has_non_number(value):
        raise SpecError("must be a number or (nested) lists of numbers", path)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except OverflowError:
        raise SpecError("must contain only finite numbers", path) from None
    except (TypeError, ValueError):
        raise SpecError("must be a number, a vector or a matrix with rows of equal length", path) from None
    if arr.ndim > 2:
        raise SpecError(f"must be a scalar, a vector or a matrix, got {arr.ndim} dimensions", path)
    if arr.size > limits.max_expression_values or arr.size == 0:
        raise SpecError(f"must have 1 to max_expression_values = {limits.max_expression_values} values, "
                        f"got {arr.size}", path)
    if not np.all(np.isfinite(arr)):
        raise SpecError("must contain only finite numbers", path)
    return arr


def _has_non_number(value: Any, depth: int = 0) -> bool:
    if isinstance(value, np.ndarray):   # a Python caller's array (a lesson surface's grid)
        return value.dtype.kind not in "iuf"
    if isinstance(value, (np.integer, np.floating)):
        return False
    if isinstance(value, (list, tuple)):
        return depth > 2 or any(_has_non_number(v, depth + 1) for v in value)
    return isinstance(value, bool) or not isinstance(value, (int, float))


def _as_float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:        # a 400-digit integer literal
        return float("inf")


def _number(t: ast.AST) -> float:
    """The exponent of ** as a number (checked by _check)."""
    if isinstance(t, ast.UnaryOp):
        return -_number(t.operand) if isinstance(t.op, ast.USub) else _number(t.operand)
    return _as_float(t.value)


def _is_number(t: ast.AST) -> bool:
    if isinstance(t, ast.UnaryOp) and isinstance(t.op, (ast.USub, ast.UAdd)):
        return _is_number(t.operand)
    return isinstance(t, ast.Constant) and type(t.value) in (int, float)


def _refuse(message: str) -> None:
    raise SpecError(message, "expression")


def _check(tree: ast.Expression, variables: tuple, limits: Limits) -> None:
    """Walk every node: only whitelisted syntax, known names, known functions, number exponents in range."""
    nodes = list(ast.walk(tree))
    if len(nodes) > limits.max_expression_nodes:
        _refuse(f"has {len(nodes)} syntax nodes; the limit is max_expression_nodes = {limits.max_expression_nodes}")
    allowed_names = ", ".join(variables) or "none"
    called = {id(t.func) for t in nodes if isinstance(t, ast.Call)}   # checked by _check_call
    for t in nodes:
        if not isinstance(t, ALLOWED_NODES):
            what = REFUSED.get(type(t), f"{type(t).__name__} syntax")
            if not hasattr(t, "lineno"):  # an operator: % // & ...
                _refuse(f"the operator {what} is not allowed; operators: + - * / ** @ and unary -")
            _refuse(f"{ast.unparse(t)!r} is not allowed: no {what} in an expression")
        if isinstance(t, ast.Constant) and type(t.value) not in (int, float):
            _refuse(f"only numbers may appear as constants, not {t.value!r}")
        if isinstance(t, ast.Constant) and not np.isfinite(_as_float(t.value)):
            _refuse(f"the number {str(t.value)[:20]}... is too large")
        if isinstance(t, ast.Name) and t.id not in variables and id(t) not in called:
            if t.id in FUNCTIONS:
                _refuse(f"{t.id} is a function: call it, as in {t.id}(x)")
            _refuse(f"unknown name {t.id!r}; variables: {allowed_names}; functions: {', '.join(FUNCTIONS)}")
        if isinstance(t, ast.Call):
            _check_call(t)
        if isinstance(t, ast.BinOp) and isinstance(t.op, ast.Pow):
            _check_exponent(t, limits)


def _check_call(t: ast.Call) -> None:
    if not isinstance(t.func, ast.Name) or t.func.id not in FUNCTIONS:
        _refuse(f"calling {ast.unparse(t.func)!r} is not allowed; functions: {', '.join(FUNCTIONS)}")
    if t.keywords or any(isinstance(a, ast.Starred) for a in t.args):
        _refuse(f"{t.func.id}() takes plain arguments only")
    arity = OPS.get(t.func.id).arity
    if len(t.args) != arity:
        _refuse(f"{t.func.id}() takes {arity} argument{'s' if arity > 1 else ''}, got {len(t.args)}")


def _check_exponent(t: ast.BinOp, limits: Limits) -> None:
    bound = limits.max_expression_exponent
    if not _is_number(t.right):
        _refuse(f"the exponent of ** must be a number between -{bound:g} and {bound:g}, "
                f"got {ast.unparse(t.right)!r} in {ast.unparse(t)!r}")
    if abs(_number(t.right)) > bound:
        _refuse(f"the exponent of ** must be between -{bound:g} and {bound:g} "
                f"(max_expression_exponent), got {ast.unparse(t.right)}")


def parse_expression(text: Any, variables, limits: Limits = DEFAULT_LIMITS) -> Expression:
    """Check `text` (a Python-syntax expression over `variables`) without running anything; SpecError if refused."""
    if not isinstance(text, str) or not text.strip():
        _refuse("must be a non-empty expression such as (x + y) * z")
    if len(text) > limits.max_expression_chars:
        _refuse(f"has {len(text)} characters; the limit is max_expression_chars = {limits.max_expression_chars}")
    variables = tuple(variables)
    for name in variables:
        if not (isinstance(name, str) and name.isidentifier() and not name.startswith("_")) or name in FUNCTIONS:
            raise SpecError(f"{name!r} cannot be a variable name (letters, digits and _, not a function name)",
                            f"values.{name}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        where = f" at column {e.offset}" if getattr(e, "offset", None) else ""
        _refuse(f"is not a valid expression{where}: {getattr(e, 'msg', None) or 'too deeply nested'}")
    _check(tree, variables, limits)
    return Expression(text, tree, variables, limits)


def differentiate(text: Any, values: Any, limits: Limits = DEFAULT_LIMITS) -> dict:
    """POST /api/lessons/expression: the value, each variable's gradient and every node, in evaluation order."""
    if not isinstance(values, dict):
        raise SpecError("must be an object {variable: number | vector | matrix}", "values")
    return parse_expression(text, list(values), limits).evaluate(values).backward().to_json()


# the lectures' worked examples (the page's presets; the tests assert the printed numbers)
EXPRESSION_PRESETS = [
    {"name": "circuit", "title": "f = (x + y)·z", "expression": "(x + y) * z", "values": {"x": -2, "y": 5, "z": -4}},
    {"name": "linear", "title": "f = w·x + b", "expression": "w * x + b", "values": {"w": -2, "x": 5, "b": 3}},
    {"name": "sigmoid_neuron", "title": "sigmoid neuron", "expression": "1 / (1 + exp(-(w0 * x0 + w1 * x1 + w2)))",
     "values": {"w0": 2, "x0": -1, "w1": -3, "x1": -2, "w2": -3}},
    {"name": "vectorised", "title": "f = ‖W·x‖²", "expression": "sum((W @ x) ** 2)",
     "values": {"W": [[0.1, 0.5], [-0.3, 0.8]], "x": [0.2, 0.4]}},
]
