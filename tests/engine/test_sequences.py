"""Sequence datasets (sine, memory, adding, text), an output layer's null units taken from the data, and
the time_gradients frame a recurrent network streams."""
from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.datasets import DATASETS, load_dataset
from engine.datasets.sequences import shipped_text, vocabulary
from engine.spec import prepare_dataset
from engine.summary import summarize

SEQUENCE_SETS = [name for name, entry in DATASETS.items() if entry.kind == "sequence"]


def test_the_four_sequence_sets_are_registered_with_seq_len_and_seed():
    assert set(SEQUENCE_SETS) == {"sine", "memory", "adding", "text"}
    for name in SEQUENCE_SETS:
        names = {p.name for p in DATASETS.get(name).options}
        assert {"seq_len", "seed", "n_samples"} <= names


@pytest.mark.parametrize("name", SEQUENCE_SETS)
def test_declared_facts_match_the_built_dataset_and_seeds_repeat(name):
    spec = {"name": name, "seq_len": 12, "n_samples": 60, "seed": 4}
    out, facts = prepare_dataset(spec)
    ds = load_dataset(out)
    assert ds.facts() == facts
    assert ds.x_train.dtype == np.float32 and ds.x_train.shape[1] == 12 and ds.x_train.ndim == 3
    again = load_dataset(out)
    np.testing.assert_array_equal(ds.x_train, again.x_train)
    other = load_dataset({**out, "seed": 5})
    assert not np.array_equal(ds.x_train, other.x_train)


def test_sine_target_is_the_next_clean_value_of_the_wave():
    ds = load_dataset({"name": "sine", "seq_len": 30, "noise": 0.0, "n_samples": 50})
    x, y = ds.x_train[:, :, 0].astype(np.float64), ds.y_train[:, 0]
    # a clean sine obeys x[t+1] = 2 cos(w) x[t] - x[t-1]; recover cos(w) from the first steps, predict the next
    cos_w = (x[:, 2] + x[:, 0]) / (2 * x[:, 1])
    np.testing.assert_allclose(2 * cos_w * x[:, -1] - x[:, -2], y, atol=1e-3)
    per_step = load_dataset({"name": "sine", "seq_len": 30, "noise": 0.0, "n_samples": 50, "per_step": True})
    np.testing.assert_allclose(per_step.y_train[:, :-1], per_step.x_train[:, 1:, 0], atol=1e-6)
    assert per_step.n_targets == 30


def test_memory_label_is_the_marked_bit_from_the_first_fifth_of_the_sequence():
    ds = load_dataset({"name": "memory", "seq_len": 50, "n_samples": 400, "noise": 1.0})
    marks = ds.x_train[:, :, 1]
    assert np.all(marks.sum(axis=1) == 1) and np.all(marks[:, 10:] == 0)
    at = marks.argmax(axis=1)
    assert len(set(at.tolist())) == 10                 # every one of the first 10 steps is used
    bit = ds.x_train[np.arange(len(at)), at, 0]
    np.testing.assert_array_equal(ds.y_train, (bit > 0).astype(np.int64))
    assert set(np.abs(bit).tolist()) == {1.0}
    assert 0.35 < ds.y_train.mean() < 0.65      # balanced: chance is 50 %


def test_adding_target_is_the_sum_of_the_two_marked_numbers():
    ds = load_dataset({"name": "adding", "seq_len": 40, "n_samples": 100})
    marks = ds.x_train[:, :, 1]
    assert np.all(marks.sum(axis=1) == 2) and np.all(marks[:, :20].sum(axis=1) == 1)
    np.testing.assert_allclose(ds.y_train[:, 0], (ds.x_train[:, :, 0] * marks).sum(axis=1), rtol=1e-6)


def test_text_windows_are_one_hot_and_the_target_is_the_following_character():
    text = "abcabcabd" * 20
    ds = load_dataset({"name": "text", "text": text, "seq_len": 5, "n_samples": 50})
    assert ds.class_names == ["a", "b", "c", "d"] and ds.n_classes == 4
    assert ds.x_train.shape == (40, 5, 4) and np.all(ds.x_train.sum(axis=2) == 1)
    for row, label in zip(ds.x_train[:10], ds.y_train[:10]):
        window = "".join(ds.class_names[i] for i in row.argmax(axis=1))
        start = next(i for i in range(len(text) - 5) if text[i:i + 5] == window)
        assert ds.class_names[label] in {text[i + 5] for i in range(start, len(text) - 5, 9) if text[i:i + 5] == window}


def test_shipped_text_is_small_and_has_the_vocabulary_its_readme_states():
    text = shipped_text()
    assert 100_000 < len(text) < 400_000 and len(vocabulary(text)) == 62


@pytest.mark.parametrize("spec, path, words", [
    ({"name": "text", "text": "ab" * 5, "seq_len": 20}, "dataset.text", "needs at least"),
    ({"name": "text", "text": "a" * 500, "seq_len": 5}, "dataset.text", "2 different"),
    ({"name": "text", "text": 5}, "dataset.text", "string"),
    ({"name": "memory", "seq_len": 100_000}, "dataset.seq_len", "<="),
])
def test_bad_sequence_options_name_the_field(spec, path, words):
    problems = engine.validate({"dataset": spec, "model": {
        "layers": [{"type": "lstm", "units": 4}, {"type": "dense", "units": None, "activation": "softmax"}],
        "loss": "categorical_crossentropy"}})
    assert any(p.path == path and words in p.message for p in problems), problems


