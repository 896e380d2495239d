"""Sequence datasets for recurrent networks: inputs (N, T, D) float32, T = `seq_len`.

- sine: the next value of noisy sine waves (regression; `per_step` predicts it at every step)
- memory: recall a marked bit from the first fifth of the sequence at the last step (classification)
- adding: the sum of the two marked numbers (regression; Hochreiter & Schmidhuber's adding problem)
- text: the next character after seq_len characters, one-hot (classification over the vocabulary)

Every entry declares its DataFacts from the options alone (`declared`), so validation never builds the
arrays; the text entry reads its text (200 KB shipped, or the spec's own) to know the vocabulary.
"""
from __future__ import annotations

from importlib import resources

import numpy as np

from ..errors import SpecError
from ..limits import DEFAULT_LIMITS
from ..params import Param
from .base import DATASETS, DataFacts, Dataset, seed_param

SHIPPED_TEXT = "tinyshakespeare.txt"        # engine/assets/README.md: source and licence


def seq_options(seq_len: int, n_samples: int = 1000, noise: float | None = None) -> list[Param]:
    opts = [Param("seq_len", "int", seq_len, 2, DEFAULT_LIMITS.max_seq_len, help="time steps per sequence"),
            Param("n_samples", "int", n_samples, 10, DEFAULT_LIMITS.max_samples,
                  help="sequences (train + test)"),
            Param("test_ratio", "float", 0.2, 0.05, 0.9, help="fraction of the sequences held out as the test set")]
    if noise is not None:
        opts.append(Param("noise", "float", noise, 0.0, 10.0, help="size of the random values (see the doc)"))
    return opts + [seed_param()]


def _split(name, x, y, options, task, **facts) -> Dataset:
    n_test = min(max(int(round(len(x) * options["test_ratio"])), 1), len(x) - 1)
    return Dataset(name=name, x_train=x[n_test:], y_train=y[n_test:], x_test=x[:n_test], y_test=y[:n_test],
                   task=task, input_shape=tuple(x.shape[1:]), **facts)


def _register(name: str, doc: str, params: list[Param], task: str, facts):
    """`facts(options) -> (input_shape, n_classes, n_targets)`: what a model must fit, without data."""
    def decorator(gen):
        @DATASETS.register(name, doc=doc, params=params, kind="sequence", task=task)
        def load(options: dict, spec: dict, features) -> Dataset:
            return gen(options, spec)

        def declared(options: dict) -> DataFacts:
            shape, n_classes, n_targets = facts(options)
            n = options["n_samples"]
            n_train = n - min(max(int(round(n * options["test_ratio"])), 1), n - 1)
            return DataFacts(tuple(shape), task, n_classes, n_targets, n_train)
        load.declared = declared
        load.generate = gen
        return load
    return decorator


@_register("sine", "noisy sine waves of random phase and frequency (0.1-0.5 rad per step, amplitude 0.5-1): "
                   "predict the next clean value; noise is the inputs' Gaussian noise (std)",
           seq_options(20, 1000, 0.05) + [Param("per_step", "bool", False,
                                                help="a target at every step (N, T): use time_distributed + "
                                                     "flatten; false: only after the last step (N, 1)")],
           "regression", lambda o: ((o["seq_len"], 1), None, o["seq_len"] if o["per_step"] else 1))
def sine(options, spec):
    rng = np.random.default_rng(options["seed"])
    n, t = options["n_samples"], options["seq_len"]
    freq, phase = rng.uniform(0.1, 0.5, (n, 1)), rng.uniform(0, 2 * np.pi, (n, 1))
    amp = rng.uniform(0.5, 1.0, (n, 1))
    wave = amp * np.sin(freq * np.arange(t + 1) + phase)                  # (N, T+1) clean
    x = wave[:, :t] + rng.normal(0, options["noise"], (n, t))
    y = wave[:, 1:] if options["per_step"] else wave[:, t:]               # (N, T) or (N, 1)
    return _split("sine", x[:, :, None].astype(np.float32), y.astype(np.float32), options, "regression")


@_register("memory", "one step carries a bit (+1 or -1), marked by 1 on the second input, at a random one of the "
                     "first seq_len/5 steps; every other step is a distractor uniform in [-noise, noise]; output the "
                     "bit at the last step. seq_len sets how far back the network must remember (at least 4/5 of "
                     "it); the random start means a net cannot just latch onto its very first input",
           seq_options(20, 1000, 1.0), "classification", lambda o: ((o["seq_len"], 2), 2, None))
