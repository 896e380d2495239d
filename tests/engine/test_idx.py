"""IDX reading (real MNIST known values, corrupt and truncated files) and where the image files are found."""
import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from engine.datasets import load_dataset
from engine.datasets import mnist as mnist_module
from engine.datasets.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx, read_image_label_pair
from engine.errors import DataError, SpecError

MNIST_DIR = Path(os.environ.get("MNIST_DIR") or Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist")
HAS_MNIST = (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file()
needs_mnist = pytest.mark.skipif(not HAS_MNIST, reason=f"real MNIST files not found in {MNIST_DIR} (set MNIST_DIR)")
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file(),
                                   reason="Debian package dataset-fashion-mnist not installed")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No downloads, an empty cache, no env overrides from the machine."""
    monkeypatch.setenv("NNPLAY_MNIST_MIRROR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NNPLAY_DATA", raising=False)
    monkeypatch.delenv("MNIST_DIR", raising=False)


def idx_bytes(magic: int, data: np.ndarray) -> bytes:
    dims = data.shape
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + data.astype(np.uint8).tobytes()


def write_set(folder: Path, n_train=6, n_test=4, label=3, gz=True) -> Path:
    """Four tiny IDX files; every label is `label` so a test can tell which folder was used."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(label)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        for kind, magic, data in (("images-idx3", IMAGES_MAGIC, rng.integers(0, 256, (n, 28, 28))),
                                  ("labels-idx1", LABELS_MAGIC, np.full(n, label))):
            raw = idx_bytes(magic, data)
            name = f"{prefix}-{kind}-ubyte"
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
    return folder


# ----- the reader -----

def test_raw_and_gzip_files_read_the_same(tmp_path):
    data = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(IMAGES_MAGIC, data))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(IMAGES_MAGIC, data)))
    assert np.array_equal(read_idx(tmp_path / "a"), data)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), data)
    assert read_idx(tmp_path / "a").dtype == np.uint8


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("damage", ["truncated_body", "truncated_header", "trailing_bytes", "wrong_type_byte"])
def test_damaged_files_raise_data_error_never_garbage(tmp_path, gz, damage):
    raw = idx_bytes(IMAGES_MAGIC, np.ones((5, 28, 28)))
    raw = {"truncated_body": raw[:-100], "truncated_header": raw[:10], "trailing_bytes": raw + b"\0\0",
           "wrong_type_byte": raw[:2] + b"\x0d" + raw[3:]}[damage]
    path = tmp_path / ("f.gz" if gz else "f")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(DataError, match=str(path.name)):
        read_idx(path)


def test_wrong_magic_number_is_named(tmp_path):
    (tmp_path / "labels").write_bytes(idx_bytes(LABELS_MAGIC, np.zeros(5)))
    with pytest.raises(DataError, match="magic number 2049, expected 2051"):
        read_idx(tmp_path / "labels", IMAGES_MAGIC)


