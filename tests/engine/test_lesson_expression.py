"""The backprop lesson's expressions: the lectures' worked examples to the printed digits, every operator
gradient-checked, and the parser's whitelist refusing what is not an arithmetic expression."""
from __future__ import annotations

import numpy as np
import pytest

from engine.errors import SpecError
from engine.lessons.expression import EXPRESSION_PRESETS, differentiate, parse_expression
from engine.lessons.ops import FUNCTIONS, OPS
from engine.limits import Limits

PRESETS = {p["name"]: p for p in EXPRESSION_PRESETS}


def run(name):
    p = PRESETS[name]
    return differentiate(p["expression"], p["values"])


def test_the_circuit_x_plus_y_times_z_gives_the_lectures_gradients():
    r = run("circuit")
    assert r["value"] == -12
    assert r["grads"] == {"x": -4, "y": -4, "z": 3}


def test_w_x_plus_b_gives_the_lectures_gradients():
    r = run("linear")
    assert r["value"] == -7
    assert r["grads"] == {"w": 5, "x": -2, "b": 1}


def test_the_sigmoid_neuron_gives_the_lectures_numbers_to_two_places():
    r = run("sigmoid_neuron")
    assert round(r["value"], 2) == 0.73
    assert {k: round(v, 2) for k, v in r["grads"].items()} == {
        "w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}


def test_the_vectorised_norm_gives_2_q_x_transpose_and_2_w_transpose_q():
    r = run("vectorised")
    assert r["value"] == pytest.approx(0.116)
    assert np.allclose(r["grads"]["W"], [[0.088, 0.176], [0.104, 0.208]])
    assert np.allclose(r["grads"]["x"], [-0.112, 0.636])
    q = next(n for n in r["nodes"] if n["op"] == "matmul")
    assert np.allclose(q["value"], [0.22, 0.26])


def test_nodes_come_in_evaluation_order_with_local_upstream_and_passed_gradients():
    nodes = run("circuit")["nodes"]
    assert [n["op"] for n in nodes] == ["input", "input", "input", "add", "mul"]
    assert [n["id"] for n in nodes] == list(range(5))
    for n in nodes:
        assert all(i < n["id"] for i in n["inputs"])
    mul = nodes[4]
    assert mul["inputs"] == [3, 2] and mul["grad"] == 1
    assert mul["local"] == [-4, 3] and mul["passed"] == [-4, 3]   # ∂f/∂q = z, ∂f/∂z = q
    add = nodes[3]
    assert add["local"] == [1, 1] and add["passed"] == [-4, -4]   # the add gate hands the gradient on


def test_a_variable_used_twice_adds_both_branches_gradients():
    r = differentiate("x * x + x", {"x": 3})
    assert r["grads"]["x"] == 7                                     # 2x + 1
    assert differentiate("a + 1", {"a": 1, "unused": [1, 2]})["grads"]["unused"] == [0, 0]


def test_values_keep_their_shapes_in_grads_and_nodes():
    r = differentiate("sum(W @ x + b)", {"W": [[1, 2, 3], [4, 5, 6]], "x": [1, 0, -1], "b": 0.5})
    assert np.shape(r["grads"]["W"]) == (2, 3) and np.shape(r["grads"]["x"]) == (3,)
    assert isinstance(r["grads"]["b"], float) and r["grads"]["b"] == 2    # broadcast b: summed back
    assert r["nodes"][-1]["shape"] == []


# ---- every operator, gradient-checked (central differences in float64)
RNG = np.random.default_rng(0)
POSITIVE = RNG.uniform(0.5, 2.0, (2, 3))
TEMPLATES = {   # op -> (expression whose every output element is weighted by R, values)
    "add": ("sum((a + b) * R)", {"a": RNG.normal(size=(2, 3)), "b": RNG.normal(size=3)}),
    "sub": ("sum((a - b) * R)", {"a": RNG.normal(size=(2, 3)), "b": RNG.normal(size=(2, 1))}),
    "mul": ("sum(a * b * R)", {"a": RNG.normal(size=(2, 3)), "b": RNG.normal(size=(2, 3))}),
    "div": ("sum(a / b * R)", {"a": RNG.normal(size=(2, 3)), "b": POSITIVE}),
    "pow": ("sum((a ** 3 + b ** -1.5) * R)", {"a": RNG.normal(size=(2, 3)), "b": POSITIVE}),
    "neg": ("sum(-a * R)", {"a": RNG.normal(size=(2, 3))}),
    "exp": ("sum(exp(a) * R)", {"a": RNG.normal(size=(2, 3))}),
    "log": ("sum(log(a) * R)", {"a": POSITIVE}),
    "sqrt": ("sum(sqrt(a) * R)", {"a": POSITIVE}),
    "abs": ("sum(abs(a) * R)", {"a": POSITIVE * np.array([1, -1, 1])}),
    "sigmoid": ("sum(sigmoid(a) * R)", {"a": RNG.normal(size=(2, 3))}),
    "tanh": ("sum(tanh(a) * R)", {"a": RNG.normal(size=(2, 3))}),
    "relu": ("sum(relu(a) * R)", {"a": POSITIVE * np.array([1, -1, 1])}),
    "max": ("sum(max(a, b) * R)", {"a": np.array([[1.0, -2, 3], [0.5, 4, -1]]), "b": np.array([0.0, 1, 2])}),
    # matrix @ matrix, matrix @ vector, vector @ matrix, vector @ vector
    "matmul": ("sum((A @ B) * R) + sum((A @ v) * s) + sum((s @ A) * v) + v @ v",
               {"A": RNG.normal(size=(2, 3)), "B": RNG.normal(size=(3, 2)), "v": RNG.normal(size=3),
                "s": RNG.normal(size=2)}),
    "sum": ("sum(a) * 2", {"a": RNG.normal(size=(2, 3))}),
    "mean": ("mean(a * R)", {"a": RNG.normal(size=(2, 3))}),
}


def test_every_operator_has_a_gradient_check():
    assert set(TEMPLATES) == set(OPS.names())
    assert set(FUNCTIONS) <= set(OPS.names())


@pytest.mark.parametrize("op", sorted(TEMPLATES))
def test_operator_gradient_matches_central_differences(op):
    text, values = TEMPLATES[op]
    values = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    if "R" in text:
        values["R"] = RNG.normal(size=(2, 3)) if op != "matmul" else RNG.normal(size=(2, 2))
    expr = parse_expression(text, list(values))
    assert op in {n.op for n in expr.evaluate(values).nodes}
    grads = expr.evaluate(values).backward().variables
    h = 1e-6
    for name, v in values.items():
        numeric = np.zeros_like(v)
        for idx in np.ndindex(v.shape):
            plus, minus = v.copy(), v.copy()
            plus[idx] += h
            minus[idx] -= h
            f = lambda val: float(expr.evaluate({**values, name: val}).output.data)
            numeric[idx] = (f(plus) - f(minus)) / (2 * h)
        analytic = grads[name].grad
        err = np.max(np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric)))
        assert err < 1e-6, (op, name, analytic, numeric)


