"""How often the probes send frames, and the histograms frame's own JSON: a 1/max_fps schedule (not a minimum
gap), histograms beside a boundary with every HISTOGRAMS_EVERY-th set, and Frame.json_text equal to json.dumps."""
import copy
import json
import pickle

import pytest

import engine
from engine import probes
from engine.probes import HISTOGRAMS_EVERY, Frame
from engine.trainer import Trainer


def spec(boundary=True, max_fps=12, epochs=3):
    return {"dataset": {"name": "spiral", "n_samples": 200, "seed": 3},
            "model": {"layers": [{"type": "dense", "units": 6, "activation": "tanh"},
                                 {"type": "dense", "units": 2, "activation": "softmax"}],
                      "loss": "categorical_crossentropy"},
            "training": {"epochs": epochs, "batch_size": 20, "optimizer": {"name": "adam", "learning_rate": 0.03}},
            "stream": {"boundary": boundary, "histograms": True, "resolution": 16, "neuron_resolution": 8,
                       "bins": 10, "max_fps": max_fps}}


class Clock:
    """perf_counter for the probes: the fake run moves `now` on by an epoch's time."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def sets_over(seconds, epoch_seconds, boundary=True, max_fps=12, monkeypatch=None):
    """(frame types per epoch) for a run whose epochs each take `epoch_seconds` on a fake clock."""
    trainer = Trainer(spec(boundary, max_fps))
    clock = Clock()
    monkeypatch.setattr(probes.time, "perf_counter", clock)
    sent = []
    trainer.probes.emit(lambda f: sent.append((0, f["type"])), 0, force=True)
    epoch = 0
    while clock.now < 1000.0 + seconds:
        clock.now += epoch_seconds
        epoch += 1
        trainer.probes.emit(lambda f, e=epoch: sent.append((e, f["type"])), epoch)
    return sent


@pytest.mark.parametrize("epoch_ms", [5, 20, 33, 50])
def test_frames_keep_a_schedule_of_max_fps_sets_a_second(monkeypatch, epoch_ms):
    sent = sets_over(10.0, epoch_ms / 1000, monkeypatch=monkeypatch)
    boundaries = [e for e, kind in sent if kind == "boundary"]
    # epoch 0's forced set, then 12 a second: never more, and not the 10 a minimum gap of 1/12 s gives at 33 ms
    assert 12 * 10 - 1 <= len(boundaries) - 1 <= 12 * 10 + 1
    assert len(set(boundaries)) == len(boundaries)


def test_epochs_slower_than_the_frame_rate_send_a_set_every_epoch(monkeypatch):
    sent = sets_over(2.0, 0.2, monkeypatch=monkeypatch)
    assert [e for e, kind in sent if kind == "boundary"] == list(range(0, 11))


def test_beside_a_boundary_histograms_and_gradients_go_with_every_second_set(monkeypatch):
    sent = sets_over(2.0, 0.05, monkeypatch=monkeypatch)
    boundary = [e for e, kind in sent if kind == "boundary"]
    hist = [e for e, kind in sent if kind == "histograms"]
    assert [e for e, kind in sent if kind == "gradients"] == hist
    assert hist[0] == 0                                          # the forced first set has everything
    assert hist == [boundary[0]] + boundary[HISTOGRAMS_EVERY::HISTOGRAMS_EVERY]


def test_without_a_boundary_every_set_has_histograms(monkeypatch):
    sent = sets_over(1.0, 0.05, boundary=False, monkeypatch=monkeypatch)
    hist = [e for e, kind in sent if kind == "histograms"]
    assert len(hist) >= 12 and hist == [e for e, kind in sent if kind == "gradients"]


def test_a_run_s_last_epoch_sends_every_frame():
    events = []
    engine.train(spec(max_fps=0.1, epochs=4), on_event=events.append)
    assert [(e["type"], e["epoch"]) for e in events if e["type"] in ("boundary", "histograms", "gradients")] == [
        ("boundary", 0), ("histograms", 0), ("gradients", 0), ("boundary", 4), ("histograms", 4), ("gradients", 4)]


def histogram_frames():
    events = []
    engine.train(spec(boundary=False, max_fps=1000), on_event=events.append)
    return [e for e in events if e["type"] == "histograms"]


def test_histograms_json_text_is_the_frame_as_json():
    frames = histogram_frames()
    assert frames[0]["epoch"] == 0 and frames[-1]["epoch"] == 3 and all(isinstance(f, Frame) for f in frames)
    for frame in frames:
        text = frame.json_text()
        assert json.loads(text) == json.loads(json.dumps(frame))
        assert frame["layers"][0]["edges"] and frame["activations"][0]["edges"]
    # the edges are the same for the whole run (fixed at epoch 0): one list, one text
    assert frames[0]["layers"][0]["edges"] is frames[-1]["layers"][0]["edges"]


def test_a_copied_or_pickled_frame_is_a_plain_dict_with_the_same_content():
    frame = histogram_frames()[-1]
    for other in (copy.deepcopy(frame), pickle.loads(pickle.dumps(frame))):
        assert type(other) is dict and other == frame
        assert other["layers"][0]["edges"] is not frame["layers"][0]["edges"]


def test_json_text_writes_rows_without_fixed_lists_as_json_dumps_does():
    frame = Frame({"type": "histograms", "epoch": 1, "layers": [{"key": "0.W", "counts": [1, 2]}, {}]}, {})
    assert json.loads(frame.json_text()) == dict(frame)