def test_cut_gzip_stream_is_a_clear_error(tmp_path):
    blob = gzip.compress(idx_bytes(IMAGES_MAGIC, np.random.default_rng(0).integers(0, 256, (50, 28, 28))))
    (tmp_path / "cut.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_idx(tmp_path / "cut.gz")


def test_corrupt_gzip_stream_is_a_clear_error(tmp_path):
    blob = bytearray(gzip.compress(idx_bytes(IMAGES_MAGIC, np.random.default_rng(0).integers(0, 256, (50, 28, 28)))))
    blob[len(blob) // 2: len(blob) // 2 + 50] = bytes(50)
    (tmp_path / "bad.gz").write_bytes(bytes(blob))
    with pytest.raises(DataError):
        read_idx(tmp_path / "bad.gz")


def test_image_and_label_counts_must_match(tmp_path):
    (tmp_path / "x").write_bytes(idx_bytes(IMAGES_MAGIC, np.zeros((5, 28, 28))))
    (tmp_path / "y").write_bytes(idx_bytes(LABELS_MAGIC, np.zeros(4)))
    with pytest.raises(DataError, match="5 images but .* 4 labels"):
        read_image_label_pair(tmp_path / "x", tmp_path / "y")


def test_replaced_file_is_read_again_not_served_from_the_cache(tmp_path):
    path = tmp_path / "y"
    path.write_bytes(idx_bytes(LABELS_MAGIC, np.zeros(4)))
    assert read_idx(path).tolist() == [0, 0, 0, 0]
    path.write_bytes(idx_bytes(LABELS_MAGIC, np.ones(5)))
    os.utime(path, ns=(1, 1))
    assert read_idx(path).tolist() == [1] * 5


# ----- real MNIST -----

@needs_mnist
def test_real_mnist_known_values():
    d = load_dataset({"name": "mnist", "path": str(MNIST_DIR)})
    assert len(d.x_train) == 22699                       # the header's count, not 60000
    assert d.y_train[0] == 5 and d.y_test[0] == 7
    assert d.y_train[:5].tolist() == [5, 0, 4, 1, 9] and d.y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(d.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert d.x_train.shape == (22699, 1, 28, 28) and d.x_train.dtype == np.float32
    assert round(float(d.x_train[0].sum()) * 255) == 27525  # raw pixel sum of the first training image
    assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0
    assert d.class_names == [str(i) for i in range(10)] and d.n_classes == 10


@needs_mnist
def test_mnist_limit_validation_split_and_flatten():
    d = load_dataset({"name": "mnist", "path": str(MNIST_DIR), "limit": 1000, "validation_split": 0.2,
                      "flatten": True})
    assert d.x_train.shape == (800, 784) and d.x_val.shape == (200, 784) and d.input_shape == (784,)
    full = load_dataset({"name": "mnist", "path": str(MNIST_DIR), "limit": 1000})
    assert np.array_equal(d.x_val, full.x_train[800:].reshape(200, 784))   # the last fraction
    assert np.array_equal(d.y_val, full.y_train[800:]) and full.x_val is None


@needs_mnist
def test_mnist_is_found_through_mnist_dir(monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(MNIST_DIR))
    assert load_dataset({"name": "mnist", "limit": 10}).extra["source"] == str(MNIST_DIR.resolve())


@needs_fashion
def test_fashion_mnist_from_the_debian_package_has_class_names():
    d = load_dataset({"name": "fashion_mnist", "limit": 100})
    assert d.class_names[0] == "T-shirt/top" and d.class_names[9] == "Ankle boot"
    assert d.y_train[0] == 9 and d.x_train.shape == (100, 1, 28, 28)
    assert d.x_test.shape == (10000, 1, 28, 28)


@pytest.mark.parametrize("key,value", [("validation_split", 0.6), ("limit", 0), ("flatten", "yes")])
def test_bad_image_options_name_the_field(key, value):
    with pytest.raises(SpecError) as e:
        load_dataset({"name": "mnist", key: value})
    assert e.value.problems[0].path == f"dataset.{key}"


def test_features_are_rejected_for_images(tmp_path):
    write_set(tmp_path / "d")
    with pytest.raises(SpecError, match="2-D"):
        load_dataset({"name": "mnist", "path": str(tmp_path / "d"), "features": ["x1"]})


# ----- lookup order -----

def test_explicit_path_wins_over_every_other_place(tmp_path, monkeypatch):
    write_set(tmp_path / "data" / "mnist", label=1)
    monkeypatch.setenv("NNPLAY_DATA", str(tmp_path / "data"))
    write_set(tmp_path / "explicit", label=2, gz=False)
    d = load_dataset({"name": "mnist", "path": str(tmp_path / "explicit")})
    assert set(d.y_train) == {2} and len(d.x_train) == 6 and len(d.x_test) == 4


def test_lookup_order_is_nnplay_data_then_mnist_dir_then_cache(tmp_path, monkeypatch):
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "nnplay" / "mnist"
    write_set(cache, label=4)
    assert set(load_dataset({"name": "mnist"}).y_train) == {4}
    write_set(tmp_path / "mnistdir", label=5)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "mnistdir"))
    assert set(load_dataset({"name": "mnist"}).y_train) == {5}
    write_set(tmp_path / "data" / "mnist", label=6)
    monkeypatch.setenv("NNPLAY_DATA", str(tmp_path / "data"))
    assert set(load_dataset({"name": "mnist"}).y_train) == {6}


def test_mnist_dir_is_not_used_for_fashion_mnist(tmp_path, monkeypatch):
    write_set(tmp_path / "mnistdir", label=5)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "mnistdir"))
    write_set(Path(os.environ["XDG_CACHE_HOME"]) / "nnplay" / "fashion_mnist", label=7)
    assert set(load_dataset({"name": "fashion_mnist"}).y_train) == {7}


def test_explicit_path_without_the_files_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not hold the four mnist IDX files"):
        load_dataset({"name": "mnist", "path": str(tmp_path)})


def test_missing_files_offline_say_where_to_put_them(monkeypatch, tmp_path):
    monkeypatch.setattr(mnist_module, "SHARED_DIR", tmp_path / "nowhere")
    with pytest.raises(DataError) as e:
        load_dataset({"name": "mnist"})
    cache = str(Path(os.environ["XDG_CACHE_HOME"]) / "nnplay" / "mnist")
    assert "not found" in str(e.value) and cache in str(e.value) and "NNPLAY_DATA" in str(e.value)


def test_download_false_never_tries_the_network(monkeypatch, tmp_path):
    monkeypatch.setattr(mnist_module, "SHARED_DIR", tmp_path / "nowhere")
    monkeypatch.setattr(mnist_module, "download_dataset", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(DataError, match="not found"):
        load_dataset({"name": "mnist", "download": False})
