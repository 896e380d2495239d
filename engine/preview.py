"""The untrained network as the playground shows it before Play: the trainer's epoch-0 frames without a job.

`preview_model(job_spec)` builds the run exactly as `Trainer` does (same normalisation, seed, dataset,
pipeline and initial weights) and returns its epoch-0 boundary frame (with the neuron maps) from the
same `Probes`, the starting weights, and each input feature's own map over the plot's domain.
"""
from __future__ import annotations

import numpy as np

from .limits import DEFAULT_LIMITS, Limits
from .probes import b64, grid_points


def feature_maps(domain, resolution: int) -> list[dict]:
    """Every registered input feature over a (resolution, resolution) grid, min-max scaled to 0..255."""
    from .datasets.features import FEATURES, apply_features
    points = grid_points(domain, resolution)                          # (r*r, 2)
    maps = []
    for name in FEATURES.names():
        v = apply_features(points, [name])[:, 0].astype(np.float64)     # (r*r,)
        lo, hi = float(v.min()), float(v.max())
        scaled = (v - lo) / (hi - lo if hi > lo else 1.0)
        maps.append({"feature": name, "resolution": resolution, "min": lo, "max": hi,
                     "data": b64(np.rint(scaled * 255).astype(np.uint8))})
    return maps


def preview_model(job_spec: dict, limits: Limits = DEFAULT_LIMITS) -> dict:
    """{"boundary": frame | None, "weights": {"0.W": nested (n_in, n_out)}, "features": [...] | None,
    "scores": a k-NN's {"{split}_accuracy"} | None (a network's preview is untrained: no scores)}.

    Raises SpecError / DataError like `normalize` and `load_dataset` (the server answers 422)."""
    from .trainer import Trainer
    spec = {**job_spec, "stream": {**(job_spec.get("stream") or {}), "boundary": True}}
    if (job_spec.get("model") or {}).get("type") == "knn":
        return _knn_preview(spec, limits)
    trainer = Trainer(spec, limits=limits)
    probes = trainer.probes
    frame = probes.boundary(0) if probes.domain is not None else None
    weights = {k: v.tolist() for k, v in trainer.model.params.items()}
    features = (feature_maps(probes.domain, trainer.spec["stream"]["neuron_resolution"])
                if probes.domain is not None else None)
    return {"boundary": frame, "weights": weights, "features": features, "scores": None}


def _knn_preview(spec: dict, limits: Limits) -> dict:
    """A k-NN has no untrained state: its preview is the fitted model's boundary (the fit stores the rows),
    so the playground can redraw it on every change of k or metric; no weights."""
    from .knn import fitted_knn, knn_scores
    from .probes import Probes
    from .spec import normalize
    spec = normalize(spec, limits)
    model, ds, splits = fitted_knn(spec)
    probes = Probes(model, ds, spec["stream"])
    frame = probes.boundary(0) if probes.domain is not None else None
    features = (feature_maps(probes.domain, spec["stream"]["neuron_resolution"])
                if probes.domain is not None else None)
    # its scores too, as the job would report them (the fit is the whole training): the train rows only when
    # comparing them with themselves stays within max_knn_pairs, as the evaluated splits' rows do (validate)
    n_train = len(splits["train"].x)
    names = ("train", "val", "test") if n_train * n_train <= limits.max_knn_pairs else ("val", "test")
    scores = {k: float(v) for k, v in knn_scores(model, splits, names).items() if k.endswith("_accuracy")}
    return {"boundary": frame, "weights": {}, "features": features, "scores": scores}
