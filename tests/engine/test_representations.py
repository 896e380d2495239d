"""Representations (issue 15): autoencoders (target input, denoising), frozen layers, the code layer,
init_from of chosen layers, class subsets of the image sets, and the k-NN baseline."""
import copy

import numpy as np
import pytest

import engine
from engine.datasets import load_dataset
from engine.errors import SpecError
from engine.knn import KNNModel
from engine.layer_flags import code_layer
from engine.resume import start_from
from engine.spec import normalize

AE_2D = {"dataset": {"name": "circle", "n_samples": 200, "target": "input"},
         "model": {"layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                              {"type": "dense", "units": 1, "activation": "tanh"},
                              {"type": "dense", "units": 8, "activation": "tanh"},
                              {"type": "dense", "units": 2}], "loss": "mean_squared_error"},
         "training": {"optimizer": {"name": "adam", "learning_rate": 0.01}, "epochs": 40, "batch_size": 20}}
MLP = {"dataset": {"name": "spiral", "n_samples": 120},
       "model": {"layers": [{"type": "dense", "units": 6, "activation": "tanh"},
                            {"type": "dense", "units": 6, "activation": "tanh"},
                            {"type": "dense", "units": 2, "activation": "softmax"}],
                 "loss": "categorical_crossentropy"},
       "training": {"optimizer": {"name": "adam", "learning_rate": 0.02}, "epochs": 5, "batch_size": 16}}


def test_target_input_trains_and_the_reconstruction_error_decreases():
    result = engine.train(AE_2D)
    first, last = result.history[0], result.history[-1]
    assert "test_accuracy" not in last and "test_r2" not in last
    assert last["test_reconstruction_error"] < 0.7 * first["test_reconstruction_error"]
    assert result.model.task == "reconstruction"


def test_a_reconstruction_targets_the_clean_inputs_and_noise_goes_on_the_inputs_only():
    clean = load_dataset({"name": "circle", "n_samples": 100})
    ds = load_dataset({"name": "circle", "n_samples": 100, "target": "input", "input_noise": 0.5})
    assert ds.task == "reconstruction" and ds.n_targets == 2
    np.testing.assert_array_equal(ds.y_train, clean.x_train)
    assert (ds.x_train - clean.x_train).std() == pytest.approx(0.5, rel=0.25)
    np.testing.assert_array_equal(ds.labels["train"], clean.y_train)      # kept to colour the codes


def test_reconstruction_needs_one_output_per_input_value_and_a_loss_that_compares_values():
    spec = copy.deepcopy(AE_2D)
    spec["model"]["layers"][-1]["units"] = 3
    problems = {p.path: p.message for p in engine.validate(spec)}
    assert "model.layers.3.units" in problems and "2 unit(s)" in problems["model.layers.3.units"]
    spec = copy.deepcopy(AE_2D)
    spec["model"]["loss"] = "hinge"
    assert [p.path for p in engine.validate(spec)] == ["model.loss"]
    spec = copy.deepcopy(MLP)
    spec["dataset"]["input_noise"] = 0.1   # noise without target input: refused, not ignored
    assert [p.path for p in engine.validate(spec)] == ["dataset.input_noise"]


def test_an_mnist_autoencoder_with_binary_crossentropy_on_pixels_learns(mnist_dir):
    spec = {"dataset": {"name": "mnist", "path": str(mnist_dir), "limit": 300, "flatten": True, "target": "input"},
            "model": {"layers": [{"type": "dense", "units": 16, "activation": "relu"},
                                 {"type": "dense", "units": 784, "activation": "sigmoid"}],
                      "loss": "binary_crossentropy"},
            "training": {"optimizer": {"name": "adam", "learning_rate": 0.003}, "epochs": 3, "batch_size": 50}}
    h = engine.train(spec).history
    assert h[-1]["test_reconstruction_error"] < h[0]["test_reconstruction_error"]


