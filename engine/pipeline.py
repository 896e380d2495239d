"""The input pipeline a model carries: 2-D feature transform, then a fitted preprocessing step.

Training data arrives with features already applied (the dataset builds the design matrix);
`Model.predict` gets raw inputs and runs both steps, so the decision boundary, the REST predict
endpoint and the saved model all see exactly what training saw.
"""
from __future__ import annotations

import numpy as np


class InputPipeline:
    def __init__(self, features: list[str] | None = None, preprocessing: dict | None = None):
        self.features = list(features) if features else None
        if isinstance(preprocessing, str):
            preprocessing = {"name": preprocessing}
        self.preprocessing = dict(preprocessing) if preprocessing else None  # {"name": ..., **options}
        self.preprocessor = None  # fitted object, set by fit() or from_saved()

    def fit(self, x_train: np.ndarray) -> "InputPipeline":
        """Fit the preprocessing step on (featured) training inputs."""
        if self.preprocessing:
            from .preprocessing import make_preprocessor
            self.preprocessor = make_preprocessor(self.preprocessing).fit(x_train)
        return self

    def preprocess(self, x: np.ndarray) -> np.ndarray:
        """Apply the fitted preprocessing only (x already has features)."""
        return x if self.preprocessor is None else self.preprocessor.transform(x)

    def apply_features(self, points: np.ndarray) -> np.ndarray:
        if not self.features:
            return points
        from .datasets.features import apply_features
        return apply_features(points, self.features)

    def transform(self, x_raw: np.ndarray) -> np.ndarray:
        """Raw inputs (2-D points for 2-D sets) -> model inputs."""
        return self.preprocess(self.apply_features(x_raw))

    def to_saved(self) -> tuple[dict, dict[str, np.ndarray]]:
        config = {"features": self.features, "preprocessing": self.preprocessing}
        arrays = {} if self.preprocessor is None else dict(self.preprocessor.state())
        return config, arrays

    @classmethod
    def from_saved(cls, config: dict | None, arrays: dict[str, np.ndarray]) -> "InputPipeline":
        config = config or {}
        pipe = cls(config.get("features"), config.get("preprocessing"))
        if pipe.preprocessing:
            from .preprocessing import preprocessor_from_state
            pipe.preprocessor = preprocessor_from_state(pipe.preprocessing["name"], arrays)
        return pipe
