"""The playground's run-time commands (set's l1 / l2 / batch_size / pace, set_weight, step_batch) and
POST /api/models/preview (the trainer's epoch-0 frame without a job)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.control import check_command
from engine.errors import SpecError
from engine.preview import preview_model
from engine.regularization import MAX_PENALTY
from engine.trainer import Trainer
from server_support import tiny_spec


def scripted(*batches):
    """commands(timeout) that hands out one list of commands per call, then nothing."""
    queue = [list(b) for b in batches]
    return lambda timeout: queue.pop(0) if queue else []


@pytest.mark.parametrize("command, field", [
    ({"cmd": "set", "l2": -1}, "l2"),
    ({"cmd": "set", "l2": MAX_PENALTY * 2}, "l2"),
    ({"cmd": "set", "batch_size": 0}, "batch_size"),
    ({"cmd": "set", "max_epochs_per_second": 0.5}, "max_epochs_per_second"),
    ({"cmd": "set_weight", "key": "0.W", "index": [0, 0]}, "value"),
    ({"cmd": "set_weight", "key": "0.W", "index": [-1, 0], "value": 1.0}, "index.0"),
    ({"cmd": "set_weight", "key": 3, "index": [0], "value": 1.0}, "key"),
])
def test_new_command_options_are_refused_outside_the_engines_ranges(command, field):
    with pytest.raises(SpecError) as e:
        check_command(command)
    assert [p.path for p in e.value.problems] == [field]


def test_set_takes_any_of_its_options_and_says_which_it_needs_when_given_none():
    assert check_command({"cmd": "set", "l2": 0.01, "batch_size": 5}) == {"cmd": "set", "l2": 0.01, "batch_size": 5}
    with pytest.raises(SpecError, match="at least one of learning_rate, l1, l2, batch_size"):
        check_command({"cmd": "set"})


def test_set_changes_penalty_batch_size_and_pace_of_a_running_trainer():
    # the set arrives with the first check, before epoch 1's first batch (whether or not the trainer also
    # polls between layers): the batch size changes from the next epoch, the penalty and pace at once
    t = Trainer(tiny_spec(epochs=3), commands=scripted([{"cmd": "set", "l2": 0.5, "batch_size": 10,
                                                         "max_epochs_per_second": 1000}]))
    t.run()
    assert t.reg["l2"] == 0.5 and t.batch_size == 10 and t.steps_per_epoch == -(-t.n_train // 10)
    # epoch 1 ran its batches of 50 (a size set mid-epoch lands between epochs), epochs 2 and 3 batches of 10
    assert t.iteration == -(-t.n_train // 50) + 2 * t.steps_per_epoch
    assert t.spec["stream"]["max_epochs_per_second"] == 1000


def test_set_weight_changes_the_running_model_and_resends_the_boundary():
    events = []
    t = Trainer(tiny_spec(epochs=1), on_event=events.append,
                commands=scripted([{"cmd": "set_weight", "key": "0.W", "index": [1, 2], "value": 3.5},
                                   {"cmd": "set_weight", "key": "9.W", "index": [0, 0], "value": 1.0}]))
    t.control.check()   # the first batch's poll: edits land before any step
    assert t.model.params["0.W"][1, 2] == np.float32(3.5)
    assert t.flat.params[t.flat.slices["0.W"]].reshape(2, 4)[1, 2] == np.float32(3.5)  # the optimizer's buffer
    kinds = [e["type"] for e in events]
    assert "weights_set" in kinds and kinds.index("boundary") > kinds.index("weights_set")
    assert any(e["type"] == "error" and e["recoverable"] and "9.W" in e["message"] for e in events)


def test_step_batch_pauses_after_one_optimizer_step_and_shows_the_network():
    events = []
    t = Trainer(tiny_spec(epochs=1, batch_size=10), on_event=events.append,
                commands=scripted([{"cmd": "pause"}], [{"cmd": "step_batch"}], [], [{"cmd": "cancel"}]))
    t.run()
    assert t.iteration == 1
    statuses = [e["status"] for e in events if e["type"] == "status"]
    assert statuses == ["paused", "running", "paused"]
    assert [e["epoch"] for e in events if e["type"] == "boundary"][:2] == [0, 0]   # the start, then after the step
    n_batches = -(-t.n_train // t.batch_size)
    assert n_batches > 1
    assert [e for e in events if e["type"] == "batch"] == [{"type": "batch", "epoch": 0, "batch": 1, "batches": n_batches}]


def test_two_step_batches_report_the_second_batch_of_the_epoch():
    events, queue = [], [{"cmd": "pause"}, {"cmd": "step_batch"}]

    def on_event(e):
        events.append(e)
        if e["type"] == "batch":   # the next command once this step is shown: another step, then stop
            queue.append({"cmd": "step_batch"} if e["batch"] == 1 else {"cmd": "cancel"})

    idle = []

    def commands(timeout):
        idle.append(not queue)
        if sum(idle) > 10000:   # no batch event came: stop instead of waiting paused for ever
            return [{"cmd": "cancel"}]
        return [queue.pop(0)] if queue else []

    t = Trainer(tiny_spec(epochs=1, batch_size=10), on_event=on_event, commands=commands)
    t.run()
    assert t.iteration == 2
    n = -(-t.n_train // 10)   # the training split's batches of 10
    assert n > 2
    assert [(e["epoch"], e["batch"], e["batches"]) for e in events if e["type"] == "batch"] == [(0, 1, n), (0, 2, n)]


def test_preview_is_the_trainers_epoch_zero_frame():
    spec = tiny_spec()
    events = []
    Trainer(spec, on_event=events.append).run()
    first = next(e for e in events if e["type"] == "boundary")
    got = preview_model(spec)
    assert got["boundary"] == first
    assert np.asarray(got["weights"]["0.W"]).shape == (2, 4)
    assert [f["feature"] for f in got["features"]][:2] == ["x1", "x2"]


def test_preview_endpoint_answers_the_frame_and_refuses_a_bad_spec(client):
    spec = tiny_spec()
    res = client.post("/api/models/preview", json=spec)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["boundary"]["epoch"] == 0 and body["boundary"]["neurons"][0]["units"] == 4
    assert body["boundary"] == preview_model(spec)["boundary"]
    bad = client.post("/api/models/preview", json={**spec, "training": {"optimizer": {"name": "sgd", "learning_rate": -1}}})
    assert bad.status_code == 422 and "learning_rate" in bad.text
    assert client.get("/api/jobs").json()["total"] == 0   # nothing queued


def test_preview_endpoint_draws_a_knn_models_boundary_and_refuses_a_bad_k(client):
    spec = {"dataset": {"name": "circle", "n_samples": 100}, "model": {"type": "knn", "k": 3, "metric": "l1"}}
    res = client.post("/api/models/preview", json=spec)
    assert res.status_code == 200, res.text
    assert res.json()["boundary"]["epoch"] == 0 and res.json()["weights"] == {}
    assert set(res.json()["scores"]) == {"train_accuracy", "test_accuracy"}
    bad = client.post("/api/models/preview", json={**spec, "model": {"type": "knn", "k": 1000}})
    assert bad.status_code == 422 and "model.k" in bad.text
