"""When runs stop and what their first frames show: early stopping, "not learning", open-ended runs,
the epoch-0 gradient, and continuing a run from a saved model."""
import json
from pathlib import Path

import numpy as np
import pytest

import engine
from engine.spec import Limits
from engine.stopping import NOT_LEARNING_EPOCHS, EarlyStopping

SPIRAL = json.loads((Path(__file__).resolve().parents[2] / "examples" / "spiral.json").read_text())


def spiral(lr=0.01, epochs=20, **training):
    spec = json.loads(json.dumps(SPIRAL))
    spec["training"].update(optimizer={"name": "adam", "learning_rate": lr}, epochs=epochs, **training)
    spec["stream"] = {"boundary": False, "histograms": False}
    return spec


def test_early_stopping_stops_after_exactly_patience_epochs_without_improvement():
    stop = EarlyStopping("val_loss", patience=3, min_delta=0.0, restore_best_weights=False)
    losses = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9]                       # best at epoch 2, then 3 worse epochs
    stopped_at = next(e for e, v in enumerate(losses, 1) if stop.update({"epoch": e, "val_loss": v}, None))
    assert stopped_at == 5 and stop.best_epoch == 2


def test_early_stopping_in_training_runs_best_epoch_plus_patience_epochs():
    spec = spiral(lr=0.5, epochs=200, early_stopping={"monitor": "test_loss", "patience": 4})
    result = engine.train(spec)
    assert result.outcome == "early_stopped"
    assert len(result.history) == result.best_epoch + 4


def test_first_gradient_frame_is_the_gradient_at_the_starting_weights():
    spec = spiral(epochs=1)
    spec["stream"] = {"boundary": False, "histograms": True}
    spec["training"]["batch_size"] = 32
    events = []
    result = engine.train(spec, on_event=events.append)
    first = next(e for e in events if e["type"] == "gradients")
    assert first["epoch"] == 0
    assert all(v > 0 for k, v in first["norms"].items() if k.endswith(".W"))
    # recompute by hand: the same starting weights (same seed) on the first 32 training points
    model = engine.build_model({**result.model.spec, "layers": [
        {k: v for k, v in layer.items() if k != "weights"} for layer in result.model.spec["layers"]]},
        rng=np.random.default_rng(spec["training"]["seed"]))
    ds = engine.load_dataset(engine.normalize(spec)["dataset"])
    model.loss_and_backward(ds.x_train[:32], ds.y_train[:32])
    l2 = spec["training"]["regularization"]["l2"]
    expected = float(np.linalg.norm(model.grads["0.W"].astype(np.float64) + 2 * l2 * model.params["0.W"]))
    assert first["norms"]["0.W"] == pytest.approx(expected, rel=1e-4)


def test_starting_gradient_does_not_change_the_run():
    # the epoch-0 probe must not move the random stream or batchnorm statistics
    with_frames, without = spiral(epochs=3), spiral(epochs=3)
    with_frames["stream"] = {"boundary": False, "histograms": True}
    a, b = engine.train(with_frames), engine.train(without)
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]


def test_a_run_that_does_not_learn_ends_with_advice_like_divergence():
    result = engine.train(spiral(lr=10, epochs=300))
    assert result.outcome == "diverged"
    assert len(result.history) == NOT_LEARNING_EPOCHS
    assert "not learning" in result.message and "try 1" in result.message


def test_a_run_that_learns_is_not_called_stalled():
    result = engine.train(spiral(lr=0.03, epochs=NOT_LEARNING_EPOCHS + 10))
    assert result.outcome == "completed"


def test_open_ended_run_stops_when_cancelled():
    calls = {"n": 0}

    def should_stop():
        calls["n"] += 1
        return calls["n"] > 8 * 5                                  # 8 batches per epoch: stops in epoch 6
    result = engine.train(spiral(epochs=None), should_stop=should_stop)
    assert result.outcome == "stopped" and len(result.history) == 5


def test_open_ended_run_is_capped_by_the_epoch_limit():
    result = engine.train(spiral(epochs=None), limits=Limits(max_epochs=7))
    assert result.outcome == "completed" and len(result.history) == 7
    assert engine.normalize(spiral(epochs=None))["training"]["epochs"] is None


def test_continued_run_starts_where_the_first_one_ended(tmp_path):
    first = engine.train(spiral(lr=0.03, epochs=60))
    path = tmp_path / "first.npz"
    first.model.save(path)
    saved = engine.load_model(path)
    assert saved.optimizer_state["name"] == "adam" and saved.optimizer_state["iterations"] == 60 * 8
    continued = engine.train(spiral(lr=0.03, epochs=3), init_from=path)
    fresh = engine.train(spiral(lr=0.03, epochs=3))
    last, cont = first.history[-1]["train_loss"], continued.history[0]["train_loss"]
    assert abs(cont - last) < 0.25 * last
    assert cont < 0.6 * fresh.history[0]["train_loss"]


def test_continuing_with_another_network_is_refused_naming_the_field(tmp_path):
    first = engine.train(spiral(epochs=1))
    first.model.save(tmp_path / "m.npz")
    spec = spiral(epochs=1)
    spec["model"]["layers"][0]["units"] = 8
    with pytest.raises(engine.SpecError) as e:
        engine.train(spec, init_from=tmp_path / "m.npz")
    assert [p.path for p in e.value.problems] == ["model.layers.0.units"]


def test_a_cancel_that_lands_while_frames_are_drawn_stops_the_run_instead_of_failing_it(monkeypatch):
    # Control.interrupt raises between layers of any forward pass, the probes' boundary pass included
    from engine.control import Interrupted
    from engine.probes import Probes
    cancelled, calls, original = [], {"n": 0}, Probes.emit

    def emit(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:                        # the frames after epoch 2
            cancelled.append({"cmd": "cancel"})
            raise Interrupted
        return original(self, *args, **kwargs)
    monkeypatch.setattr(Probes, "emit", emit)
    result = engine.train(spiral(epochs=None), commands=lambda timeout: [cancelled.pop()] if cancelled else [])
    assert result.outcome == "stopped" and len(result.history) == 2
