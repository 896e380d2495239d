"""Job specs that validation must refuse with a field path: every problem the dataset loader or the model
build can find. Shared by tests/engine/test_spec.py (engine.validate) and tests/server/test_hostile_inputs.py
(POST /api/jobs answers 422 naming the field), so both surfaces are held to the same table."""
from __future__ import annotations

import copy

DENSE_2 = {"layers": [{"type": "dense", "units": 4, "activation": "tanh"},
                      {"type": "dense", "units": 2, "activation": "softmax"}],
           "loss": "categorical_crossentropy"}
REGRESSION_1 = {"layers": [{"type": "dense", "units": 1}], "loss": "mean_squared_error"}
IMAGE_HEAD = [{"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]


def job(dataset: dict, model: dict | None = None, **training) -> dict:
    return {"dataset": dataset, "model": copy.deepcopy(model or DENSE_2),
            "training": {"epochs": 1, "batch_size": 8, **training}}


def inline(**kw) -> dict:
    return {"name": "inline", **kw}


def image_model(*layers) -> dict:
    return {"layers": [*layers, *IMAGE_HEAD], "loss": "categorical_crossentropy"}


XY = {"x": [[0, 0], [1, 1]], "y": [0, 1]}

# (id, spec, field path of the first problem, words in its message (regex))
BAD_SPECS = [
    ("x_y_length_mismatch", job(inline(x=[[0, 0], [1, 1], [2, 2]], y=[0, 1])), "dataset.y", "2 labels for 3 points"),
    ("ragged_rows", job(inline(x=[[0, 0], [1], [2, 2]], y=[0, 1, 0])), "dataset.x.1", "row 1 has 1 values"),
    ("string_in_x", job(inline(x=[["a", "b"], [1, 1]], y=[0, 1])), "dataset.x.0", "'a'.*not a number"),
    ("numeric_string_in_x", job(inline(x=[[0, "0.5"], [1, 1]], y=[0, 1])), "dataset.x.0", "'0.5'.*not a number"),
    ("bool_in_x", job(inline(x=[[True, 0], [1, 1]], y=[0, 1])), "dataset.x.0", "True.*not a number"),
    ("null_in_x", job(inline(x=[[None, 0], [1, 1]], y=[0, 1])), "dataset.x.0", "null"),
    ("string_labels", job(inline(x=[[0, 0], [1, 1]], y=["a", "b"])), "dataset.y.0", "'a'.*not a number"),
    ("empty_data", job(inline(x=[], y=[])), "dataset.x", "non-empty"),
    ("x_not_a_list", job(inline(x=5, y=[0])), "dataset.x", "non-empty list of rows"),
    ("y_missing", job(inline(x=[[0, 0]])), "dataset.y", "non-empty"),
    ("y_three_deep", job(inline(x=[[0, 0], [1, 1]], y=[[[0]], [[1]]])), "dataset.y.0", "not a number"),
    ("label_above_n_classes", job(inline(**XY, n_classes=2, test_x=[[2, 2]], test_y=[4])), "dataset.n_classes",
     "a label is 4"),
    ("negative_label", job(inline(x=[[0, 0], [1, 1]], y=[0, -1], task="classification")), "dataset.y",
     "whole numbers 0, 1, 2"),
    ("fractional_label", job(inline(x=[[0, 0], [1, 1]], y=[0, 0.5], task="classification")), "dataset.y",
     "whole numbers"),
    ("too_few_output_units", job(inline(x=[[0, 0], [1, 1], [2, 2]], y=[0, 1, 2])), "model.layers.1.units",
     "3 classes.*needs 3 unit"),
    ("csv_short_row", job(inline(csv="a,b,label\n1,2,0\n1,2\n")), "dataset.csv", "line 3: expected 3 values"),
    ("csv_not_a_number", job(inline(csv="a,b,label\n1,two,0\n")), "dataset.csv", "line 2: b is not a number"),
    ("csv_not_text", job(inline(csv=5)), "dataset.csv", "CSV text"),
    ("csv_and_x", job(inline(csv="a,b,label\n1,2,0\n", **XY)), "dataset.csv", "either csv or x / y"),
    ("csv_header_only", job(inline(csv="a,b,label\n")), "dataset.csv", "no data rows"),
    ("csv_names_for_regression", job(inline(csv="a,b,kind\n1,2,cat\n2,1,dog\n", task="regression")),
     "dataset.task", "class names"),
    ("input_shape_not_the_data", job({"name": "spiral", "n_samples": 50}, {**DENSE_2, "input_shape": [3]}),
     "model.input_shape", r"is \[3\] but the dataset's inputs have shape \[2\]"),
    ("input_shape_not_inline_width", job(inline(x=[[0, 0, 0], [1, 1, 1]], y=[0, 1]), {**DENSE_2, "input_shape": [2]}),
     "model.input_shape", r"shape \[3\]"),
    ("input_shape_not_the_images", job({"name": "mnist"}, {**image_model(), "input_shape": [2]}),
     "model.input_shape", r"shape \[1, 28, 28\]"),
    ("conv_on_points", job({"name": "xor", "n_samples": 50},
                           {"layers": [{"type": "conv2d", "filters": 2, "kernel_size": 3}, {"type": "flatten"},
                                       {"type": "dense", "units": 2, "activation": "softmax"}],
                            "loss": "categorical_crossentropy"}), "model.layers.0", "conv2d needs images"),
    ("pool_bigger_than_image", job({"name": "mnist"}, image_model({"type": "maxpool2d", "pool_size": 8},
                                                                   {"type": "maxpool2d", "pool_size": 8})),
     "model.layers.1", "larger than the input image"),
    ("dense_after_conv", job({"name": "mnist"}, {"layers": [{"type": "conv2d", "filters": 2, "kernel_size": 3},
                                                            {"type": "dense", "units": 10, "activation": "softmax"}],
                                                 "loss": "categorical_crossentropy"}), "model.layers.1", "flatten"),
    ("explicit_weights_wrong_shape", job({"name": "and"}, {"layers": [{"type": "dense", "units": 2, "activation": "tanh",
                                                                       "weights": {"W": [[1, 2, 3]]}},
                                                                      {"type": "dense", "units": 2,
                                                                       "activation": "softmax"}],
                                                           "loss": "categorical_crossentropy"}),
     "model.layers.0.weights.W", r"shape \[1, 3\] but this layer needs \[2, 2\]"),
    ("test_x_wider_than_x", job(inline(**XY, test_x=[[0, 0, 0]], test_y=[0])), "dataset.test_x", "2 values like x"),
    ("test_x_without_test_y", job(inline(**XY, test_x=[[0, 0]])), "dataset.test_y", "together"),
    ("vector_targets_one_unit", job(inline(x=[[0.05, 0.1]], y=[[0.01, 0.99]]), REGRESSION_1), "model.layers.0.units",
     "2 target value.*needs 2 unit"),
    ("test_targets_narrower", job(inline(x=[[0, 0], [1, 1]], y=[[0, 1], [1, 0]], test_x=[[0, 0]], test_y=[[1]]),
                                  {"layers": [{"type": "dense", "units": 2}], "loss": "mean_squared_error"}),
     "dataset.test_y", "2 target values like y"),
    ("features_on_three_columns", job(inline(x=[[0, 0, 0], [1, 1, 1]], y=[0, 1], features=["x1^2"])),
     "dataset.features", "2-column"),
    ("bad_plot_domain", job(inline(**XY, domain=[[1, 0], [0, 1]])), "dataset.domain", "min < max"),
    ("test_ratio_of_one_point", job(inline(x=[[0, 0]], y=[0], test_ratio=0.5)), "dataset.test_ratio", "at least 2"),
    ("validation_split_leaves_nothing", job(inline(x=[[0, 0]], y=[0]), validation_split=0.5),
     "training.validation_split", "leaves no training examples"),
    ("validation_split_leaves_no_images", job({"name": "mnist", "limit": 1}, image_model(), validation_split=0.5),
     "training.validation_split", "the dataset has 1"),
    ("monitor_not_computed", job({"name": "plane", "n_samples": 50}, REGRESSION_1, validation_split=0.2,
                                 early_stopping={"monitor": "val_accuracy"}),
     "training.early_stopping.monitor", "not computed for a regression dataset"),
]
