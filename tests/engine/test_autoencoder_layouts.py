"""engine/autoencoder_layouts.py: the /autoencoder page's networks come from the engine, shape rules included."""
import pytest

from engine import normalize
from engine.autoencoder_layouts import OPTIONS, PARTS, autoencoder_layout, autoencoder_spec
from engine.errors import SpecError


def shapes(options):
    layout = autoencoder_layout(options)
    assert layout["errors"] == [], layout["errors"]
    return [tuple(row["output_shape"]) for row in layout["layers"]]


def test_the_defaults_make_a_dense_autoencoder_with_a_2d_code_and_784_sigmoid_outputs():
    spec = autoencoder_spec({})
    layers = spec["model"]["layers"]
    assert [l.get("units") for l in layers] == [256, 2, 256, 784]
    assert layers[1]["code"] is True and layers[-1]["activation"] == "sigmoid"
    assert spec["dataset"] == {"name": "mnist", "flatten": True, "target": "input", "limit": 5000}
    assert shapes({}) == [(256,), (2,), (256,), (784,)]


def test_a_conv_encoder_halves_the_side_and_a_conv_decoder_doubles_it_back_to_28():
    got = shapes({"encoder": "conv", "encoder_sizes": [4, 8], "decoder": "conv", "decoder_sizes": [8, 4]})
    assert got == [(4, 28, 28), (4, 14, 14), (8, 14, 14), (8, 7, 7), (392,), (2,), (392,), (8, 7, 7), (8, 14, 14),
                   (8, 14, 14), (8, 28, 28), (4, 28, 28), (1, 28, 28), (784,), (784,)]
    assert autoencoder_spec({"encoder": "conv"})["dataset"]["flatten"] is False      # images, not vectors
    assert shapes({"decoder": "conv", "decoder_sizes": [6]})[2:6] == [(6 * 14 * 14,), (6, 14, 14), (6, 28, 28), (6, 28, 28)]


def test_a_conv_decoder_that_cannot_reach_28_is_refused_naming_the_option():
    with pytest.raises(SpecError) as e:
        autoencoder_spec({"decoder": "conv", "decoder_sizes": [8, 8, 8]})
    assert e.value.problems[0].path == "options.decoder_sizes"
    assert "at most 2 sizes, got 3" in e.value.problems[0].message
    layout = autoencoder_layout({"decoder": "conv", "decoder_sizes": [8, 8, 8]})   # the page's answer: listed
    assert layout["spec"] is None and layout["errors"][0]["path"] == "options.decoder_sizes"


@pytest.mark.parametrize("options, path", [
    ({"encoder": "lstm"}, "options.encoder"), ({"code_units": 0}, "options.code_units"),
    ({"encoder_sizes": []}, "options.encoder_sizes"), ({"loss": "hinge"}, "options.loss"),
    ({"limit": 10}, "options.limit"), ({"junk": 1}, "options.junk"), ([1, 2], "options"),
])
def test_bad_options_are_named(options, path):
    layout = autoencoder_layout(options)
    assert layout["spec"] is None and [e["path"] for e in layout["errors"]] == [path]


def test_no_decoder_sizes_is_the_output_layer_alone_and_noise_makes_a_denoiser():
    spec = autoencoder_spec({"decoder_sizes": None, "input_noise": 0.3})
    assert [l.get("units") for l in spec["model"]["layers"]] == [256, 2, 784]
    assert spec["dataset"]["input_noise"] == 0.3


def test_every_spec_the_options_make_is_one_post_api_jobs_takes():
    for kind in PARTS.names():
        for dec in PARTS.names():
            spec = autoencoder_spec({"encoder": kind, "encoder_sizes": [4, 8], "decoder": dec, "decoder_sizes": [8, 4]})
            normalize(spec)                                   # raises SpecError if POST /api/jobs would refuse it
            assert autoencoder_layout({"encoder": kind, "encoder_sizes": [4, 8], "decoder": dec,
                                       "decoder_sizes": [8, 4]})["errors"] == []


def test_the_losses_offered_are_those_that_train_a_sigmoid_reconstruction():
    losses = next(p for p in OPTIONS if p.name == "loss").choices
    assert "binary_crossentropy" in losses and "mean_squared_error" in losses and "hinge" not in losses