def test_inline_text_over_the_limit_is_refused():
    from engine.limits import DEFAULT_LIMITS
    problems = engine.validate({"dataset": {"name": "text", "text": "ab" * (DEFAULT_LIMITS.max_text_chars // 2 + 1)},
                                "model": {"layers": [{"type": "dense", "units": None}], "loss": "mean_squared_error"}})
    assert any(p.path == "dataset.text" and "at most" in p.message for p in problems)


def _model(last: dict, loss: str) -> dict:
    return {"layers": [{"type": "lstm", "units": 4}, last], "loss": loss}


@pytest.mark.parametrize("dataset, last, loss, units", [
    ({"name": "text", "text": "abcdefg" * 30, "seq_len": 5}, {"type": "dense", "units": None, "activation": "softmax"},
     "categorical_crossentropy", 7),
    ({"name": "memory"}, {"type": "dense", "units": None, "activation": "softmax"}, "categorical_crossentropy", 2),
    ({"name": "memory"}, {"type": "dense", "units": None, "activation": "sigmoid"}, "binary_crossentropy", 1),
    ({"name": "adding"}, {"type": "dense", "units": None}, "mean_squared_error", 1),
])
def test_null_output_units_are_taken_from_the_dataset_by_normalize_and_the_summary(dataset, last, loss, units):
    norm = engine.normalize({"dataset": dataset, "model": _model(last, loss)})
    assert norm["model"]["layers"][-1]["units"] == units
    summary = summarize(_model(last, loss), dataset)
    assert summary["errors"] == [] and summary["layers"][-1]["output_shape"] == [units]
    assert summary["layers"][-1]["text"].startswith(f"dense {units}")


def test_per_step_sine_takes_its_width_through_time_distributed_and_flatten():
    model = {"layers": [{"type": "lstm", "units": 4, "return_sequences": True},
                        {"type": "time_distributed", "units": 1}, {"type": "flatten"}], "loss": "mean_squared_error"}
    assert engine.validate({"dataset": {"name": "sine", "per_step": True, "seq_len": 15}, "model": model}) == []
    model["layers"][1]["units"] = None
    norm = engine.normalize({"dataset": {"name": "sine", "per_step": True, "seq_len": 15}, "model": model})
    assert norm["model"]["layers"][1]["units"] == 1
    model["layers"][1]["units"] = 2
    problems = engine.validate({"dataset": {"name": "sine", "per_step": True, "seq_len": 15}, "model": model})
    assert [p.path for p in problems] == ["model.layers.1.units"]


def test_null_units_on_a_hidden_layer_is_refused():
    model = {"layers": [{"type": "dense", "units": None}, {"type": "dense", "units": 2, "activation": "softmax"}],
             "loss": "categorical_crossentropy"}
    problems = engine.validate({"dataset": {"name": "xor"}, "model": model})
    assert [p.path for p in problems] == ["model.layers.0.units"]
    assert "only the output layer" in problems[0].message


def test_an_lstm_job_streams_time_gradients_for_every_recurrent_layer():
    spec = {"dataset": {"name": "memory", "seq_len": 8, "n_samples": 80},
            "model": {"layers": [{"type": "simple_rnn", "units": 5, "return_sequences": True},
                                 {"type": "lstm", "units": 4},
                                 {"type": "dense", "units": None, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": 2, "optimizer": "adam"}, "stream": {"max_fps": 1000}}
    events = []
    result = engine.train(spec, on_event=events.append)
    frames = [e for e in events if e["type"] == "time_gradients"]
    assert [f["epoch"] for f in frames] == [0, 1, 2]
    for frame in frames:
        assert [(l["layer"], l["type"]) for l in frame["layers"]] == [(0, "simple_rnn"), (1, "lstm")]
        assert all(len(l["norms"]) == 8 and all(n >= 0 for n in l["norms"]) for l in frame["layers"])
    # the frame's backward leaves the gradients the histograms and norms show as they were
    grads = {e["epoch"]: e["norms"] for e in events if e["type"] == "gradients"}
    assert result.outcome == "completed" and grads[2]["1.U"] > 0
    engine.train({**spec, "stream": {"max_fps": 1000, "time_gradients": False}}, on_event=(seen := []).append)
    assert not [e for e in seen if e["type"] == "time_gradients"]


def test_the_time_gradients_probe_does_not_change_the_gradients_it_leaves_behind():
    from engine.probes import Probes
    spec = engine.normalize({"dataset": {"name": "adding", "seq_len": 6, "n_samples": 40},
                             "model": {"layers": [{"type": "lstm", "units": 3}, {"type": "dense", "units": None}],
                                       "loss": "mean_squared_error"}})
    ds = load_dataset(spec["dataset"])
    model = engine.build_model({**spec["model"]}, seed=0)
    model.loss_and_backward(ds.x_train[5:15], ds.y_train[5:15])
    before = {k: g.copy() for k, g in model.grads.items()}
    frame = Probes(model, ds, spec["stream"]).time_gradients(3)
    assert frame["type"] == "time_gradients" and frame["epoch"] == 3 and len(frame["layers"][0]["norms"]) == 6
    for key, g in model.grads.items():
        np.testing.assert_array_equal(g, before[key])


def test_memory_estimate_counts_the_recurrent_caches_per_step():
    from engine.memory import estimate_job_memory
    def act(seq_len):
        spec = engine.normalize({"dataset": {"name": "memory", "seq_len": seq_len}, "model": _model(
            {"type": "dense", "units": None, "activation": "softmax"}, "categorical_crossentropy")})
        return estimate_job_memory(spec, prepare_dataset(spec["dataset"])[1]).parts["activations"]
    assert 1.8 < act(100) / act(50) < 2.2        # caches grow with the number of steps
