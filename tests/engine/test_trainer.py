"""The training loop: learning, determinism, batching, divergence, early stopping, control, events."""
import numpy as np
import pytest

import engine


def job(layers, loss="binary_crossentropy", dataset=None, **training):
    t = {"optimizer": {"name": "adam", "learning_rate": 0.05}, "batch_size": None, "epochs": 300, "seed": 0}
    t.update(training)
    return {"dataset": dataset or {"name": "xor_gate"}, "model": {"layers": layers, "loss": loss}, "training": t,
            "stream": {"boundary": False, "histograms": False}}


HIDDEN = [{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "dense", "units": 1, "activation": "sigmoid"}]
PERCEPTRON = [{"type": "dense", "units": 1, "activation": "sigmoid"}]


def test_two_layer_net_learns_xor_perfectly():
    result = engine.train(job(HIDDEN))
    assert result.outcome == "completed"
    assert result.history[-1]["train_accuracy"] == 1.0


def test_single_perceptron_cannot_learn_xor():
    result = engine.train(job(PERCEPTRON, epochs=1000))
    assert max(r["train_accuracy"] for r in result.history) <= 0.75


@pytest.mark.parametrize("gate", ["and", "or", "nand"])
def test_single_perceptron_learns_linearly_separable_gates(gate):
    result = engine.train(job(PERCEPTRON, dataset={"name": gate}, epochs=500))
    assert result.history[-1]["train_accuracy"] == 1.0


def test_same_seed_gives_bit_identical_training():
    spec = job(HIDDEN + [], dataset={"name": "spiral", "n_samples": 200, "seed": 1}, epochs=5, batch_size=16)
    spec["model"]["layers"] = [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "dropout", "rate": 0.2},
                               {"type": "dense", "units": 2, "activation": "softmax"}]
    spec["model"]["loss"] = "categorical_crossentropy"
    a, b = engine.train(spec), engine.train(spec)
    strip = lambda h: [{k: v for k, v in r.items() if k not in ("seconds", "examples_per_second")} for r in h]
    assert strip(a.history) == strip(b.history)
    wa, wb = a.model.get_weights(), b.model.get_weights()
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize("batch_size,steps", [(None, 1), (8, 3), (1, 20)])
def test_full_mini_and_stochastic_batches_take_the_right_number_of_steps(batch_size, steps):
    spec = job(HIDDEN, dataset={"name": "and", "repeat": 5}, epochs=2, batch_size=batch_size)
    trainer = engine.trainer.Trainer(spec)
    trainer.run()
    assert trainer.steps_per_epoch == steps and trainer.optimizer.iterations == 2 * steps


def test_huge_learning_rate_diverges_with_a_message_not_an_exception():
    spec = job([{"type": "dense", "units": 1}], loss="mean_squared_error",
               dataset={"name": "plane", "n_samples": 100}, epochs=200,
               optimizer={"name": "sgd", "learning_rate": 9.0})
    result = engine.train(spec)
    assert result.outcome == "diverged"
    assert "learning rate" in result.message and "too high" in result.message


def test_early_stopping_stops_and_restores_best_weights():
    spec = job(HIDDEN, dataset={"name": "circle", "n_samples": 200, "noise": 0.5}, epochs=500, batch_size=32,
               early_stopping={"monitor": "test_loss", "patience": 3}, optimizer={"name": "adam", "learning_rate": 0.5})
    result = engine.train(spec)
    assert result.outcome == "early_stopped"
    assert len(result.history) < 500
    best = min(result.history, key=lambda r: r["test_loss"])
    assert result.best_epoch == best["epoch"]
    ds = engine.load_dataset(spec["dataset"])
    out = result.model.predict(ds.x_test)
    restored_loss = result.model.loss.value(out, result.model.loss.targets(ds.y_test, out))
    assert restored_loss == pytest.approx(best["test_loss"], rel=1e-5)


def test_should_stop_lands_within_one_batch():
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 3
    result = engine.train(job(HIDDEN, dataset={"name": "and", "repeat": 10}, batch_size=1, epochs=100), should_stop=should_stop)
    assert result.outcome == "stopped"
    assert result.history == []  # stopped inside epoch 1 after 3 batches