def test_the_code_layer_is_the_narrowest_unless_one_is_marked():
    model = engine.build_model(AE_2D["model"], input_shape=[2])
    assert code_layer(model) == 1
    marked = copy.deepcopy(AE_2D["model"])
    marked["layers"][2]["code"] = True
    assert code_layer(engine.build_model(marked, input_shape=[2])) == 2
    marked["layers"][0]["code"] = True
    with pytest.raises(engine.SpecError, match="only one layer"):
        engine.build_model(marked, input_shape=[2])


@pytest.mark.parametrize("optimizer", [{"name": "adam", "learning_rate": 0.05},
                                       {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}])
def test_frozen_layers_are_bit_identical_after_training_with_weight_decay(optimizer):
    spec = copy.deepcopy(MLP)
    spec["model"]["layers"][0]["trainable"] = False
    spec["training"].update(optimizer=optimizer, regularization={"l2": 0.01, "max_norm": 0.5})
    start = engine.build_model(spec["model"], rng=np.random.default_rng(0), input_shape=[2]).get_weights()
    after = engine.train(spec).model.get_weights()
    assert np.array_equal(after["0.W"], start["0.W"]) and np.array_equal(after["0.b"], start["0.b"])
    assert not np.array_equal(after["1.W"], start["1.W"])       # the rest still trains



@pytest.mark.parametrize("frozen", [True, False], ids=["frozen", "trainable"])
def test_a_frozen_batchnorm_keeps_its_running_statistics_bit_identical(frozen):
    # the running mean / variance are state, not parameters: a frozen batchnorm runs in inference mode while
    # the network trains (Keras), so they never move; a trainable one moves them (the test can fail)
    spec = copy.deepcopy(MLP)
    spec["model"]["layers"].insert(1, {"type": "batchnorm", **({"trainable": False} if frozen else {})})
    trainer = engine.trainer.Trainer(spec)
    bn = trainer.model.layers[1]
    bn.state["running_mean"][...] = 0.25          # not the defaults: a reset to 0 / 1 would not hide
    bn.state["running_var"][...] = 2.0
    before = {k: v.copy() for k, v in bn.state.items()}
    trainer.run()
    same = [np.array_equal(bn.state[k], before[k]) for k in ("running_mean", "running_var")]
    assert same == ([True, True] if frozen else [False, False])
    assert np.array_equal(bn.params["gamma"], np.ones_like(bn.params["gamma"])) == frozen

def test_init_from_copies_the_named_layers_exactly(tmp_path):
    source = engine.train(MLP).model
    source.save(tmp_path / "a.npz")
    spec = copy.deepcopy(MLP)
    spec["training"]["seed"] = 7                                 # different fresh weights elsewhere
    trainer = engine.trainer.Trainer(spec)
    fresh = trainer.model.get_weights()
    start_from({"path": tmp_path / "a.npz", "layers": [0, 1]}, trainer.model, trainer.optimizer)
    got, want = trainer.model.get_weights(), source.get_weights()
    for key in ("0.W", "0.b", "1.W", "1.b"):
        assert np.array_equal(got[key], want[key])
    assert np.array_equal(got["2.W"], fresh["2.W"])


def test_init_from_then_frozen_keeps_the_copied_layer_exactly(tmp_path):
    source = engine.train(MLP).model
    source.save(tmp_path / "a.npz")
    spec = copy.deepcopy(MLP)
    spec["model"]["layers"][0]["trainable"] = False
    result = engine.train(spec, init_from={"path": tmp_path / "a.npz", "layers": [0]})
    assert np.array_equal(result.model.params["0.W"], source.params["0.W"])


def test_init_from_refuses_a_layer_whose_shapes_differ_naming_it(tmp_path):
    engine.train(MLP).model.save(tmp_path / "a.npz")
    spec = copy.deepcopy(MLP)
    spec["model"]["layers"][1]["units"] = 5
    trainer = engine.trainer.Trainer(spec)
    with pytest.raises(engine.SpecError) as e:
        start_from({"path": tmp_path / "a.npz", "layers": [0, 1, 9]}, trainer.model, trainer.optimizer)
    problems = {p.path: p.message for p in e.value.problems}
    assert set(problems) == {"init_from.layers.1", "init_from.layers.2"}
    assert "layer 1 (dense): W has shape [6, 6] in the saved model but [6, 5]" in problems["init_from.layers.1"]
    assert "layer 9 does not exist" in problems["init_from.layers.2"]


