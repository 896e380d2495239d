"""The trainer's flat parameter buffer (engine/flat.py) changes speed, not results."""
import copy

import numpy as np
import pytest

import engine
from engine.optimizers import make_optimizer
from engine.regularization import add_penalty_grads, penalty
from engine.trainer import Trainer

CNN = {"dataset": {"name": "mnist", "limit": 12},
       "model": {"layers": [
           {"type": "conv2d", "filters": 2, "kernel_size": 3, "strides": 3, "activation": "relu"},
           {"type": "batchnorm"}, {"type": "maxpool2d", "pool_size": 3}, {"type": "flatten"},
           {"type": "dense", "units": 5, "activation": "tanh"},
           {"type": "dense", "units": 10, "activation": "softmax"}], "loss": "categorical_crossentropy"}}
MLP = {"dataset": {"name": "spiral", "n_samples": 60},
       "model": {"layers": [{"type": "dense", "units": 6, "activation": "tanh"},
                            {"type": "dense", "units": 2, "activation": "softmax"}],
                 "loss": "categorical_crossentropy"}}


@pytest.mark.parametrize("base", [MLP, CNN], ids=["mlp", "cnn-batchnorm"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adagrad", "rmsprop", "adadelta"])
def test_a_flat_step_equals_a_step_per_parameter(base, optimizer, request):
    spec = copy.deepcopy(base)
    if base is CNN:  # conv and batchnorm return fresh gradient arrays: the buffer must copy them in
        spec["dataset"]["path"] = str(request.getfixturevalue("mnist_dir"))
    spec["training"] = {"optimizer": {"name": optimizer, "learning_rate": 0.05}, "batch_size": 6,
                        "regularization": {"l1": 0.001, "l2": 0.01}, "epochs": 1}
    trainer = Trainer(spec)
    reference = copy.deepcopy(trainer.model)
    reference.flat = None
    opt = make_optimizer(trainer.spec["training"]["optimizer"])
    x, y = trainer.splits["train"].x[:6], trainer.splits["train"].y[:6]
    for _ in range(3):
        flat_loss, _ = trainer._step(x, y)
        loss, _ = reference.loss_and_backward(x, y)
        loss += penalty(reference.params, 0.001, 0.01)
        grads = reference.grads
        add_penalty_grads(reference.params, grads, 0.001, 0.01)
        opt.step(reference.params, grads)
        assert flat_loss == pytest.approx(loss, rel=1e-5)
    for key, p in trainer.model.params.items():
        np.testing.assert_allclose(p, reference.params[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_layers_see_views_of_the_flat_buffer():
    trainer = Trainer({**MLP, "training": {"epochs": 1}})
    flat = trainer.flat
    for key, p in trainer.model.params.items():
        assert np.shares_memory(p, flat.params), key
    assert flat.n_kernel == sum(p.size for k, p in trainer.model.params.items() if k.endswith(".W"))
    trainer.flat.params[:] = 0.5                       # writing the buffer moves the layers' weights
    assert np.all(trainer.model.layers[0].params["W"] == 0.5)


def test_saved_optimizer_state_is_per_parameter_and_continues_flat(tmp_path):
    spec = {**MLP, "training": {"optimizer": {"name": "adam", "learning_rate": 0.01}, "epochs": 3}}
    result = engine.train(spec)
    result.model.save(tmp_path / "m.npz")
    saved = engine.load_model(tmp_path / "m.npz").optimizer_state
    assert set(saved["slots"]) == set(result.model.params)
    np.testing.assert_array_equal(saved["slots"]["0.W"]["m"], result.model.optimizer_state_by_key()["0.W"]["m"])
    trainer = Trainer(spec, init_from=tmp_path / "m.npz")
    by_key = trainer.model.optimizer_state_by_key()
    for key, slots in saved["slots"].items():
        for slot, value in slots.items():
            np.testing.assert_array_equal(by_key[key][slot], value)


def test_inference_chunks_keep_a_conv_nets_memory_bounded():
    import json
    import tracemalloc
    from pathlib import Path

    from engine.model import INFERENCE_BYTES
    spec = json.loads((Path(__file__).resolve().parents[2] / "engine/assets/digit_model.spec.json").read_text())
    model = engine.build_model(spec["model"], seed=0)
    assert model.chunk_rows < 4096                            # ~260 KB of activations per 28x28 image
    x = np.random.default_rng(0).random((600, 1, 28, 28), dtype=np.float32)
    tracemalloc.start()
    out = model.forward_batched(x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2 * INFERENCE_BYTES                         # one chunk at a time (600 rows at once: ~160 MB)
    np.testing.assert_allclose(out[:50], model.forward(x[:50]), rtol=1e-5, atol=1e-6)
