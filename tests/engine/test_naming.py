"""engine.naming.run_name: the one readable name of a run, from its spec."""
from __future__ import annotations

import json
from pathlib import Path

import engine
from engine.naming import run_name

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def spec(layers, optimizer=None, dataset="spiral"):
    return engine.normalize({"dataset": {"name": dataset}, "model": {"layers": layers, "loss": "categorical_crossentropy"},
                             "training": {"optimizer": optimizer or {"name": "adam", "learning_rate": 0.03}}})


def test_a_dense_net_is_named_by_data_hidden_sizes_activation_and_optimizer():
    layers = [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 8, "activation": "tanh"},
              {"type": "dense", "units": 2, "activation": "softmax"}]
    assert run_name(spec(layers)) == "spiral · 8-8 tanh · adam 0.03"


def test_a_perceptron_says_it_has_no_hidden_layer():
    layers = [{"type": "dense", "units": 2, "activation": "softmax"}]
    assert run_name(spec(layers, {"name": "sgd", "learning_rate": 0.5})) == "spiral · no hidden layer · sgd 0.5"


def test_mixed_activations_and_conv_layers_are_named_as_groups():
    layers = [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dense", "units": 4, "activation": "tanh"},
              {"type": "dense", "units": 2, "activation": "softmax"}]
    assert run_name(spec(layers)) == "spiral · 8-4 mixed · adam 0.03"
    digit = engine.normalize(json.loads((EXAMPLES.parent / "engine/assets/digit_model.spec.json").read_text()))
    assert run_name(digit) == "mnist · conv 16-32 relu · 128 relu · adam 0.001"
