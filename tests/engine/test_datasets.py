"""Datasets: the contract every entry keeps, known values of the 2-D sets and gates, inline data, errors."""
import re

import numpy as np
import pytest

from engine.datasets import DATASETS, Dataset, load_dataset, parse_csv
from engine.datasets.base import MAX_SAMPLES
from engine.datasets.inline import MAX_INLINE_POINTS
from engine.errors import DataError, SpecError, UnknownNameError

TWO_D = [n for n, e in DATASETS.items() if e.kind == "2d"]
GATES = [n for n, e in DATASETS.items() if e.kind == "gates"]
CLASSIFICATION_2D = [n for n in TWO_D if DATASETS.get(n).task == "classification"]
REGRESSION_2D = [n for n in TWO_D if DATASETS.get(n).task == "regression"]


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch):
    monkeypatch.setenv("NNPLAY_MNIST_MIRROR", "")   # never reach the internet from these tests


def minimal_spec(name):
    if name == "inline":
        return {"name": "inline", "x": [[0, 0], [1, 1], [2, 0]], "y": [0, 1, 1]}
    if DATASETS.get(name).kind == "image":
        return {"name": name, "limit": 50}
    return {"name": name}


def load_or_skip(spec):
    try:
        return load_dataset(spec)
    except DataError as e:
        pytest.skip(f"image files not available here: {e}")


@pytest.mark.parametrize("name", DATASETS.names())
def test_every_dataset_keeps_the_dataset_contract(name):
    d = load_or_skip(minimal_spec(name))
    assert isinstance(d, Dataset) and d.name == name
    assert d.x_train.dtype == np.float32 and d.x_train.shape[1:] == tuple(d.input_shape)
    assert len(d.x_train) == len(d.y_train)
    if d.task == "classification":
        assert d.y_train.dtype == np.int64 and d.y_train.ndim == 1
        assert 0 <= d.y_train.min() and d.y_train.max() < d.n_classes
        assert len(d.class_names) == d.n_classes
    else:
        assert d.y_train.dtype == np.float32 and d.y_train.ndim == 2 and d.n_classes is None
    if d.x_test is not None:
        assert d.x_test.dtype == np.float32 and d.x_test.shape[1:] == d.x_train.shape[1:]
        assert d.y_test.dtype == d.y_train.dtype and len(d.y_test) == len(d.x_test)
    entry = DATASETS.get(name)
    assert entry.doc and isinstance(entry.options, list)


@pytest.mark.parametrize("name", TWO_D + GATES)
def test_two_d_sets_have_points_domain_and_features(name):
    d = load_dataset({"name": name})
    assert d.features == ["x1", "x2"] and d.input_shape == (2,)
    assert np.array_equal(d.points_train, d.x_train)
    (xmin, xmax), (ymin, ymax) = d.domain
    assert xmin < xmax and ymin < ymax
    assert d.points_train.shape == (len(d.x_train), 2)


@pytest.mark.parametrize("name", TWO_D)
def test_two_d_sets_are_seeded_and_split_by_test_ratio(name):
    a = load_dataset({"name": name, "n_samples": 200, "noise": 0.2, "seed": 7, "test_ratio": 0.25})
    b = load_dataset({"name": name, "n_samples": 200, "noise": 0.2, "seed": 7, "test_ratio": 0.25})
    c = load_dataset({"name": name, "n_samples": 200, "noise": 0.2, "seed": 8, "test_ratio": 0.25})
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    assert (len(a.x_train), len(a.x_test)) == (150, 50)
    assert a.domain == [[-6.0, 6.0], [-6.0, 6.0]]


@pytest.mark.parametrize("name", CLASSIFICATION_2D)
def test_clean_two_d_classification_sets_stay_in_the_domain_and_use_every_class(name):
    d = load_dataset({"name": name, "n_samples": 600})
    points = np.concatenate([d.points_train, d.points_test])
    assert np.abs(points).max() <= 6.0
    assert set(np.concatenate([d.y_train, d.y_test])) == set(range(d.n_classes))