def test_classes_keeps_a_subset_of_the_images_relabelled_in_order(mnist_dir):
    full = load_dataset({"name": "mnist", "path": str(mnist_dir), "limit": 600})
    ds = load_dataset({"name": "mnist", "path": str(mnist_dir), "classes": [7, 2], "limit": 50})
    assert ds.n_classes == 2 and ds.class_names == ["7", "2"] and len(ds.x_train) == 50
    keep = np.isin(full.y_train, [7, 2])
    np.testing.assert_array_equal(ds.x_train, full.x_train[keep][:50])
    np.testing.assert_array_equal(ds.y_train, np.where(full.y_train[keep][:50] == 7, 0, 1))
    assert set(np.unique(ds.y_test)) == {0, 1}


# a hand-made set: train points on a line, labels chosen so L1 and L2 disagree at the query
TRAIN_X = np.array([[0.0, 0.0], [3.0, 0.0], [2.0, 2.0], [10.0, 10.0], [11.0, 10.0]])
TRAIN_Y = np.array([0, 0, 1, 1, 1])


@pytest.mark.parametrize("metric", ["l1", "l2"])
@pytest.mark.parametrize("k,want", [
    # (1.5, 0.5): the 3 nearest are (0,0), (3,0), (2,2) -> votes 0, 0, 1 -> 0;
    # (9, 9): (10,10), (11,10), then (2,2) -> 1, 1, 1 -> 1
    (3, [0, 1]),
    # k = 5 is every point: 2 votes for 0, 3 for 1 -> 1 everywhere
    (5, [1, 1]),
])
def test_knn_votes_of_k_neighbours_on_a_hand_made_set(metric, k, want):
    model = KNNModel({"type": "knn", "k": k, "metric": metric, "input_shape": [2], "dtype": "float64"})
    model.fit(TRAIN_X, TRAIN_Y, 2)
    assert model.predict_labels(np.array([[1.5, 0.5], [9.0, 9.0]])).tolist() == want


def test_knn_l1_and_l2_disagree_where_the_hand_computation_says():
    # query (2.6, 0.9): L2 to (3,0) = 0.985, to (2,2) = 1.253 -> class 0; L1: 1.3 vs 1.7 -> class 0;
    # query (1.2, 1.5): L2 to (0,0) 1.92, (2,2) 0.94 -> 1; L1 (0,0) 2.7, (2,2) 1.3 -> 1;
    # query (2.5, 1.1): L2 (3,0) 1.208, (2,2) 1.030 -> 1; L1 (3,0) 1.6, (2,2) 1.4 -> 1;
    # query (3.0, 1.2): L2 (3,0) 1.2, (2,2) 1.28 -> 0; L1 (3,0) 1.2, (2,2) 1.8 -> 0;
    # query (2.2, 0.75): L2 (3,0) 1.097, (2,2) 1.266 -> 0; L1 (3,0) 1.55, (2,2) 1.45 -> 1  (they disagree)
    queries = np.array([[2.6, 0.9], [1.2, 1.5], [2.5, 1.1], [3.0, 1.2], [2.2, 0.75]])
    labels = {}
    for metric in ("l1", "l2"):
        model = KNNModel({"type": "knn", "k": 1, "metric": metric, "input_shape": [2], "dtype": "float64"})
        labels[metric] = model.fit(TRAIN_X, TRAIN_Y, 2).predict_labels(queries).tolist()
    assert labels == {"l2": [0, 1, 1, 0, 0], "l1": [0, 1, 1, 0, 1]}


