"""`nnplay train` and `nnplay predict` run in-process through cli.main."""
from __future__ import annotations

import io
import json
import re
import sys

import numpy as np

import engine
from server_support import tiny_spec
from server.cli import build_parser, main


class Terminal(io.StringIO):
    """A stderr that says it is a terminal, as a user's is: tqdm draws its bar only there."""

    def isatty(self) -> bool:
        return True


def test_train_verbose_prints_one_line_per_epoch_and_writes_a_loadable_model(tmp_path, capsys):
    spec_path, out = tmp_path / "spec.json", tmp_path / "m.npz"
    spec_path.write_text(json.dumps(tiny_spec(epochs=3)))
    assert main(["train", str(spec_path), "--out", str(out), "--verbose"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("epoch")] == ["1", "2", "3"]
    assert engine.load_model(out).n_params() == 22


def test_train_shows_one_progress_line_with_loss_accuracy_and_eta_then_a_summary(tmp_path, capsys, monkeypatch):
    spec_path, out = tmp_path / "spec.json", tmp_path / "m.npz"
    spec_path.write_text(json.dumps(tiny_spec(epochs=5)))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["train", str(spec_path), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out.splitlines()
    assert not any(line.startswith("epoch") for line in stdout)   # no line per epoch
    assert len(stdout) == 1 and stdout[0].startswith("completed") and "5 epochs" in stdout[0]
    assert "loss=" in stdout[0] and str(out) in stdout[0]
    bar = terminal.getvalue()
    assert bar.count("\n") <= 1        # the bar rewrites itself with \r; one newline when it closes
    last = bar.rstrip("\n").split("\r")[-1]
    assert "5/5" in last and "loss=" in last and "acc=" in last
    assert re.search(r"\d\d:\d\d<\d\d:\d\d", last)   # elapsed<remaining: the ETA


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


def test_train_writes_no_bar_when_stderr_is_not_a_terminal(tmp_path, capsys):
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(tiny_spec(epochs=2)))
    assert main(["train", str(spec_path), "--out", str(tmp_path / "m.npz")]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out.startswith("completed")   # a log file gets no \r noise


def test_serve_help_explains_every_option():
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]
    for action in serve._actions:
        assert action.help and len(action.help) > 15, action.option_strings
    text = serve.format_help()
    assert "NNPLAY_API_TOKEN" in text and "NNPLAY_HOME" in text
