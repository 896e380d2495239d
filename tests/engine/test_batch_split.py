"""The batch split (engine/parallel.py, engine/layers/rows.py): a heavy layer's batch computed as row blocks
on several threads gives the one-thread results to float rounding, exact gradients, and the same bits on
every run with the same thread count; batchnorm still sees the whole batch."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from engine import parallel
from engine.flat import FlatParams
from engine.gradcheck import check_layer_gradients
from engine.layers import LAYERS
from engine.model import build_model
from engine.optimizers import make_optimizer

SPLIT_CASES = [
    ("conv2d", {"filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu"}, (2, 6, 6)),
    ("conv2d", {"filters": 3, "kernel_size": 3, "strides": 2, "activation": "tanh"}, (2, 7, 7)),
    ("conv2d", {"filters": 2, "kernel_size": [2, 3], "padding": "valid"}, (2, 5, 6)),
    ("dense", {"units": 5, "activation": "sigmoid"}, (7,)),
    ("dense", {"units": 4, "use_bias": False}, (6,)),
    ("maxpool2d", {"pool_size": 2}, (2, 6, 6)),
    ("maxpool2d", {"pool_size": 2}, (2, 7, 5)),
    ("activation", {"activation": "softmax"}, (6,)),
    ("activation", {"activation": "relu"}, (2, 4, 4)),
]


@pytest.fixture
def split_threads(monkeypatch):
    """Set the split's thread count for one test (every batch size splits), back to 1 afterwards."""
    from engine.layers import dense
    monkeypatch.setattr(parallel, "MIN_SPLIT_VALUES", 0)
    monkeypatch.setattr(dense, "SPLIT_MIN_MACS", 0)      # dense's own floor (a product under ~0.3 ms is not split)
    yield parallel.set_threads
    parallel.set_threads(1)


def make_layer(name, config, shape, dtype=np.float64):
    layer = LAYERS.build({"type": name, **config}, "layer")
    layer.build(shape, np.random.default_rng(1), dtype)
    return layer


def forward_backward(name, config, shape, x, g):
    layer = make_layer(name, config, shape)
    out = layer.forward(x, training=True).copy()
    dx = layer.backward(g)
    return out, np.array(dx), {k: v.copy() for k, v in layer.grads.items()}


@pytest.mark.parametrize("name, config, shape", SPLIT_CASES)
@pytest.mark.parametrize("threads", [2, 3])
def test_split_batch_matches_one_thread_and_really_splits(name, config, shape, threads, split_threads, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9,) + shape)
    g = rng.standard_normal(make_layer(name, config, shape).forward(x, training=True).shape)
    out1, dx1, grads1 = forward_backward(name, config, shape, x, g)
    split_threads(threads)
    calls = []
    real_run = parallel.SPLIT.run
    monkeypatch.setattr(parallel.SPLIT, "run", lambda fn, blocks: (calls.append(len(blocks)), real_run(fn, blocks)))
    out, dx, grads = forward_backward(name, config, shape, x, g)
    assert calls and max(calls) == threads           # the batch was cut into one block per thread
    np.testing.assert_allclose(out, out1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx1, rtol=1e-12, atol=1e-12)
    assert grads.keys() == grads1.keys()
    for key in grads:
        np.testing.assert_allclose(grads[key], grads1[key], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, config, shape", SPLIT_CASES)
def test_split_layer_gradients_match_central_differences(name, config, shape, split_threads):
    split_threads(2)
    rng = np.random.default_rng(3)
    layer = make_layer(name, config, shape)
    errors = check_layer_gradients(layer, rng.standard_normal((4,) + shape), seed=2)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("name, config, shape", SPLIT_CASES)
def test_split_backward_does_not_mutate_upstream_gradient(name, config, shape, split_threads):
    split_threads(2)
    rng = np.random.default_rng(4)
    layer = make_layer(name, config, shape)
    out = layer.forward(rng.standard_normal((6,) + shape), training=True)
    g = rng.standard_normal(out.shape)
    before = g.copy()
    layer.backward(g)
    np.testing.assert_array_equal(g, before)


CNN = {"dtype": "float32", "loss": "categorical_crossentropy", "input_shape": [1, 10, 10], "layers": [
    {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
    {"type": "batchnorm"},
    {"type": "maxpool2d", "pool_size": 2},
    {"type": "conv2d", "filters": 6, "kernel_size": 3, "activation": "relu"},
    {"type": "flatten"},
    {"type": "dense", "units": 12, "activation": "relu"},
    {"type": "dropout", "rate": 0.2},
    {"type": "dense", "units": 3, "activation": "softmax"},
]}


def train_steps(threads: int, steps: int = 4) -> dict[str, np.ndarray]:
    """A few Adam steps of a conv net with batchnorm and dropout on fixed random images: the weights after."""
    parallel.set_threads(threads)
    rng = np.random.default_rng(7)
    model = build_model(CNN, rng=np.random.default_rng(5))
    flat = model.flat = FlatParams(model)
    opt = make_optimizer({"name": "adam", "learning_rate": 0.01})
    x = rng.standard_normal((21, 1, 10, 10)).astype(np.float32)
    targets = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 21)]
    for _ in range(steps):
        model.loss_and_backward(x, targets=targets)
        flat.sync_grads()
        opt.step({"flat": flat.params}, {"flat": flat.grads})
    return {**model.get_weights(), "out": model.forward(x)}


