"""MNIST and Fashion-MNIST from IDX files: found on disk (explicit path, env vars, cache, Debian package,
the repo's sibling shared/ folder) or downloaded into the per-user cache."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from ..errors import DataError, SpecError
from ..params import Param
from .base import DATASETS, DataFacts, Dataset
from .download import FILES, download_dataset
from .idx import read_image_label_pair

MAX_IMAGES = 1_000_000
DEBIAN_DIRS = {"fashion_mnist": Path("/usr/share/datasets/fashion-mnist")}  # package dataset-fashion-mnist
SHARED_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"        # <repo>/../shared/data/<name>
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGIT_CLASSES = [str(d) for d in range(10)]
IMAGE_SHAPE = (1, 28, 28)
TRAIN_IMAGES, TEST_IMAGES = 60_000, 10_000   # both sets' files (at most: a class subset has fewer)   # (channels, height, width) of both sets

IMAGE_OPTIONS = [
    Param("path", "str", None, nullable=True,
          help="folder holding the four IDX files (.gz or raw); null: search the usual places"),
    Param("limit", "int", None, 1, MAX_IMAGES, nullable=True, help="use only the first n training images"),
    Param("validation_split", "float", 0.0, 0.0, 0.5,
          help="fraction of the (limited) training images, taken from the end, held out for validation"),
    Param("flatten", "bool", False, help="true: (784,) vectors; false: (1, 28, 28) images"),
    Param("classes", "int_list", None, 0, 9, nullable=True,
          help="keep only these classes, relabelled 0, 1, ... in the order given ([5, 6, 7, 8, 9]: 5 becomes 0); "
               "null: all ten"),
    Param("download", "bool", True, help="download into the per-user cache when the files are nowhere on disk"),
]


def cache_dir(name: str) -> Path:
    """~/.cache/nnplay/<name>, honouring $XDG_CACHE_HOME."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnplay" / name


def _candidates(name: str) -> list[Path]:
    """Folders to search, in order, when no explicit path is given."""
    dirs = []
    if os.environ.get("NNPLAY_DATA"):
        dirs.append(Path(os.environ["NNPLAY_DATA"]) / name)
    if name == "mnist" and os.environ.get("MNIST_DIR"):
        dirs.append(Path(os.environ["MNIST_DIR"]))
    dirs.append(cache_dir(name))
    if name in DEBIAN_DIRS:
        dirs.append(DEBIAN_DIRS[name])
    dirs.append(SHARED_DIR / name)
    return dirs


def _file_in(folder: Path, gz_name: str) -> Path | None:
    """The file as .gz, unpacked, or with the older dotted name (train-images.idx3-ubyte)."""
    raw = gz_name.removesuffix(".gz")
    dotted = raw.replace("-idx", ".idx")
    for candidate in (gz_name, raw, dotted, dotted + ".gz"):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


def files_in(folder: Path) -> dict[str, Path] | None:
    """{"train_images": path, ...} when all four files are in `folder`, else None."""
    found = {key: _file_in(folder, fname) for key, fname in FILES.items()}
    return found if all(found.values()) else None


def locate(name: str, path: str | None = None, download: bool = True) -> dict[str, Path]:
    """Find (or fetch) the four files; raise DataError saying where they were looked for."""
    if path is not None:
        found = files_in(Path(path).expanduser())
        if found is None:
            raise DataError(f"{path} does not hold the four {name} IDX files ({', '.join(FILES.values())})")
        return found
    searched = _candidates(name)
    for folder in searched:
        if (found := files_in(folder)) is not None:
            return found
    where = ", ".join(str(d) for d in searched)
    if not download:
        raise DataError(f"{name} files not found (looked in {where}); put the four IDX files into "
                        f"{cache_dir(name)} or pass \"path\"")
    try:
        download_dataset(name, cache_dir(name), progress=sys.stderr)
    except DataError as e:
        raise DataError(f"{name} files not found (looked in {where}) and {e}; "
                        f"or set NNPLAY_DATA to a folder containing {name}/, or pass \"path\"") from None
    return files_in(cache_dir(name))


