"""The initialization lesson: the lectures' facts about a 10 x 500 stack fed unit-Gaussian data."""
import numpy as np
import pytest

from engine.errors import SpecError
from engine.lessons.initialization import PRESETS, activation_statistics
from engine.model import build_model


def stats(initializer, activation="tanh", **extra):
    return activation_statistics({"layers": 10, "units": 500, "activation": activation,
                                  "initializer": initializer, "n_samples": 1000, "seed": 0, **extra})["layers"]


def test_small_random_weights_collapse_tanh_activations_to_zero():
    layers = stats({"name": "random_normal", "stddev": 0.01})
    assert len(layers) == 10
    assert layers[9]["std"] < 1e-3 * layers[0]["std"]
    assert all(b["std"] < a["std"] for a, b in zip(layers, layers[1:]))   # shrinking at every layer


def test_unit_random_weights_saturate_tanh():
    layers = stats({"name": "random_normal", "stddev": 1.0})
    assert all(layer["saturated"] > 0.8 for layer in layers)
    counts = layers[-1]["histogram"]["counts"]
    assert counts[0] + counts[-1] > 0.8 * sum(counts)                     # piled at -1 and +1


@pytest.mark.parametrize("initializer, activation", [("glorot_normal", "tanh"), ("glorot_uniform", "tanh"),
                                                     ("he_normal", "relu"), ("he_uniform", "relu")])
def test_scaled_initializers_keep_the_spread(initializer, activation):
    layers = stats(initializer, activation)
    assert layers[0]["std"] / 3 < layers[-1]["std"] < 3 * layers[0]["std"]


def test_glorot_with_relu_shrinks_where_he_keeps_it():
    glorot, he = stats("glorot_normal", "relu"), stats("he_normal", "relu")
    assert glorot[-1]["std"] < 0.1 * glorot[0]["std"]
    assert he[-1]["std"] > 0.5 * he[0]["std"]


def test_dead_is_the_fraction_exactly_zero_for_relu():
    request = {"layers": 3, "units": 50, "activation": "relu", "initializer": "he_normal", "n_samples": 200, "seed": 3}
    layers = activation_statistics(request)["layers"]
    model = build_model({"input_shape": [50], "layers": [{"type": "dense", "units": 50, "activation": "relu",
                                                          "kernel_initializer": "he_normal"}] * 3,
                         "loss": "mean_squared_error"}, seed=3)
    x = np.random.default_rng(4).standard_normal((200, 50)).astype(np.float32)
    model.forward(x)
    for layer, mine in zip(model.layers, layers):
        assert mine["dead"] == pytest.approx(np.mean(layer.out == 0))
        assert 0.3 < mine["dead"] < 0.7 and mine["saturated"] is None
    assert activation_statistics(request | {"initializer": "zeros"})["layers"][-1]["dead"] == 1.0


def test_saturated_for_sigmoid_counts_both_ends():
    layers = stats({"name": "random_normal", "stddev": 1.0}, "sigmoid", layers=2, units=200, n_samples=300)
    for layer in layers:
        assert layer["histogram"]["edges"][0] == 0.0 and layer["histogram"]["edges"][-1] == 1.0
    # recompute layer 1 from the same network: a < 0.01 or a > 0.99
    model = build_model({"input_shape": [200], "layers": [{"type": "dense", "units": 200, "activation": "sigmoid",
                                                           "kernel_initializer": {"name": "random_normal",
                                                                                  "stddev": 1.0}}] * 2,
                         "loss": "mean_squared_error"}, seed=0)
    x = np.random.default_rng(1).standard_normal((300, 200)).astype(np.float32)
    model_out = model.forward(x)
    assert layers[-1]["saturated"] == pytest.approx(np.mean((model_out < 0.01) | (model_out > 0.99)))
    assert layers[-1]["saturated"] > 0.1


def test_histograms_share_fixed_edges_and_count_every_value():
    layers = stats("he_normal", "relu", layers=4, units=100, n_samples=100, bins=20)
    edges = layers[0]["histogram"]["edges"]
    assert len(edges) == 21 and all(layer["histogram"]["edges"] == edges for layer in layers)
    assert all(sum(layer["histogram"]["counts"]) == 100 * 100 for layer in layers)


def test_gradients_vanish_with_tiny_weights_and_not_with_glorot():
    tiny = stats({"name": "random_normal", "stddev": 0.01}, layers=5, units=200, n_samples=200)
    glorot = stats("glorot_normal", layers=5, units=200, n_samples=200)
    assert all(layer["grad_std"] > 0 for layer in glorot)
    assert max(layer["grad_std"] for layer in tiny) < 1e-2 * min(layer["grad_std"] for layer in glorot)


def test_a_model_spec_may_be_given_instead_of_the_stack():
    spec = {"input_shape": [20], "layers": [{"type": "dense", "units": 30, "activation": "tanh"},
                                             {"type": "dense", "units": 10, "activation": "tanh"}]}
    layers = activation_statistics({"model": spec, "n_samples": 50})["layers"]
    assert [layer["index"] for layer in layers] == [0, 1]


def test_bad_initializer_option_is_named():
    with pytest.raises(SpecError) as e:
        activation_statistics({"initializer": {"name": "random_normal", "stddev": -1}})
    assert e.value.problems[0].path == "initializer.stddev"


def test_seeded_runs_are_identical():
    a = stats("glorot_normal", layers=2, units=50, n_samples=50)
    b = stats("glorot_normal", layers=2, units=50, n_samples=50)
    assert a == b


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p["name"])
def test_every_preset_is_a_valid_request(preset):
    for initializer in (preset["initializer"], preset["compare"]):
        if initializer is not None:
            layers = activation_statistics({"layers": 2, "units": 20, "n_samples": 20, "activation": preset["activation"],
                                            "initializer": initializer})["layers"]
            assert len(layers) == 2


def test_counts_equal_numpy_histogram_of_the_layer_outputs():
    request = {"layers": 2, "units": 40, "activation": "relu", "initializer": "he_normal", "n_samples": 64, "seed": 5}
    layers = activation_statistics(request)["layers"]
    model = build_model({"input_shape": [40], "layers": [{"type": "dense", "units": 40, "activation": "relu",
                                                          "kernel_initializer": "he_normal"}] * 2,
                         "loss": "mean_squared_error"}, seed=5)
    model.forward(np.random.default_rng(6).standard_normal((64, 40)).astype(np.float32))
    for layer, mine in zip(model.layers, layers):
        edges = np.array(mine["histogram"]["edges"])
        expected, _ = np.histogram(layer.out, bins=edges)
        assert mine["histogram"]["counts"] == expected.tolist()