def all_points(d):
    return np.concatenate([d.points_train, d.points_test]), np.concatenate([d.y_train, d.y_test])


def test_circle_without_noise_labels_the_inner_disc_one():
    p, y = all_points(load_dataset({"name": "circle", "n_samples": 1000}))
    r = np.linalg.norm(p, axis=1)
    assert np.array_equal(y, (r < 2.5).astype(np.int64))
    assert np.mean(y) == pytest.approx(0.5)


def test_circle_noise_flips_labels_near_the_boundary_but_keeps_points():
    clean = all_points(load_dataset({"name": "circle", "n_samples": 1000, "seed": 3}))
    noisy = all_points(load_dataset({"name": "circle", "n_samples": 1000, "seed": 3, "noise": 0.5}))
    r = np.linalg.norm(noisy[0], axis=1)
    assert r.max() <= 5.0 + 1e-5                     # points stay on the disc / ring
    assert np.mean(noisy[1] != (r < 2.5)) > 0.05      # but some labels disagree with the radius rule


def test_xor_without_noise_labels_quadrants():
    p, y = all_points(load_dataset({"name": "xor", "n_samples": 1000}))
    assert np.array_equal(y, (p[:, 0] * p[:, 1] >= 0).astype(np.int64))
    assert np.abs(p).min() >= 0.3 - 1e-6               # padding keeps points off the axes


def test_gauss_clusters_sit_around_plus_and_minus_two():
    p, y = all_points(load_dataset({"name": "gauss", "n_samples": 2000}))
    assert np.allclose(p[y == 1].mean(axis=0), [2, 2], atol=0.1)
    assert np.allclose(p[y == 0].mean(axis=0), [-2, -2], atol=0.1)


def test_gauss_noise_widens_the_clusters():
    narrow = all_points(load_dataset({"name": "gauss", "n_samples": 2000}))[0]
    wide = all_points(load_dataset({"name": "gauss", "n_samples": 2000, "noise": 0.5}))[0]
    assert wide.std() > narrow.std() * 1.3


@pytest.mark.parametrize("k", [2, 3, 5])
def test_spiral_has_one_arm_per_class(k):
    p, y = all_points(load_dataset({"name": "spiral", "n_classes": k, "n_samples": 500}))
    assert np.bincount(y).tolist() == [500 // k + (i < 500 % k) for i in range(k)]
    assert np.linalg.norm(p, axis=1).max() <= 5.0


@pytest.mark.parametrize("name,k", [("spiral", 6), ("spiral", 1), ("blobs", 9), ("blobs", 1)])
def test_n_classes_outside_the_limits_names_the_field(name, k):
    with pytest.raises(SpecError) as e:
        load_dataset({"name": name, "n_classes": k})
    assert e.value.problems[0].path == "dataset.n_classes" and "must be >= 2 and <=" in e.value.problems[0].message


@pytest.mark.parametrize("k", [2, 8])
def test_blobs_centres_are_separate_per_class(k):
    p, y = all_points(load_dataset({"name": "blobs", "n_classes": k, "n_samples": 800}))
    centres = np.stack([p[y == c].mean(axis=0) for c in range(k)])
    assert np.allclose(np.linalg.norm(centres, axis=1), 4.0, atol=0.3)


def test_regression_targets_follow_the_plane_without_noise():
    d = load_dataset({"name": "plane", "n_samples": 300})
    expected = np.clip(d.points_train.sum(axis=1) / 10, -1, 1)
    assert np.allclose(d.y_train[:, 0], expected, atol=1e-6)


def test_multi_gauss_targets_peak_at_the_bump_centres():
    d = load_dataset({"name": "multi_gauss", "n_samples": 4000})
    p, t = d.points_train, d.y_train[:, 0]
    assert np.abs(t).max() <= 1.0
    near = np.linalg.norm(p - [-4, 2.5], axis=1) < 0.2
    assert near.any() and np.all(t[near] > 0.85)
    near_neg = np.linalg.norm(p - [0, 2.5], axis=1) < 0.2
    assert np.all(t[near_neg] < -0.85)


@pytest.mark.parametrize("name", REGRESSION_2D)
def test_regression_noise_changes_targets_not_points(name):
    clean = load_dataset({"name": name, "seed": 2})
    noisy = load_dataset({"name": name, "seed": 2, "noise": 0.3})
    assert np.array_equal(clean.points_train, noisy.points_train)
    assert not np.allclose(clean.y_train, noisy.y_train)


@pytest.mark.parametrize("name,table", [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]),
                                        ("xor_gate", [0, 1, 1, 0]), ("nand", [1, 1, 1, 0])])