def _images_entry(name: str, class_names: list[str], doc: str):
    @DATASETS.register(name, doc=doc, params=IMAGE_OPTIONS, kind="image")
    def load(options: dict, spec: dict, features) -> Dataset:
        if features is not None:
            raise SpecError("features only apply to 2-D datasets", "dataset.features")
        files = locate(name, options["path"], options["download"])
        x_tr, y_tr = read_image_label_pair(files["train_images"], files["train_labels"])
        x_te, y_te = read_image_label_pair(files["test_images"], files["test_labels"])
        names = list(class_names)
        if options["classes"] is not None:
            classes = _checked_classes(options["classes"])
            (x_tr, y_tr), (x_te, y_te) = (subset_classes(x_tr, y_tr, classes), subset_classes(x_te, y_te, classes))
            names = [class_names[c] for c in classes]
        if options["limit"] is not None:
            x_tr, y_tr = x_tr[:options["limit"]], y_tr[:options["limit"]]
        n_val = int(round(len(x_tr) * options["validation_split"]))
        if n_val >= len(x_tr):
            raise SpecError(f"leaves no training images ({len(x_tr)} images)", "dataset.validation_split")
        n_fit = len(x_tr) - n_val
        shape = (x_tr.shape[1] * x_tr.shape[2],) if options["flatten"] else (1,) + x_tr.shape[1:]
        return Dataset(
            name=name, x_train=to_float(x_tr[:n_fit], shape), y_train=y_tr[:n_fit].astype(np.int64),
            x_val=to_float(x_tr[n_fit:], shape) if n_val else None,
            y_val=y_tr[n_fit:].astype(np.int64) if n_val else None,
            x_test=to_float(x_te, shape), y_test=y_te.astype(np.int64), task="classification",
            n_classes=len(names), class_names=names, input_shape=shape,
            extra={"source": str(files["train_images"].parent)})

    def declared(options: dict) -> DataFacts:
        """The shapes these files have, so a spec is checked without reading 60,000 images."""
        shape = (IMAGE_SHAPE[1] * IMAGE_SHAPE[2],) if options.get("flatten") else IMAGE_SHAPE
        limit = options.get("limit")   # the files hold more images than any limit the API allows
        n_val = int(round((limit or TRAIN_IMAGES) * (options.get("validation_split") or 0)))
        n_train = None if limit is None else limit - n_val
        classes = options.get("classes")
        if classes is not None:
            _checked_classes(classes)
        return DataFacts(shape, "classification", len(classes or class_names), n_train=n_train,
                         has_validation=bool(options.get("validation_split")), has_test=True,
                         n_eval=TEST_IMAGES + n_val, n_train_max=(limit or TRAIN_IMAGES) - n_val)
    load.declared = declared
    return load


def _checked_classes(classes: list[int]) -> list[int]:
    if len(set(classes)) != len(classes):
        raise SpecError(f"lists a class twice: {classes}", "dataset.classes")
    if len(classes) < 2:
        raise SpecError("needs at least two classes to tell apart", "dataset.classes")
    return list(classes)


def subset_classes(x: np.ndarray, y: np.ndarray, classes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The examples of `classes` only, labels renumbered by their position in `classes` (order kept)."""
    relabel = np.full(max(int(y.max()), max(classes)) + 1, -1, dtype=np.int64)
    relabel[classes] = np.arange(len(classes))                      # old label -> new label, -1 = dropped
    new = relabel[y.astype(np.int64)]                               # (N,)
    keep = new >= 0
    return x[keep], new[keep].astype(y.dtype)


def to_float(images: np.ndarray, shape: tuple) -> np.ndarray:
    """(N, H, W) uint8 -> float32 in [0, 1], shaped (N, *shape)."""
    out = images.reshape((len(images),) + shape).astype(np.float32)
    out *= np.float32(1 / 255)
    return out


MNIST = _images_entry("mnist", DIGIT_CLASSES,
                      "handwritten digits 0-9, 28x28 grayscale (60k train / 10k test when complete); no noise option")
FASHION_MNIST = _images_entry("fashion_mnist", FASHION_CLASSES,
                              "Zalando clothing photos in 10 classes, 28x28 grayscale, a drop-in MNIST replacement; "
                              "no noise option")
