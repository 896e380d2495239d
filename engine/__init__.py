"""NN Playground's NumPy training engine. Pure NumPy: no web code is imported here."""
from .activations import ACTIVATIONS
from .advice import advise
from .catalog import catalog
from .cost import JobCost, estimate_job_cost, job_cost
from .errors import DataError, Problem, SpecError, UnknownNameError
from .initializers import INITIALIZERS
from .layers import LAYERS
from .losses import LOSSES
from .model import Model, build_model, load_model
from .optimizers import OPTIMIZERS
from .schedules import SCHEDULES
from .spec import DEFAULT_LIMITS, Limits, normalize, validate
from .trainer import TrainResult, train

__version__ = "0.1.0"


def load_dataset(spec: dict):
    """Load a dataset by spec (see engine.datasets)."""
    from .datasets import load_dataset as _load
    return _load(spec)


__all__ = ["ACTIVATIONS", "advise", "INITIALIZERS", "LAYERS", "LOSSES", "OPTIMIZERS", "SCHEDULES", "DataError", "Limits",
           "DEFAULT_LIMITS", "JobCost", "Model", "Problem", "SpecError", "TrainResult", "UnknownNameError", "build_model",
           "catalog", "estimate_job_cost", "job_cost", "load_dataset", "load_model", "normalize", "train", "validate", "__version__"]