def test_gates_give_their_truth_table_as_train_and_test(name, table):
    d = load_dataset({"name": name})
    inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert d.x_train.tolist() == inputs and d.x_test.tolist() == inputs
    assert d.y_train.tolist() == table and d.y_test.tolist() == table
    assert d.domain == [[-0.5, 1.5], [-0.5, 1.5]]


def test_gate_repeat_with_jitter_moves_training_points_only():
    d = load_dataset({"name": "xor_gate", "repeat": 25, "jitter": 0.2, "seed": 1})
    assert d.x_train.shape == (100, 2) and d.y_train.tolist() == [0, 1, 1, 0] * 25
    offsets = d.x_train - np.tile([[0, 0], [0, 1], [1, 0], [1, 1]], (25, 1))
    assert 0 < np.abs(offsets).max() <= 0.2
    assert d.x_test.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]


def test_features_build_the_design_matrix_and_input_shape():
    d = load_dataset({"name": "circle", "n_samples": 50, "features": ["x1^2", "x2^2", "x1*x2"]})
    p = d.points_train
    assert d.input_shape == (3,) and d.features == ["x1^2", "x2^2", "x1*x2"]
    assert np.allclose(d.x_train, np.stack([p[:, 0] ** 2, p[:, 1] ** 2, p[:, 0] * p[:, 1]], 1), rtol=1e-6)


def test_unknown_feature_lists_the_valid_names():
    with pytest.raises(UnknownNameError) as e:
        load_dataset({"name": "xor", "features": ["x1", "cos(x1)"]})
    assert e.value.problems[0].path == "dataset.features.1" and "sin(x1)" in str(e.value)


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(UnknownNameError) as e:
        load_dataset({"name": "swiss_roll"})
    assert e.value.problems[0].path == "dataset.name" and "spiral" in str(e.value)


@pytest.mark.parametrize("key,value", [("n_samples", MAX_SAMPLES + 1), ("n_samples", 5), ("noise", 1.5),
                                       ("noise", float("nan")), ("test_ratio", 0.95), ("seed", -1),
                                       ("colour", "red")])
def test_bad_two_d_options_name_the_field(key, value):
    with pytest.raises(SpecError) as e:
        load_dataset({"name": "spiral", key: value})
    assert [p.path for p in e.value.problems] == [f"dataset.{key}"]


def test_preprocessing_and_features_keys_are_not_rejected_as_unknown():
    d = load_dataset({"name": "xor", "features": ["x1", "x2"], "preprocessing": "standardize"})
    assert d.input_shape == (2,)


# ----- inline -----

def test_inline_data_is_used_as_given_with_a_domain_around_the_points():
    d = load_dataset({"name": "inline", "x": [[0, 0], [10, 0], [5, 20]], "y": [0, 2, 1],
                      "test_x": [[1, 1]], "test_y": [2]})
    assert d.x_train.tolist() == [[0, 0], [10, 0], [5, 20]] and d.y_train.tolist() == [0, 2, 1]
    assert d.n_classes == 3 and d.task == "classification" and d.y_test.tolist() == [2]
    (xmin, xmax), (ymin, ymax) = d.domain
    assert xmin < 0 and xmax > 10 and ymin < 0 and ymax > 20


def test_inline_float_targets_or_task_regression_give_regression():
    d = load_dataset({"name": "inline", "x": [[0, 0], [1, 1]], "y": [0.5, -0.25]})
    assert d.task == "regression" and d.y_train.tolist() == [[0.5], [-0.25]]
    d = load_dataset({"name": "inline", "x": [[0, 0], [1, 1]], "y": [0, 3], "task": "regression"})
    assert d.task == "regression" and d.y_train.dtype == np.float32


