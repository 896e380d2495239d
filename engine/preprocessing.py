"""Preprocessing fitted on the training set only; its state is plain arrays so the model file can keep it
in an .npz (no pickle) and prediction applies the same transform.

Every preprocessor works on (N, D) data and on images (N, C, H, W): images are flattened internally
(statistics per pixel) and returned in their original shape.
"""
from __future__ import annotations

import numpy as np

from .errors import SpecError
from .params import Param
from .registry import Registry

PREPROCESSORS = Registry("preprocessing")
MAX_PCA_DIM = 4096      # eigendecomposition of a (D, D) covariance
TINY = 1e-12            # a spread below this counts as a constant feature


class Preprocessor:
    """fit(x_train) -> self; transform(x) -> same shape float32; state() / from_state(state)."""
    def __init__(self, **config):
        self.config = config        # resolved options (PREPROCESSORS.build fills the defaults)
        self.fitted = False

    def fit(self, x: np.ndarray) -> "Preprocessor":
        self._fit(_flat(x).astype(np.float64))
        self.fitted = True
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if not self.fitted:
            raise RuntimeError(f"{self.name} must be fitted before transform")
        flat = _flat(x)
        if flat.shape[1] != self.n_features:
            raise ValueError(f"{self.name} was fitted on {self.n_features} features, got {flat.shape[1]}")
        return self._transform(flat.astype(np.float64)).astype(np.float32).reshape(np.shape(x))

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        return self.fit(x).transform(x)

    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to rebuild the fitted transform (options included), as arrays."""
        raise NotImplementedError

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> "Preprocessor":
        raise NotImplementedError

    @property
    def n_features(self) -> int:
        return int(self.mean.shape[0])

    def _fit(self, x: np.ndarray) -> None:
        raise NotImplementedError

    def _transform(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _flat(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return x.reshape(len(x), -1)  # (N, ...) -> (N, D)


def _safe_scale(spread: np.ndarray) -> np.ndarray:
    """Spread per feature, with 1 for constant features (so they map to a constant, never NaN)."""
    return np.where(spread > TINY, spread, 1.0)


@PREPROCESSORS.register("center", doc="subtract the training mean of every feature (pixel)")
class Center(Preprocessor):
    def _fit(self, x):
        self.mean = x.mean(axis=0)

    def _transform(self, x):
        return x - self.mean

    def state(self):
        return {"mean": self.mean.astype(np.float32)}

    @classmethod
    def from_state(cls, state):
        p = cls()
        p.mean, p.fitted = np.asarray(state["mean"], np.float64), True
        return p


@PREPROCESSORS.register("standardize",
                        doc="zero mean and unit variance per feature, with the training set's mean and "
                            "standard deviation")
class Standardize(Preprocessor):
    def _fit(self, x):
        self.mean = x.mean(axis=0)
        self.scale = _safe_scale(x.std(axis=0))

    def _transform(self, x):
        return (x - self.mean) / self.scale

    def state(self):
        return {"mean": self.mean.astype(np.float32), "scale": self.scale.astype(np.float32)}

    @classmethod
    def from_state(cls, state):
        p = cls()
        p.mean, p.scale = np.asarray(state["mean"], np.float64), np.asarray(state["scale"], np.float64)
        p.fitted = True
        return p


@PREPROCESSORS.register("minmax",
                        doc="rescale every feature linearly so the training set spans feature_range",
                        params=[Param("feature_range", "float_list", [0.0, 1.0],
                                      help="[low, high] the training data is mapped to, usually [0, 1] or [-1, 1]")])
class MinMax(Preprocessor):
    def __init__(self, **config):
        super().__init__(**config)
        rng = self.config["feature_range"]
        if len(rng) != 2 or not rng[0] < rng[1]:
            raise SpecError(f"must be [low, high] with low < high, e.g. [0, 1] or [-1, 1]; got {rng}",
                            "feature_range")
        self.low, self.high = rng

    def _fit(self, x):
        self.mean = x.min(axis=0)            # the data minimum; named mean for n_features
        self.span = _safe_scale(x.max(axis=0) - self.mean)

    def _transform(self, x):
        return self.low + (x - self.mean) / self.span * (self.high - self.low)

    def state(self):
        return {"data_min": self.mean.astype(np.float32), "data_span": self.span.astype(np.float32),
                "feature_range": np.array([self.low, self.high], np.float32)}

    @classmethod
    def from_state(cls, state):
        lo, hi = (float(v) for v in state["feature_range"])
        p = cls(feature_range=[lo, hi])
        p.mean, p.span = np.asarray(state["data_min"], np.float64), np.asarray(state["data_span"], np.float64)
        p.fitted = True
        return p


@PREPROCESSORS.register("pca_whiten",
                        doc="decorrelate with the training covariance's eigenvectors, then scale each by "
                            "1/sqrt(eigenvalue + epsilon)",
                        params=[Param("epsilon", "float", 1e-5, 0.0, 10.0, min_exclusive=True,
                                      help="added to every eigenvalue: keeps near-constant directions from "
                                           "blowing up")])
class PCAWhiten(Preprocessor):
    def _fit(self, x):
        n, d = x.shape
        if d > MAX_PCA_DIM:
            raise SpecError(f"pca_whiten supports at most {MAX_PCA_DIM} features, got {d}", "dataset.preprocessing")
        self.mean = x.mean(axis=0)
        xc = x - self.mean
        cov = xc.T @ xc / max(n, 1)                                   # (D, N) @ (N, D) -> (D, D)
        eigvals, eigvecs = np.linalg.eigh(cov)
        order = np.argsort(eigvals)[::-1]                             # largest variance first
        self.eigvals = np.clip(eigvals[order], 0.0, None)
        self.components = eigvecs[:, order]                           # (D, D), columns = directions
        self.scale = 1.0 / np.sqrt(self.eigvals + self.config["epsilon"])

    def _transform(self, x):
        return ((x - self.mean) @ self.components) * self.scale       # (N, D) @ (D, D) -> (N, D)

    def state(self):
        return {"mean": self.mean.astype(np.float32), "components": self.components.astype(np.float32),
                "eigenvalues": self.eigvals.astype(np.float32),
                "epsilon": np.array(self.config["epsilon"], np.float64)}

    @classmethod
    def from_state(cls, state):
        p = cls(epsilon=float(state["epsilon"]))
        p.mean = np.asarray(state["mean"], np.float64)
        p.components = np.asarray(state["components"], np.float64)
        p.eigvals = np.asarray(state["eigenvalues"], np.float64)
        p.scale = 1.0 / np.sqrt(p.eigvals + p.config["epsilon"])
        p.fitted = True
        return p


def make_preprocessor(spec: object, path: str = "dataset.preprocessing") -> Preprocessor | None:
    """null -> None; "standardize" or {"name": "minmax", "feature_range": [-1, 1]} -> unfitted Preprocessor."""
    if spec is None:
        return None
    if not isinstance(spec, (str, dict)):
        raise SpecError("must be null, a name or {\"name\": ..., options}", path)
    try:
        return PREPROCESSORS.build(spec, path)
    except SpecError as e:
        if all(p.path.startswith(path) for p in e.problems):
            raise
        # a check inside __init__ names the option only ("feature_range"); root it at `path`
        raise SpecError([type(p)(f"{path}.{p.path}", p.message) for p in e.problems]) from None


def preprocessor_from_state(name: str, state: dict[str, np.ndarray]) -> Preprocessor:
    """Rebuild a fitted preprocessor saved as (name, state arrays)."""
    return PREPROCESSORS.get(name).from_state(state)
