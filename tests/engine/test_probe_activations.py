"""The playground's `histograms` frames carry `activations`: each layer's outputs on a fixed training batch,
with fixed edges, saturated / dead; the epoch-0 frame shows the starting weights before any update."""
import numpy as np

import engine
from engine.probes import ACTIVATION_ROWS

RNG = np.random.default_rng(7)
W0, B0 = RNG.normal(0, 2.0, (2, 6)), RNG.normal(0, 0.5, 6)      # large weights: tanh saturates
W1, B1 = RNG.normal(0, 1.0, (6, 4)), np.zeros(4)
W2, B2 = RNG.normal(0, 1.0, (4, 2)), np.zeros(2)


def spec(epochs=2):
    return {"dataset": {"name": "spiral", "n_samples": 200, "seed": 3},
            "model": {"input_shape": [2], "dtype": "float64", "layers": [
                {"type": "dense", "units": 6, "activation": "tanh", "weights": {"W": W0.tolist(), "b": B0.tolist()}},
                {"type": "dense", "units": 4, "activation": "relu", "weights": {"W": W1.tolist(), "b": B1.tolist()}},
                {"type": "dense", "units": 2, "activation": "softmax", "weights": {"W": W2.tolist(), "b": B2.tolist()}}],
                "loss": "categorical_crossentropy"},
            "training": {"epochs": epochs, "optimizer": {"name": "sgd", "learning_rate": 0.5}, "batch_size": 20},
            "stream": {"histograms": True, "boundary": False, "bins": 20, "max_fps": 1000}}


def frames():
    events = []
    engine.train(spec(), on_event=events.append)
    return [e for e in events if e["type"] == "histograms"]


def test_epoch_zero_activations_are_the_starting_weights_on_the_first_training_rows():
    first = frames()[0]
    assert first["epoch"] == 0
    x = engine.load_dataset(spec()["dataset"]).x_train[:ACTIVATION_ROWS]           # (64, 2), no preprocessing
    a0 = np.tanh(x @ W0 + B0)                                                     # (64, 6)
    a1 = np.maximum(a0 @ W1 + B1, 0)                                              # (64, 4)
    layer0, layer1, layer2 = first["activations"]
    assert [layer0["layer"], layer1["layer"], layer2["layer"]] == [0, 1, 2]
    assert abs(layer0["std"] - a0.std()) < 1e-12 and abs(layer0["mean"] - a0.mean()) < 1e-12
    assert layer0["edges"][0] == -1.0 and layer0["edges"][-1] == 1.0 and len(layer0["counts"]) == 20
    assert layer0["counts"] == np.histogram(a0, bins=np.array(layer0["edges"]))[0].tolist()
    assert abs(layer0["saturated"] - np.mean(np.abs(a0) > 0.99)) < 1e-12 and layer0["saturated"] > 0.1
    assert abs(layer1["dead"] - np.mean(a1 == 0)) < 1e-12 and layer1["saturated"] is None
    assert layer2["activation"] == "softmax" and layer2["edges"][0] == 0.0


def test_edges_stay_fixed_while_the_outputs_change():
    all_frames = frames()
    epochs = [f["epoch"] for f in all_frames]   # epoch 1's frame is there unless it came within 1 ms (max_fps)
    assert epochs[0] == 0 and epochs[-1] == 2 and set(epochs) <= {0, 1, 2}   # the first and the last are forced
    first, last = all_frames[0]["activations"], all_frames[-1]["activations"]
    for a, b in zip(first, last):
        assert a["edges"] == b["edges"]
        assert sum(b["counts"]) == sum(a["counts"])           # the same batch every frame
    assert first[1]["std"] != last[1]["std"]                  # trained: the relu layer's outputs moved
    assert sum(last[0]["counts"]) == ACTIVATION_ROWS * 6 and last[0]["below"] == last[0]["above"] == 0


def test_wide_inputs_use_a_smaller_batch():
    from engine.probes import ACTIVATION_VALUES, Probes
    from engine.model import build_model

    class Data:   # what Probes reads of a dataset
        task, domain, features = "classification", None, None
        x_train = np.zeros((500, 784))
    model = build_model({"input_shape": [784], "layers": [{"type": "dense", "units": 3, "activation": "softmax"}],
                         "loss": "categorical_crossentropy"})
    probes = Probes(model, Data(), {"max_fps": 10, "boundary": False, "histograms": True, "bins": 10})
    assert len(probes.batch) == ACTIVATION_VALUES // 784 == 10
    assert sum(probes.histograms(0)["activations"][0]["counts"]) == 10 * 3
