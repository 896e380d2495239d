"""Recurrent layers: the lstm's gates against a step computed by hand, Keras' defaults, shapes and the
per-step gradient norms the time_gradients probe reads (the gradient checks are in test_layers.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.errors import SpecError
from engine.layers import LAYERS
from engine.model import build_model, count_params
from engine.params import resolve_params


def make(name: str, config: dict, shape: tuple, dtype=np.float64, seed: int = 0):
    cls = LAYERS.get(name)
    layer = cls(**resolve_params(cls.options, config, "layer"))
    layer.build(shape, np.random.default_rng(seed), dtype)
    return layer


def sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_lstm_with_hand_set_weights_reproduces_two_steps_computed_by_hand():
    layer = make("lstm", {"units": 1, "return_sequences": True}, (2, 1))
    # Keras' column order: input gate, forget gate, cell candidate, output gate
    w, u, b = [0.5, -0.3, 0.8, 0.1], [0.2, 0.4, -0.6, 0.7], [0.1, 1.0, -0.2, 0.05]
    layer.params["W"][...] = [w]
    layer.params["U"][...] = [u]
    layer.params["b"][...] = b
    xs = [1.5, -0.7]
    out = layer.forward(np.array([[[xs[0]], [xs[1]]]]))
    h, c, expected = 0.0, 0.0, []
    for x in xs:
        z = [w[k] * x + u[k] * h + b[k] for k in range(4)]
        i, f, g, o = sig(z[0]), sig(z[1]), math.tanh(z[2]), sig(z[3])
        c = f * c + i * g
        h = o * math.tanh(c)
        expected.append((i, f, g, o, c, h))
    np.testing.assert_allclose(layer.gates[:, 0, :], [e[:4] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(layer.cs[1:, 0, 0], [e[4] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(out[0, :, 0], [e[5] for e in expected], rtol=1e-12)


def test_lstm_starts_with_forget_bias_one_and_other_biases_zero():
    layer = make("lstm", {"units": 3}, (4, 2))
    np.testing.assert_array_equal(layer.params["b"], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    off = make("lstm", {"units": 3, "unit_forget_bias": False}, (4, 2))
    np.testing.assert_array_equal(off.params["b"], 0)


def test_recurrent_weights_follow_keras_shapes_and_orthogonal_recurrent_kernel():
    layer = make("lstm", {"units": 5}, (7, 3))
    assert layer.params["W"].shape == (3, 20) and layer.params["U"].shape == (5, 20)
    u = layer.params["U"]
    np.testing.assert_allclose(u @ u.T, np.eye(5), atol=1e-12)   # (5, 20): orthonormal rows
    rnn = make("simple_rnn", {"units": 4}, (7, 3))
    assert rnn.params["W"].shape == (3, 4) and rnn.params["U"].shape == (4, 4) and rnn.params["b"].shape == (4,)


@pytest.mark.parametrize("name", ["simple_rnn", "lstm"])
def test_return_sequences_gives_every_step_and_its_last_step_equals_the_plain_output(name):
    x = np.random.default_rng(1).standard_normal((3, 6, 2))
    seq = make(name, {"units": 4, "return_sequences": True}, (6, 2), seed=5)
    last = make(name, {"units": 4}, (6, 2), seed=5)
    out_seq, out_last = seq.forward(x), last.forward(x)
    assert out_seq.shape == (3, 6, 4) and out_last.shape == (3, 4)
    np.testing.assert_allclose(out_seq[:, -1], out_last)


@pytest.mark.parametrize("name", ["simple_rnn", "lstm"])
def test_time_gradient_norms_are_the_norm_of_the_gradient_reaching_each_hidden_state(name):
    layer = make(name, {"units": 3}, (5, 2), seed=2)
    x = np.random.default_rng(3).standard_normal((4, 5, 2))
    layer.forward(x)
    g = np.random.default_rng(4).standard_normal((4, 3))
    layer.backward(g)
    norms = layer.time_gradient_norms()
    assert len(norms) == 5
    assert norms[-1] == pytest.approx(np.linalg.norm(g))       # the last step gets the output's gradient only


def test_simple_rnn_time_gradient_norm_matches_central_differences_through_the_later_steps():
    layer = make("simple_rnn", {"units": 3}, (5, 2), seed=2)
    x = np.random.default_rng(3).standard_normal((4, 5, 2))
    layer.forward(x)
    g = np.random.default_rng(4).standard_normal((4, 3))
    layer.backward(g)
    u, w, b = layer.params["U"], layer.params["W"], layer.params["b"]
    eps, t, num = 1e-6, 1, np.zeros((4, 3))
    for idx in np.ndindex(4, 3):       # loss = sum(h_T * g) as a function of h_t (step t, 0-based)
        vals = []
        for d in (eps, -eps):
            h = layer.hs[t + 1].copy()
            h[idx] += d
            for s in range(t + 1, 5):
                h = np.tanh(x[:, s] @ w + h @ u + b)
            vals.append(float((h * g).sum()))
        num[idx] = (vals[0] - vals[1]) / (2 * eps)
    assert layer.time_gradient_norms()[t] == pytest.approx(np.linalg.norm(num), rel=1e-6)


def test_simple_rnn_gradient_vanishes_through_time_with_small_recurrent_weights():
    layer = make("simple_rnn", {"units": 8, "recurrent_initializer": {"name": "orthogonal", "gain": 0.5}},
                 (30, 1), seed=0)
    layer.forward(np.random.default_rng(0).standard_normal((16, 30, 1)))
    layer.backward(np.ones((16, 8)))
    norms = layer.time_gradient_norms()
    assert norms[0] < 1e-6 * norms[-1]


def test_recurrent_layers_refuse_flat_inputs_and_dense_after_sequences_is_time_distributed():
    with pytest.raises(SpecError, match="sequences of shape"):
        build_model({"input_shape": [4], "layers": [{"type": "lstm", "units": 2}], "loss": "mean_squared_error"})
    spec = {"input_shape": [10, 3], "loss": "mean_squared_error",
            "layers": [{"type": "lstm", "units": 4, "return_sequences": True},
                       {"type": "time_distributed", "units": 1}, {"type": "flatten"}]}
    model = build_model(spec)
    assert model.output_shape == (10,)
    assert count_params(model.spec) == model.n_params() == 3 * 16 + 4 * 16 + 16 + 4 + 1
    out = model.forward(np.zeros((2, 10, 3), dtype=np.float32))
    assert out.shape == (2, 10)


def test_lstm_model_trains_on_a_batch_in_float32_without_warnings():
    spec = {"input_shape": [6, 2], "loss": "mean_squared_error",
            "layers": [{"type": "lstm", "units": 4}, {"type": "dense", "units": 1}]}
    model = build_model(spec, seed=1)
    x = np.random.default_rng(0).standard_normal((8, 6, 2)).astype(np.float32)
    y = x[:, 0, :1]
    with np.errstate(all="raise"):
        loss, out = model.loss_and_backward(x, y)
    assert out.dtype == np.float32 and np.isfinite(loss)
    assert all(g.dtype == np.float32 and np.any(g != 0) for g in model.grads.values())