def test_commands_pause_step_set_and_cancel():
    events = []
    script = [[{"cmd": "pause"}], [{"cmd": "step"}], [], [{"cmd": "set", "learning_rate": 0.001}, {"cmd": "resume"}]]

    def commands(timeout):
        if script:
            return script.pop(0)
        if len([e for e in events if e["type"] == "epoch"]) >= 4:
            return [{"cmd": "cancel"}]
        return []
    result = engine.train(job(HIDDEN, epochs=50), on_event=events.append, commands=commands)
    kinds = [(e["type"], e.get("status")) for e in events if e["type"] in ("status", "epoch", "learning_rate")]
    # paused before epoch 1, one stepped epoch, paused again, then resumed
    assert kinds[:5] == [("status", "paused"), ("status", "running"), ("epoch", None), ("status", "paused"),
                         ("learning_rate", None)]
    assert result.outcome == "stopped"
    assert result.history[-1]["learning_rate"] == pytest.approx(0.001)


def test_step_activation_trains_without_crash_and_shows_zero_gradient():
    layers = [{"type": "dense", "units": 4, "activation": "step"}, {"type": "dense", "units": 1, "activation": "sigmoid"}]
    events = []
    spec = job(layers, epochs=3)
    spec["stream"] = {"boundary": False, "histograms": True, "max_fps": 1000}
    result = engine.train(spec, on_event=events.append)
    norms = [e["norms"] for e in events if e["type"] == "gradients"][-1]
    assert result.outcome == "completed"
    assert norms["0.W"] == 0.0 and norms["1.W"] > 0


def test_deep_sigmoid_stack_shows_vanishing_gradients():
    layers = [{"type": "dense", "units": 16, "activation": "sigmoid"} for _ in range(8)]
    layers.append({"type": "dense", "units": 2, "activation": "softmax"})
    spec = job(layers, loss="categorical_crossentropy", dataset={"name": "spiral", "n_samples": 200}, epochs=1)
    spec["stream"] = {"boundary": False, "histograms": True}
    events = []
    engine.train(spec, on_event=events.append)
    norms = [e["norms"] for e in events if e["type"] == "gradients"][-1]
    assert norms["0.W"] < norms["7.W"] / 100


def test_l2_shrinks_weights_but_not_biases():
    base = job(HIDDEN, dataset={"name": "circle", "n_samples": 200}, epochs=50, batch_size=32)
    reg = job(HIDDEN, dataset={"name": "circle", "n_samples": 200}, epochs=50, batch_size=32,
              regularization={"l2": 0.05})
    w0, w1 = engine.train(base).model.params, engine.train(reg).model.params
    assert np.linalg.norm(w1["0.W"]) < 0.7 * np.linalg.norm(w0["0.W"])


def test_max_norm_caps_each_units_incoming_weights():
    spec = job(HIDDEN, dataset={"name": "circle", "n_samples": 200}, epochs=20, batch_size=16,
               regularization={"max_norm": 0.5}, optimizer={"name": "sgd", "learning_rate": 1.0})
    w = engine.train(spec).model.params["0.W"]
    assert np.all(np.linalg.norm(w, axis=0) <= 0.5 + 1e-5)


def test_epoch_records_have_the_documented_keys():
    spec = job(HIDDEN, dataset={"name": "circle", "n_samples": 100}, epochs=2, validation_split=0.2)
    rec = engine.train(spec).history[-1]
    assert set(rec) == {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "test_loss",
                        "test_accuracy", "learning_rate", "seconds", "examples_per_second"}


def test_regression_reports_r2_not_accuracy():
    spec = job([{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 1}],
               loss="mean_squared_error", dataset={"name": "plane", "n_samples": 200}, epochs=100, batch_size=32,
               optimizer={"name": "adam", "learning_rate": 0.01})
    rec = engine.train(spec).history[-1]
    assert "train_accuracy" not in rec and rec["test_r2"] > 0.9