def test_knn_votes_are_the_probabilities_and_blocks_give_the_same_answer():
    rng = np.random.default_rng(0)
    x, y, q = rng.normal(size=(300, 5)), rng.integers(0, 3, 300), rng.normal(size=(40, 5))
    for metric in ("l1", "l2"):
        model = KNNModel({"type": "knn", "k": 4, "metric": metric, "input_shape": [5], "dtype": "float64"})
        model.fit(x, y, 3)
        d = (np.abs(q[:, None] - x[None]).sum(-1) if metric == "l1" else ((q[:, None] - x[None]) ** 2).sum(-1))
        nearest = np.argsort(d, axis=1)[:, :4]                             # brute force, by hand
        want = np.stack([(y[nearest] == c).mean(axis=1) for c in range(3)], axis=1)
        np.testing.assert_allclose(model.predict_proba(q), want)
        np.testing.assert_allclose(model.forward_batched(q, batch=7), want)


def test_train_fits_knn_saves_and_loads_it_without_pickle(tmp_path):
    spec = {"dataset": {"name": "spiral", "n_samples": 300}, "model": {"type": "knn", "k": 3, "metric": "l1"}}
    events = []
    result = engine.train(spec, on_event=events.append)
    record = result.history[0]
    assert record["test_accuracy"] > 0.9 and record["test_seconds_per_prediction"] > 0
    assert "boundary" in [e["type"] for e in events]
    result.model.save(tmp_path / "k.npz")
    loaded = engine.load_model(tmp_path / "k.npz")
    x = np.random.default_rng(1).uniform(-6, 6, (100, 2))
    assert np.array_equal(loaded.predict_labels(x), result.model.predict_labels(x))


def test_knn_is_refused_past_the_pair_limit_and_for_k_above_the_training_rows():
    limits = engine.Limits(max_knn_pairs=100 * 100)
    spec = {"dataset": {"name": "spiral", "n_samples": 400}, "model": {"type": "knn", "k": 3}}
    problems = engine.validate(spec, limits)
    assert [p.path for p in problems] == ["dataset"] and "max_knn_pairs" in problems[0].message
    spec = {"dataset": {"name": "spiral", "n_samples": 20}, "model": {"type": "knn", "k": 50}}
    assert [p.path for p in engine.validate(spec)] == ["model.k"]
    spec = {"dataset": {"name": "plane"}, "model": {"type": "knn"}}
    assert [p.path for p in engine.validate(spec)] == ["model.type"]


def test_the_hidden_space_of_a_2_unit_layer_is_its_outputs_and_a_wider_one_its_principal_plane():
    import base64
    spec = copy.deepcopy(MLP)
    spec["model"]["layers"].insert(1, {"type": "dense", "units": 2, "activation": "tanh"})
    spec["stream"] = {"hidden_layer": 1}
    trainer = engine.trainer.Trainer(spec)
    frame = trainer.probes.hidden.frame(0)
    pts = np.frombuffer(base64.b64decode(frame["points"]), np.float32).reshape(-1, 2)
    x = trainer.model.pipeline.transform(trainer.ds.points_train[:len(pts)])
    a = trainer.model.layers[1].forward(trainer.model.layers[0].forward(x.astype(np.float32)))
    np.testing.assert_allclose(pts, a, rtol=1e-5, atol=1e-6)
    assert frame["axes"] == "units" and frame["lines"] * frame["points_per_line"] * 8 == len(
        base64.b64decode(frame["grid"]))
    spec["stream"] = {"hidden_layer": 0}                 # 6 units: the first two principal directions
    wide = engine.trainer.Trainer(spec).probes.hidden.frame(0)
    pts = np.frombuffer(base64.b64decode(wide["points"]), np.float32).reshape(-1, 2)
    assert wide["axes"] == "pca" and abs(float(np.corrcoef(pts.T)[0, 1])) < 1e-3   # uncorrelated axes
    assert pts[:, 0].var() >= pts[:, 1].var()


def test_knn_preview_is_the_fitted_models_boundary_and_follows_k():
    from engine.preview import preview_model
    spec = {"dataset": {"name": "xor", "n_samples": 200, "noise": 0.3, "seed": 1},
            "model": {"type": "knn", "k": 1, "metric": "l2"}, "stream": {"boundary": True}}
    events = []
    engine.train(spec, on_event=events.append)
    fitted = next(e for e in events if e["type"] == "boundary" and e["epoch"] == 0)
    got = preview_model(spec)
    assert got["boundary"] == fitted and got["weights"] == {}
    wide = preview_model({**spec, "model": {"type": "knn", "k": 25, "metric": "l2"}})["boundary"]
    assert wide["epoch"] == 0 and wide != got["boundary"]    # a larger k smooths the regions