def test_inline_non_2d_data_has_no_domain_or_features():
    d = load_dataset({"name": "inline", "x": [[0, 0, 1], [1, 1, 0]], "y": [0, 1]})
    assert d.input_shape == (3,) and d.domain is None and d.features is None


def test_inline_csv_text_is_parsed():
    d = load_dataset({"name": "inline", "csv": "x1,x2,label\n0,0,0\n1,1,1\n"})
    assert d.x_train.tolist() == [[0, 0], [1, 1]] and d.y_train.tolist() == [0, 1]


def test_inline_test_ratio_holds_out_points():
    x = [[i, -i] for i in range(10)]
    d = load_dataset({"name": "inline", "x": x, "y": [i % 2 for i in range(10)], "test_ratio": 0.3})
    assert (len(d.x_train), len(d.x_test)) == (7, 3)


@pytest.mark.parametrize("spec,path,words", [
    ({"x": [[0, 0], [1]], "y": [0, 1]}, "dataset.x.1", "row 1 has 1 values but row 0 has 2"),
    ({"x": [[0, "a"]], "y": [0]}, "dataset.x.0", "value 1 is 'a'"),
    ({"x": [[0, "1.5"]], "y": [0]}, "dataset.x.0", "'1.5' .str., not a number"),
    ({"x": [[0, True]], "y": [0]}, "dataset.x.0", "True .bool., not a number"),
    ({"x": [[0, None]], "y": [0]}, "dataset.x.0", "null, not a number"),
    ({"x": [[0, 0], 1], "y": [0, 1]}, "dataset.x.1", "not a list of 2 numbers"),
    ({"x": [1, [0, 0]], "y": [0, 1]}, "dataset.x.1", "row 1 is a list but row 0 is a single number"),
    ({"x": [[0, float("inf")]], "y": [0]}, "dataset.x.0", "finite"),
    ({"x": [[], []], "y": [0, 1]}, "dataset.x", "must not be empty"),
    ({"x": [[0, 0], [1, 1]], "y": [0]}, "dataset.y", "1 labels for 2 points"),
    ({"x": [[0, 0]], "y": [-1]}, "dataset.y", "whole numbers"),
    ({"x": [[0, 0]], "y": ["1"]}, "dataset.y.0", "not a number"),
    ({"x": [[0, 0]], "y": [0.5], "task": "classification"}, "dataset.y", "whole numbers"),
    ({"x": [[0, 0]], "y": [[0, 1]], "task": "classification"}, "dataset.y", "one label per point"),
    ({"x": [[0, 0]], "y": [[]]}, "dataset.y", "must not be empty"),
    ({"x": [[0, 0]], "y": [0], "test_x": [[1, 1]]}, "dataset.test_y", "together"),
    ({"x": [[0, 0]], "y": [0], "test_x": [[1, 1, 1]], "test_y": [1]}, "dataset.test_x", "2 values like x"),
    ({"x": [[0, 0]], "y": [[1, 2]], "test_x": [[1, 1]], "test_y": [[1, 2, 3]]}, "dataset.test_y", "2 target values"),
    ({"x": [[0, 0]], "y": [3], "n_classes": 2}, "dataset.n_classes", "a label is 3"),
    ({"x": [], "y": []}, "dataset.x", "non-empty"),
    ({"x": {"a": 1}, "y": [0]}, "dataset.x", "non-empty list of rows"),
    ({"y": [0]}, "dataset.x", "non-empty"),
    ({"x": [[0, 0, 0]], "y": [0], "features": ["x1^2"]}, "dataset.features", "2-column point data only"),
    ({"x": [[0, 0, 0]], "y": [0], "domain": [[0, 1], [0, 1]]}, "dataset.domain", "2-column point data only"),
    ({"csv": "a,a,label\n1,2,3"}, "dataset.csv", "names a column twice"),
    ({"csv": "a,b,label\n1,2,0", "x": [[0, 0]]}, "dataset.csv", "either csv or x / y"),
    ({"csv": "a,b,kind\n1,2,cat", "task": "regression"}, "dataset.task", "class names"),
])
def test_bad_inline_data_names_the_field(spec, path, words):
    with pytest.raises(SpecError) as e:
        load_dataset({"name": "inline", **spec})
    problem = e.value.problems[0]
    assert problem.path == path and re.search(words, problem.message), problem


