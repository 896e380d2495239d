"""engine.first_layer: a model's first weighted layer as signed pictures."""
from __future__ import annotations

import base64

import numpy as np
import pytest

import engine
from engine.errors import DataError
from engine.first_layer import first_layer_images


def pixels(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), np.uint8)


def test_conv_filters_are_drawn_one_per_filter_with_zero_at_128():
    model = engine.build_model({"input_shape": [1, 28, 28], "layers": [
        {"type": "conv2d", "filters": 4, "kernel_size": 3}, {"type": "flatten"},
        {"type": "dense", "units": 10, "activation": "softmax"}], "loss": "categorical_crossentropy"}, seed=0)
    w = model.layers[0].params["W"]
    w[...] = 0
    w[0, 0, 1, :] = [-2.0, 0.0, 1.0]              # filter 0: middle row dark, zero, half bright
    out = first_layer_images(model)
    assert (out["type"], out["layer"], out["count"], out["height"], out["width"]) == ("conv2d", 0, 4, 3, 3)
    first = pixels(out["images"][0]).reshape(3, 3)
    assert first[1].tolist() == [0, 128, 191] and first[0].tolist() == [128, 128, 128]


def test_dense_templates_are_the_columns_of_W_as_28x28_images_and_capped():
    model = engine.build_model({"input_shape": [784], "layers": [
        {"type": "dense", "units": 70, "activation": "relu"}, {"type": "dense", "units": 10, "activation": "softmax"}],
        "loss": "categorical_crossentropy"}, seed=0)
    w = model.layers[0].params["W"]                  # (784, 70)
    w[...] = 0
    w[28 * 5 + 7, 2] = 1.0                           # unit 2 likes pixel (row 5, col 7)
    out = first_layer_images(model)
    assert out["type"] == "dense" and out["count"] == 70 and len(out["images"]) == 64
    template = pixels(out["images"][2]).reshape(28, 28)
    assert template[5, 7] == 255 and template.sum() == 255 + 128 * 783


def test_a_dense_layer_on_non_square_inputs_is_refused():
    model = engine.build_model({"input_shape": [2], "layers": [{"type": "dense", "units": 2, "activation": "softmax"}],
                                "loss": "categorical_crossentropy"}, seed=0)
    with pytest.raises(DataError, match="not a square image"):
        first_layer_images(model)


def test_a_linear_classifiers_templates_name_their_classes_and_a_hidden_layers_do_not():
    # one dense layer on flattened digits is the output: picture k is the template class k scores with
    linear = engine.build_model({"input_shape": [1, 28, 28], "layers": [
        {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}],
        "loss": "categorical_crossentropy"}, seed=0)
    out = first_layer_images(linear)
    assert (out["layer"], out["count"], out["classes"]) == (1, 10, [str(k) for k in range(10)])
    linear.class_names = [f"c{k}" for k in range(10)]
    assert first_layer_images(linear)["classes"][3] == "c3"
    hidden = engine.build_model({"input_shape": [784], "layers": [
        {"type": "dense", "units": 16, "activation": "relu"}, {"type": "dense", "units": 10, "activation": "softmax"}],
        "loss": "categorical_crossentropy"}, seed=0)
    assert first_layer_images(hidden)["classes"] is None