def memory(options, spec):
    rng = np.random.default_rng(options["seed"])
    n, t = options["n_samples"], options["seq_len"]
    bits = rng.integers(0, 2, n)
    x = np.zeros((n, t, 2), dtype=np.float32)
    x[:, :, 0] = rng.uniform(-options["noise"], options["noise"], (n, t))
    rows, at = np.arange(n), rng.integers(0, max(1, t // 5), n)         # (N,) the marked step
    x[rows, at, 0] = 2 * bits - 1                                        # the bit to recall
    x[rows, at, 1] = 1                                                   # "remember this one"
    return _split("memory", x, bits.astype(np.int64), options, "classification", n_classes=2,
                  class_names=["0", "1"])


@_register("adding", "each step has a number uniform in [0, 1] and a marker; exactly two steps are marked (one "
                     "in each half): output the sum of their numbers",
           seq_options(20, 1000), "regression", lambda o: ((o["seq_len"], 2), None, 1))
def adding(options, spec):
    rng = np.random.default_rng(options["seed"])
    n, t = options["n_samples"], options["seq_len"]
    x = np.zeros((n, t, 2), dtype=np.float32)
    x[:, :, 0] = rng.uniform(0, 1, (n, t))
    half = t // 2
    rows = np.arange(n)
    first, second = rng.integers(0, half, n), rng.integers(half, t, n)   # (N,) marked steps
    x[rows, first, 1] = x[rows, second, 1] = 1
    y = (x[rows, first, 0] + x[rows, second, 0])[:, None]                # (N, 1)
    return _split("adding", x, y.astype(np.float32), options, "regression")


# ---- text ----

def shipped_text() -> str:
    return resources.files("engine").joinpath("assets", SHIPPED_TEXT).read_text(encoding="utf-8")


def text_of(spec: dict) -> str:
    """The spec's own `text` (checked against limits.max_text_chars) or the shipped one."""
    text = spec.get("text")
    if text is None:
        return shipped_text()
    if not isinstance(text, str):
        raise SpecError(f"must be a string, got {type(text).__name__}", "dataset.text")
    if len(text) > DEFAULT_LIMITS.max_text_chars:
        raise SpecError(f"at most {DEFAULT_LIMITS.max_text_chars:,} characters, got {len(text):,}", "dataset.text")
    return text


def vocabulary(text: str) -> list[str]:
    return sorted(set(text))


def _text_facts(options, spec):
    text = text_of(spec)
    t = options["seq_len"]
    need = int(np.ceil((t + 1) / (1 - options["test_ratio"]))) + t + 1
    if len(text) < need:
        raise SpecError(f"has {len(text)} characters; seq_len {t} with test_ratio {options['test_ratio']} needs at "
                        f"least {need}", "dataset.text")
    vocab = vocabulary(text)
    if len(vocab) < 2:
        raise SpecError("needs at least 2 different characters", "dataset.text")
    return text, vocab


def one_hot(indices: np.ndarray, size: int) -> np.ndarray:
    """(..., ) int -> (..., size) float32."""
    out = np.zeros(indices.shape + (size,), dtype=np.float32)
    np.put_along_axis(out, indices[..., None], 1.0, axis=-1)
    return out


@DATASETS.register("text", doc="character-level language model: seq_len characters in (one-hot), the next "
                               "character out. The shipped text is 200 KB of Shakespeare (public domain); "
                               "`text` takes your own. Train windows come from the first part of the text, "
                               "test windows from the last test_ratio of it",
                   params=seq_options(40, 4000), kind="sequence", extra_keys=("text",))
def text_dataset(options: dict, spec: dict, features) -> Dataset:
    text, vocab = _text_facts(options, spec)
    codes = np.searchsorted(np.array(vocab), np.array(list(text)))       # (chars,) int
    t, n = options["seq_len"], options["n_samples"]
    cut = int(len(codes) * (1 - options["test_ratio"]))
    n_test = min(max(int(round(n * options["test_ratio"])), 1), n - 1)
    rng = np.random.default_rng(options["seed"])

    def windows(lo, hi, count):
        starts = rng.integers(lo, hi - t, count)                         # (count,) window starts
        idx = starts[:, None] + np.arange(t + 1)                         # (count, T+1)
        return one_hot(codes[idx[:, :t]], len(vocab)), codes[idx[:, t]].astype(np.int64)

    x_tr, y_tr = windows(0, cut, n - n_test)
    x_te, y_te = windows(cut, len(codes), n_test)
    return Dataset(name="text", x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te, task="classification",
                   n_classes=len(vocab), class_names=vocab, input_shape=(t, len(vocab)),
                   extra={"source": "inline" if spec.get("text") is not None else SHIPPED_TEXT})


def _text_declared(options: dict, spec: dict | None = None) -> DataFacts:
    _, vocab = _text_facts(options, spec if spec is not None else options)
    n = options["n_samples"]
    return DataFacts((options["seq_len"], len(vocab)), "classification", len(vocab), None,
                     n - min(max(int(round(n * options["test_ratio"])), 1), n - 1))


text_dataset.declared = _text_declared
