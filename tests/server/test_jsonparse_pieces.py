"""Big JSON values travel and are written in pieces (server/jsonparse.py): the same values and text as one call."""
from __future__ import annotations

import json

import numpy as np

from server import jsonparse


def values() -> list:
    rng = np.random.default_rng(0)
    rows = rng.uniform(-1, 1, (30_000, 3)).round(4).tolist()
    return [{"x": rows, "y": list(range(30_000)), "name": "inline", "small": [1, 2.5, None, True, "s"]},
            {"a": [[1]] * 25_000, "b": [], "c": {}, "d": {"k": float("nan")}}, [], {}, 3, "text",
            [{"x": [0.5] * 12_000}, {"x": [1] * 3}]]


def test_dumps_writes_the_text_json_dumps_writes():
    for value in values():
        assert jsonparse.dumps(value) == json.dumps(value)


def test_pack_and_unpack_give_back_the_same_value_in_pieces():
    big = values()[0]
    packed = jsonparse.pack(big)
    assert isinstance(packed["x"], jsonparse.Pieces) and len(packed["x"].parts) > 1
    assert packed["small"] == big["small"]
    assert jsonparse.unpack(packed) == big


def test_loads_of_a_big_text_runs_in_the_parse_process_and_gives_the_same_value():
    text = json.dumps(values()[0])
    assert len(text) >= jsonparse.PROCESS_BYTES
    assert jsonparse.loads(text) == json.loads(text)


def test_loads_shared_parses_a_big_text_once_and_checks_the_text_not_only_its_hash():
    value = values()[0]
    text = jsonparse.dumps_shared(value)
    assert jsonparse.loads_shared(text) is value          # remembered when it was written
    other = text.replace("inline", "inlinE")
    assert jsonparse.loads_shared(other)["name"] == "inlinE"
    assert jsonparse.loads_shared(other) is jsonparse.loads_shared(other)


def test_a_parsed_long_list_is_stored_with_the_text_the_parse_process_wrote():
    value = values()[0]
    parsed = jsonparse.unpack(jsonparse.pack(value))
    assert jsonparse._known_text(parsed["x"]) == json.dumps(value["x"])
    assert jsonparse._known_text(value["x"]) is None           # an equal list that was not parsed: no text
    assert jsonparse.dumps(parsed) == json.dumps(value)
    parsed["x"] = parsed["x"][:10]                             # a new list object: its own text is written
    assert jsonparse.dumps(parsed) == json.dumps({**value, "x": value["x"][:10]})