def test_stream_frames_describe_boundary_histograms_and_gradients():
    spec = job(HIDDEN, dataset={"name": "xor", "n_samples": 200}, epochs=3, batch_size=50)
    spec["stream"] = {"resolution": 32, "neuron_resolution": 8, "max_fps": 1000}
    events = []
    engine.train(spec, on_event=events.append)
    boundary = [e for e in events if e["type"] == "boundary"]
    assert boundary[0]["epoch"] == 0 and boundary[-1]["epoch"] == 3  # first and last always sent
    import base64
    probs = np.frombuffer(base64.b64decode(boundary[-1]["probabilities"]), np.uint8)
    assert probs.size == 32 * 32 * 2
    neurons = boundary[-1]["neurons"][0]
    assert neurons["units"] == 4 and len(base64.b64decode(neurons["data"])) == 4 * 8 * 8
    hist = [e for e in events if e["type"] == "histograms"]
    first, last = hist[0]["layers"][0], hist[-1]["layers"][0]
    assert first["edges"] == last["edges"] and sum(last["counts"]) == 2 * 4


def test_frames_are_throttled_but_epochs_are_not():
    spec = job(HIDDEN, epochs=200)
    spec["stream"] = {"max_fps": 0.1}
    events = []
    engine.train(spec, on_event=events.append)
    assert len([e for e in events if e["type"] == "epoch"]) == 200
    assert [e["epoch"] for e in events if e["type"] == "boundary"] == [0, 200]


def test_rosenblatt_perceptron_rule_learns_or_with_sgd_one_example_at_a_time():
    layers = [{"type": "dense", "units": 1, "kernel_initializer": "zeros"}]
    spec = job(layers, loss="perceptron", dataset={"name": "or"}, batch_size=1, epochs=20,
               optimizer={"name": "sgd", "learning_rate": 1.0})
    result = engine.train(spec)
    assert result.history[-1]["train_accuracy"] == 1.0


def test_perceptron_update_is_lr_times_label_times_input():
    from engine.losses import make_loss
    loss = make_loss("perceptron")
    out, t = np.array([[-0.5]]), loss.targets(np.array([1]), np.array([[0.0]]))
    # misclassified positive example: dL/ds = -1, so sgd moves W by +lr * x
    assert loss.grad(out, t).tolist() == [[-1.0]]
    assert loss.grad(np.array([[0.5]]), t).tolist() == [[0.0]]


def test_max_epochs_per_second_paces_training_for_watching():
    import time
    spec = job(HIDDEN, epochs=10)
    spec["stream"] = {"boundary": False, "histograms": False, "max_epochs_per_second": 50}
    start = time.perf_counter()
    engine.train(spec)
    assert time.perf_counter() - start >= 10 / 50 * 0.9


def test_a_tiny_network_checks_for_a_cancel_between_batches_only_a_conv_net_between_layers(mnist_dir):
    """Model.between_layers (a command read per layer) is set only when one batch is long enough to need it."""
    import engine as _engine
    seen = {}
    tiny = {"dataset": {"name": "xor"}, "model": {"layers": [{"type": "dense", "units": 4, "activation": "tanh"},
            {"type": "dense", "units": 1, "activation": "sigmoid"}], "loss": "binary_crossentropy"},
            "training": {"epochs": 1, "batch_size": 10}}
    models = {}
    _engine.train(tiny, on_model=lambda m: models.setdefault("tiny", m),
                  on_event=lambda e: seen.setdefault("tiny", models["tiny"].between_layers))
    conv = {"dataset": {"name": "mnist", "path": str(mnist_dir), "limit": 256, "download": False},
            "model": {"layers": [{"type": "conv2d", "filters": 8, "padding": "same", "activation": "relu"}] * 3
                      + [{"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"}, "training": {"epochs": 1, "batch_size": 256}}
    _engine.train(conv, on_model=lambda m: models.setdefault("conv", m),
                  on_event=lambda e: seen.setdefault("conv", models["conv"].between_layers))
    assert seen["tiny"] is None and seen["conv"] is not None