@pytest.mark.parametrize("width", [1, 3, 4])
def test_inline_rows_of_any_width_are_the_inputs_as_given(width):
    x = [[float(i + j) for j in range(width)] for i in range(6)]
    d = load_dataset({"name": "inline", "x": x, "y": [i % 2 for i in range(6)]})
    assert d.input_shape == (width,) and d.x_train.tolist() == x
    assert d.features is None and d.domain is None and d.points_train is None
    assert d.input_names == [f"x{j + 1}" for j in range(width)]


def test_inline_flat_list_is_one_input_column():
    d = load_dataset({"name": "inline", "x": [0.0, 0.5, 1.0], "y": [0.0, 0.25, 1.0]})
    assert d.input_shape == (1,) and d.task == "regression" and d.x_train.shape == (3, 1)


def test_inline_two_columns_are_points_that_take_features():
    d = load_dataset({"name": "inline", "x": [[1, 2], [3, 4]], "y": [0, 1], "features": ["x1", "x1*x2"]})
    assert d.input_shape == (2,) and d.x_train.tolist() == [[1, 2], [3, 12]] and d.points_train.tolist() == [[1, 2], [3, 4]]


def test_inline_rows_of_targets_give_multi_output_regression():
    d = load_dataset({"name": "inline", "x": [[0.05, 0.1], [0.2, 0.3]], "y": [[0.01, 0.99], [0.5, 0.5]]})
    assert d.task == "regression" and d.n_targets == 2 and d.y_train.shape == (2, 2)
    assert d.facts().n_targets == 2 and d.summary()["n_targets"] == 2
    assert load_dataset({"name": "inline", "x": [[0, 0]], "y": [0.5]}).n_targets == 1


def test_inline_numpy_arrays_are_accepted_from_python():
    d = load_dataset({"name": "inline", "x": np.arange(6.0).reshape(3, 2), "y": np.array([0, 1, 1])})
    assert d.x_train.shape == (3, 2) and d.n_classes == 2
    d = load_dataset({"name": "inline", "x": [[np.float64(1.0), np.int64(2)]], "y": [np.int64(1)]})
    assert d.x_train.tolist() == [[1.0, 2.0]]
    d = load_dataset({"name": "inline", "x": list(np.eye(3)), "y": [0, 1, 2]})
    assert d.input_shape == (3,) and d.n_classes == 3


def test_inline_size_limit_has_a_clear_error():
    x = np.zeros((MAX_INLINE_POINTS + 1, 2)).tolist()
    with pytest.raises(SpecError, match=f"at most {MAX_INLINE_POINTS}"):
        load_dataset({"name": "inline", "x": x, "y": [0] * len(x)})


def test_loading_a_dataset_by_its_name_alone():
    assert load_dataset("xor").name == "xor"
    with pytest.raises(SpecError) as e:
        load_dataset(["xor"])
    assert e.value.problems[0].path == "dataset" and "must be an object" in e.value.problems[0].message


# ----- CSV -----

def test_csv_good_lines_with_crlf_bom_and_blank_lines():
    table = parse_csv("\ufeffX1, x2 ,Label\r\n0.5,-1,0\r\n\r\n2,3e-1,1\r\n")
    assert table.points.dtype == np.float32 and table.points.tolist() == [[0.5, -1.0], [2.0, pytest.approx(0.3)]]
    assert table.labels.dtype == np.int64 and table.labels.tolist() == [0, 1]
    assert table.input_names == ["X1", "x2"] and table.class_names is None


def test_csv_real_valued_labels_stay_floats():
    labels = parse_csv("x1,x2,label\n0,0,0.25\n1,1,1\n").labels
    assert labels.dtype == np.float32 and labels.tolist() == [0.25, 1.0]


