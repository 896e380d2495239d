"""`nnplay train` and `nnplay predict` run in-process through cli.main."""
from __future__ import annotations

import json

import numpy as np

import engine
from server_support import tiny_spec
from server.cli import build_parser, main


def test_train_prints_one_line_per_epoch_and_writes_a_loadable_model(tmp_path, capsys):
    spec_path, out = tmp_path / "spec.json", tmp_path / "m.npz"
    spec_path.write_text(json.dumps(tiny_spec(epochs=3)))
    assert main(["train", str(spec_path), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("epoch")] == ["1", "2", "3"]
    assert engine.load_model(out).n_params() == 22


def test_train_reports_a_bad_spec_with_its_field_and_exit_code_2(tmp_path, capsys):
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps({**tiny_spec(), "dataset": {"name": "nope"}}))
    assert main(["train", str(spec_path)]) == 2
    assert "dataset.name" in capsys.readouterr().err


def test_predict_reads_a_png_with_a_saved_model(tmp_path, capsys):
    from PIL import Image

    model = engine.build_model({"input_shape": [784], "layers": [{"type": "dense", "units": 10,
                                "activation": "softmax"}], "loss": "categorical_crossentropy"}, seed=0)
    model.save(tmp_path / "digits.npz")
    canvas = np.full((64, 64), 255, np.uint8)
    canvas[10:54, 30:36] = 0
    Image.fromarray(canvas).save(tmp_path / "one.png")
    assert main(["predict", str(tmp_path / "digits.npz"), str(tmp_path / "one.png")]) == 0
    assert capsys.readouterr().out.startswith("label ")


def test_serve_defaults_to_localhost_port_8000():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.workers_jobs) == ("127.0.0.1", 8000, None)