def test_seeded_training_with_a_split_batch_is_bit_identical_run_to_run(split_threads):
    first, second = train_steps(2), train_steps(2)
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)


def test_split_training_with_batchnorm_matches_one_thread_to_float_rounding(split_threads):
    """batchnorm is not split: its statistics (and running averages) are the whole batch's, so a split run
    follows the one-thread run; a per-block mean would move the running statistics far off."""
    one, two = train_steps(1), train_steps(2)
    for key in one:
        np.testing.assert_allclose(two[key], one[key], rtol=2e-4, atol=2e-5, err_msg=key)
    assert any(not np.array_equal(one[k], two[k]) for k in one)   # really another summation order


def test_an_error_in_a_worker_block_reaches_the_caller_and_the_pool_keeps_working(split_threads):
    split_threads(2)
    seen = []

    def fn(i, rows):
        seen.append(i)
        if i == 1:
            raise ValueError("block 1 failed")
    with pytest.raises(ValueError, match="block 1 failed"):
        parallel.SPLIT.run(fn, [slice(0, 2), slice(2, 4)])
    assert sorted(seen) == [0, 1]
    done = []
    parallel.SPLIT.run(lambda i, rows: done.append((i, rows.start)), [slice(0, 2), slice(2, 4)])
    assert sorted(done) == [(0, 0), (1, 2)]


def test_jobs_that_share_a_process_can_split_at_the_same_time(split_threads):
    """Two callers at once (light jobs of one pool process): one gets the workers, the other runs its blocks
    itself; both get every block done."""
    split_threads(2)
    inside, release = threading.Event(), threading.Event()
    results = {}

    def slow(i, rows):
        inside.set()
        release.wait(5)
        results.setdefault("slow", []).append(i)

    caller = threading.Thread(target=parallel.SPLIT.run, args=(slow, [slice(0, 1), slice(1, 2)]))
    caller.start()
    assert inside.wait(5)
    parallel.SPLIT.run(lambda i, rows: results.setdefault("other", []).append(i), [slice(0, 1), slice(1, 2)])
    assert results["other"] == [0, 1]                # done in turn while the workers were busy
    release.set()
    caller.join(5)
    assert sorted(results["slow"]) == [0, 1]


def test_one_thread_or_a_small_batch_is_one_block():
    parallel.set_threads(2)
    try:
        assert parallel.SPLIT.parts(3, 10**9) == [slice(0, 3)]                    # fewer than 2 rows per block
        assert parallel.SPLIT.parts(64, parallel.MIN_SPLIT_VALUES - 1) == [slice(0, 64)]   # too little work
        assert parallel.SPLIT.parts(65, 10**9) == [slice(0, 32), slice(32, 65)]
    finally:
        parallel.set_threads(1)
    assert parallel.SPLIT.parts(64, 10**9) == [slice(0, 64)]


@pytest.mark.parametrize("name", sorted(__import__("engine.optimizers", fromlist=["OPTIMIZERS"]).OPTIMIZERS.names()))
def test_a_split_optimizer_step_gives_the_same_bits_as_one_thread(name, split_threads):
    """The flat vector's update is elementwise: ranges on two threads change no bit (and each thread has its
    own scratch buffers)."""
    def steps(threads):
        split_threads(threads)
        rng = np.random.default_rng(11)
        p = rng.standard_normal(1001).astype(np.float32)
        opt = make_optimizer({"name": name, "learning_rate": 0.01})
        for _ in range(3):
            opt.step({"flat": p}, {"flat": rng.standard_normal(1001).astype(np.float32)})
        return p
    one, two = steps(1), steps(2)
    np.testing.assert_array_equal(two, one)
    assert not np.array_equal(one, np.random.default_rng(11).standard_normal(1001).astype(np.float32))


def test_a_dense_product_too_small_to_pay_for_a_split_is_not_split():
    """Dense.row_blocks: the digit model's dense 128 (64 x 1568 x 128 multiply-adds) ran slower split; the MLP's
    first layer at batch 128 (128 x 784 x 256) is split."""
    try:
        parallel.set_threads(2)
        assert len(make_layer("dense", {"units": 128}, (1568,), np.float32).row_blocks(64)) == 1
        assert len(make_layer("dense", {"units": 256}, (784,), np.float32).row_blocks(128)) == 2
    finally:
        parallel.set_threads(1)