def test_backward_does_not_mutate_a_gradient_it_was_given():
    graph = parse_expression("x * y + x", ["x", "y"]).evaluate({"x": [1.0, 2.0], "y": [3.0, 4.0]}).backward()
    seen = [n.passed[0].copy() for n in graph.nodes if n.passed]
    graph.backward()                                   # a second pass gives the same numbers, not doubled ones
    assert all(np.array_equal(a, n.passed[0]) for a, n in zip(seen, [n for n in graph.nodes if n.passed]))
    assert graph.variables["x"].grad.tolist() == [4.0, 5.0]


# ---- the whitelist
@pytest.mark.parametrize("text, reason", [
    ("__import__('os')", "calling '__import__' is not allowed"),
    ("x.__class__", "no attributes"),
    ("9**9**9", "the exponent of ** must be a number"),
    ("[x for x in y]", "no comprehensions"),
    ("x[0]", "no subscripts"),
    ("x ** 11", "between -10 and 10"),
    ("x ** y", "the exponent of ** must be a number"),
    ("x % 2", "the operator % is not allowed"),
    ("open('f')", "calling 'open' is not allowed"),
    ("exp", "exp is a function"),
    ("exp(x, y)", "exp() takes 1 argument"),
    ("max(x)", "max() takes 2 arguments"),
    ("exp(x=1)", "plain arguments"),
    ("(lambda: 1)()", "calling"),
    ("'a' * 3", "only numbers"),
    ("True + x", "only numbers"),
    ("z + 1", "unknown name 'z'"),
    ("x if y else 1", "no if-else"),
    ("(x := 3)", "no assignments"),
    ("x +", "is not a valid expression"),
    ("", "must be a non-empty expression"),
    ("x" + " + x" * 200, "max_expression_chars"),
    ("x < y", "no comparisons"),
    ("9" * 400, "is too large"),                                   # float() of it would overflow
])
def test_the_parser_refuses_what_is_not_allowed_naming_it(text, reason):
    with pytest.raises(SpecError) as e:
        differentiate(text, {"x": 1.0, "y": 2.0})
    assert e.value.problems[0].path == "expression"
    assert reason in e.value.problems[0].message


def test_node_and_array_limits_come_from_limits():
    small = Limits(max_expression_nodes=10, max_expression_values=4)
    with pytest.raises(SpecError, match="max_expression_nodes = 10"):
        differentiate("x + x + x + x + x + x", {"x": 1}, small)
    with pytest.raises(SpecError) as e:
        differentiate("sum(x)", {"x": [1, 2, 3, 4, 5]}, small)
    assert e.value.problems[0].path == "values.x" and "max_expression_values = 4" in str(e.value)
    with pytest.raises(SpecError, match="would hold 9 values"):     # a broadcast may not outgrow the limit
        differentiate("sum(a * b)", {"a": [[1], [2], [3]], "b": [1, 2, 3]}, small)


@pytest.mark.parametrize("values, path", [
    ({"x": "1"}, "values.x"), ({"x": [1, [2]]}, "values.x"), ({"x": [[[1]]]}, "values.x"),
    ({"x": True}, "values.x"), ({"x": [[1, 2], [3]]}, "values.x"), ({"x": None}, "values.x"),
    ({"__class__": 1}, "values.__class__"), ({"exp": 1}, "values.exp"), ([1], "values"),
    ({"x": 10 ** 400}, "values.x"),
])
def test_bad_values_are_refused_at_their_field(values, path):
    with pytest.raises(SpecError) as e:
        differentiate("sum(x) + 1" if "x" in values else "1", values)
    assert e.value.problems[0].path == path


def test_shape_mismatches_and_non_finite_values_name_the_subexpression():
    with pytest.raises(SpecError, match=r"'W @ x': shapes \[2, 2\] and \[3\] do not fit"):
        differentiate("sum(W @ x)", {"W": [[1, 2], [3, 4]], "x": [1, 2, 3]})
    with pytest.raises(SpecError, match="'log\\(x - x\\)' is not finite"):
        differentiate("log(x - x)", {"x": 1})
    with pytest.raises(SpecError, match="gradient at 'x' is not finite"):
        differentiate("sqrt(x)", {"x": 0})