def test_csv_takes_any_header_names_and_any_number_of_feature_columns():
    text = ("sepal_length,sepal_width,petal_length,petal_width,species\n"
            "5.1,3.5,1.4,0.2,setosa\n7.0,3.2,4.7,1.4,versicolor\n6.3,3.3,6.0,2.5,virginica\n4.9,3.0,1.4,0.2,setosa\n")
    table = parse_csv(text)
    assert table.points.shape == (4, 4) and table.input_names == ["sepal_length", "sepal_width", "petal_length",
                                                                  "petal_width"]
    assert table.class_names == ["setosa", "versicolor", "virginica"] and table.labels.tolist() == [0, 1, 2, 0]
    d = load_dataset({"name": "inline", "csv": text})
    assert d.input_shape == (4,) and d.features is None and d.n_classes == 3
    assert d.input_names == table.input_names and d.class_names == ["setosa", "versicolor", "virginica"]


def test_csv_one_feature_column_is_a_one_input_regression():
    d = load_dataset({"name": "inline", "csv": "hours,score\n1,0.5\n2,0.75\n3,1.5\n"})
    assert d.input_shape == (1,) and d.task == "regression" and d.input_names == ["hours"]


def test_csv_without_a_header_names_the_columns_x1_to_xk():
    table = parse_csv("0.5,1,2,0\n1,1,1,1\n")
    assert table.points.tolist() == [[0.5, 1, 2], [1, 1, 1]] and table.input_names == ["x1", "x2", "x3"]


def test_csv_two_columns_with_any_names_are_points_for_the_features():
    d = load_dataset({"name": "inline", "csv": "a,b,c\n1,2,0\n3,4,1\n", "features": ["x1", "x2^2"]})
    assert d.x_train.tolist() == [[1, 4], [3, 16]] and d.input_names == ["a", "b"]


@pytest.mark.parametrize("text,message", [
    ("a,a,label\n1,2,0", "line 1: header names a column twice"),
    ("a,,label\n1,2,0", "line 1: header has an empty column name"),
    ("label\n1\n", "line 1: header needs at least 2 columns"),
    ("1\n2\n", "line 1: expected at least 2 columns"),
    ("x1,x2,label\n1,2,0\n1,2\n", "line 3: expected 3 values"),
    ("x1,x2,label\n1,2,0\n\n1,two,0\n", "line 4: x2 is not a number: 'two'"),
    ("x1,x2,label\n1,nan,0\n", "line 2: x2 must be a finite number"),
    ("x1,x2,label\n1,2,inf\n", "line 2: label must be a finite number"),
    ("x1,x2,label\n1,2,0\n1,2,cat\n", "line 3: label is not a number: 'cat' .labels are all numbers or all"),
    ("", "CSV is empty"),
    ("x1,x2,label\n", "no data rows"),
    ("x1,x2,label\n" + "0,0,0\n" * 4, "line 5: too many rows, at most 3"),
])
def test_csv_bad_input_names_the_line(text, message):
    with pytest.raises(DataError, match=message):
        parse_csv(text, max_rows=3)


def test_csv_class_names_are_capped_by_the_callers_limit():
    text = "a,kind\n" + "".join(f"{i},c{i}\n" for i in range(4))
    assert len(parse_csv(text, max_classes=4).class_names) == 4
    with pytest.raises(DataError, match="kind has 4 different class names, at most 3"):
        parse_csv(text, max_classes=3)


def test_csv_size_limit():
    with pytest.raises(DataError, match="too large"):
        parse_csv("x1,x2,label\n" + "0,0,0\n" * 400_000)


def test_inline_keeps_a_given_plotting_domain():
    d = load_dataset({"name": "inline", "x": [[0, 0], [1, 1]], "y": [0, 1], "domain": [[-6, 6], [-6, 6]]})
    assert d.domain == [[-6.0, 6.0], [-6.0, 6.0]]
    with pytest.raises(SpecError) as e:
        load_dataset({"name": "inline", "x": [[0, 0]], "y": [0], "domain": [[1, -1], [0, 1]]})
    assert e.value.problems[0].path == "dataset.domain"
