"""engine.load_model on damaged files: every failure is a SpecError saying the file is damaged, and the
declared network is checked against the limits before anything is allocated."""
from __future__ import annotations

import io
import json
import tracemalloc

import numpy as np
import pytest

import engine

MLP = {"input_shape": [2], "layers": [{"type": "dense", "units": 3, "activation": "tanh"},
                                      {"type": "batchnorm"},
                                      {"type": "dense", "units": 2, "activation": "softmax"}],
       "loss": "categorical_crossentropy"}


@pytest.fixture
def good(tmp_path) -> bytes:
    path = tmp_path / "m.npz"
    engine.build_model(MLP, seed=0).save(path)
    return path.read_bytes()


def test_every_truncation_of_a_model_file_is_reported_as_damaged(tmp_path, good):
    path = tmp_path / "cut.npz"
    for cut in range(0, len(good), max(1, len(good) // 60)):
        path.write_bytes(good[:cut])
        with pytest.raises(engine.SpecError, match="model file is damaged") as info:
            engine.load_model(path)
        assert info.value.problems[0].path == "model file"


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04garbage", np.random.default_rng(1).bytes(5000)],
                         ids=["empty", "zip_header_only", "random"])
def test_bytes_that_are_no_model_are_reported_as_damaged(tmp_path, content):
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    with pytest.raises(engine.SpecError, match="model file is damaged"):
        engine.load_model(path)


def test_a_file_missing_a_weight_array_is_damaged(tmp_path, good):
    with np.load(io.BytesIO(good)) as data:
        arrays = {k: data[k] for k in data.files if k != "param/2.W"}
    np.savez(tmp_path / "partial.npz", **arrays)
    with pytest.raises(engine.SpecError, match="weights missing for 2.W"):
        engine.load_model(tmp_path / "partial.npz")


def _declaring(tmp_path, layers: list) -> str:
    meta = {"format": "nnplay-model", "version": 1, "spec": {**MLP, "input_shape": [4096], "layers": layers}}
    path = tmp_path / "big.npz"
    np.savez(path, meta_json=np.array(json.dumps(meta)))
    return path


def test_an_oversized_declared_network_is_refused_before_it_is_built(tmp_path):
    path = _declaring(tmp_path, [{"type": "dense", "units": 4096}] * 3 + [{"type": "dense", "units": 2}])
    tracemalloc.start()
    try:
        with pytest.raises(engine.SpecError, match="50,352,130 parameters; the limit is 5,000,000"):
            engine.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # building it would take 200 MB


def test_limits_passed_in_decide_what_loads(tmp_path):
    path = _declaring(tmp_path, [{"type": "dense", "units": 8}] * 3 + [{"type": "dense", "units": 2}])
    with pytest.raises(engine.SpecError, match="at most 2 layers"):
        engine.load_model(path, limits=engine.Limits(max_layers=2))
    with pytest.raises(engine.SpecError, match="weights missing"):  # allowed, then found to hold no weights
        engine.load_model(path)