def test_knn_preview_scores_are_the_jobs_and_k_1_fits_every_training_point():
    from engine.preview import preview_model
    spec = {"dataset": {"name": "spiral", "n_samples": 300, "noise": 0.2, "seed": 2},
            "model": {"type": "knn", "k": 1, "metric": "l2"}}
    events = []
    engine.train(spec, on_event=events.append)
    record = next(e for e in events if e["type"] == "epoch")
    scores = preview_model(spec)["scores"]
    assert scores["test_accuracy"] == record["test_accuracy"]          # what the job reports, without a job
    assert scores["train_accuracy"] == 1.0                             # each point its own nearest neighbour
    wide = preview_model({**spec, "model": {"type": "knn", "k": 60, "metric": "l2"}})["scores"]
    assert wide["train_accuracy"] < 1.0 and wide["test_accuracy"] < scores["test_accuracy"]
    network = {**spec, "model": {"layers": [{"type": "dense", "units": 4, "activation": "tanh"},
                                            {"type": "dense", "units": 1, "activation": "sigmoid"}],
                                 "loss": "binary_crossentropy"}}
    assert preview_model(network)["scores"] is None                    # an untrained network has none


def test_knn_preview_skips_train_scores_past_max_knn_pairs():
    from engine.preview import preview_model
    from engine.spec import Limits
    # 240 training rows x 60 test rows fit the cap the job is checked against; 240 x 240 for the train scores not
    spec = {"dataset": {"name": "spiral", "n_samples": 300, "test_ratio": 0.2}, "model": {"type": "knn", "k": 3}}
    scores = preview_model(spec, Limits(max_knn_pairs=240 * 240 - 1))["scores"]
    assert "train_accuracy" not in scores and "test_accuracy" in scores


def _conv_autoencoder(up_size=2):
    conv = lambda f, a="relu": {"type": "conv2d", "filters": f, "kernel_size": 3, "padding": "same", "activation": a}  # noqa: E731
    return [conv(4), {"type": "maxpool2d"}, {"type": "flatten"},
            {"type": "dense", "units": 2, "activation": "linear", "code": True},
            {"type": "dense", "units": 8 * 14 * 14, "activation": "relu"},
            {"type": "reshape", "target_shape": [8, 14, 14]}, {"type": "upsample2d", "size": up_size},
            conv(1, "linear"), {"type": "flatten"}, {"type": "activation", "activation": "sigmoid"}]


def test_a_conv_decoders_output_is_judged_by_the_values_it_puts_out():
    # the last dense layer (1568 units) feeds a reshape: the rule counts the network's 784 output values
    data = {"name": "mnist", "flatten": False, "target": "input", "limit": 300}
    spec = normalize({"dataset": data, "model": {"layers": _conv_autoencoder(), "loss": "binary_crossentropy"}})
    assert spec["model"]["layers"][6]["type"] == "upsample2d"
    with pytest.raises(SpecError) as e:
        normalize({"dataset": data, "model": {"layers": _conv_autoencoder(up_size=3), "loss": "binary_crossentropy"}})
    assert [(p.path, "puts out 1764" in p.message) for p in e.value.problems] == [("model.layers.9", True)]


def test_a_conv_autoencoder_decodes_a_code_into_a_28x28_picture():
    model = engine.build_model({"input_shape": [1, 28, 28], "layers": _conv_autoencoder(),
                                "loss": "binary_crossentropy"}, seed=0)
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    out = model.forward(x, training=True)
    assert out.shape == (3, 784) and np.all((out > 0) & (out < 1))
    model.backward(np.ones_like(out) / out.size)          # the gradient reaches the encoder's first conv
    assert np.abs(model.grads["0.W"]).sum() > 0 and all(np.isfinite(g).all() for g in model.grads.values())
