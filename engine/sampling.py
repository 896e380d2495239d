"""Sampling text from a character model trained on the `text` dataset (engine/datasets/sequences.py).

The model's class names are its vocabulary (saved in the model file). Each new character: the last seq_len
characters (fewer at the start: recurrent layers take any number of steps) go in one-hot, the output
probabilities are sharpened or flattened by the temperature, p_i ∝ p_i^(1/T), and one character is drawn
from a seeded generator, so the same request gives the same text.
"""
from __future__ import annotations

import numpy as np

from .errors import Problem, SpecError
from .limits import DEFAULT_LIMITS, Limits
from .params import Param, resolve_params

MAX_TEMPERATURE = 10.0


def generate_options(limits: Limits = DEFAULT_LIMITS) -> list[Param]:
    return [Param("prompt", "str", "\n", help="text to start from; every character must be in the vocabulary"),
            Param("length", "int", 300, 1, limits.max_generate_chars, help="characters to sample"),
            Param("temperature", "float", 0.8, 0, MAX_TEMPERATURE, min_exclusive=True,
                  help="below 1: safer, more repetitive; above 1: more surprising"),
            Param("seed", "int", 0, 0, 2**31 - 1, help="the same seed gives the same text")]


def check_generate(request: dict, vocabulary: list[str] | None, limits: Limits = DEFAULT_LIMITS) -> dict:
    """The request with defaults filled; SpecError naming each bad field (prompt characters outside the
    vocabulary are listed)."""
    if not vocabulary:
        raise SpecError("this model has no vocabulary: sample from a job trained on the text dataset", "job_id")
    try:
        options = resolve_params(generate_options(limits), request, "")
    except SpecError as e:      # top-level fields of the request body: "prompt", not ".prompt"
        raise SpecError([Problem(p.path.lstrip("."), p.message) for p in e.problems]) from None
    problems = []
    prompt = options["prompt"]
    if not prompt:
        problems.append(Problem("prompt", "must have at least one character"))
    elif len(prompt) > limits.max_prompt_chars:
        problems.append(Problem("prompt", f"at most {limits.max_prompt_chars} characters, got {len(prompt)}"))
    unknown = sorted(set(prompt) - set(vocabulary))
    if unknown:
        problems.append(Problem("prompt", f"has characters the model never saw: {''.join(unknown)!r} "
                                          f"(its vocabulary has {len(vocabulary)})"))
    if problems:
        raise SpecError(problems)
    return options


def generate_text(model, prompt: str, length: int, temperature: float, seed: int) -> str:
    """`length` characters sampled after `prompt` (not included); the model's class names are its vocabulary."""
    vocab = list(model.class_names)
    index = {ch: i for i, ch in enumerate(vocab)}
    steps = model.input_shape[0]                          # the seq_len it was trained on
    codes = [index[ch] for ch in prompt]
    rng = np.random.default_rng(seed)
    eye = np.eye(len(vocab))
    out = []
    for _ in range(length):
        window = eye[codes[-steps:]][None]                # (1, <=T, V) one-hot
        p = model.loss.probabilities(model.predict(window))[0].astype(np.float64)   # (V,)
        logits = np.log(np.maximum(p, 1e-300)) / temperature
        q = np.exp(logits - logits.max())
        code = int(rng.choice(len(vocab), p=q / q.sum()))
        codes.append(code)
        out.append(vocab[code])
    return "".join(out)
