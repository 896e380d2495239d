"""The playground's presets gallery: each a title, two or three sentences, and a job spec the engine validates.

Served in the catalog (`presets`); tests/engine/test_presets.py normalises and trains every one."""
from __future__ import annotations


def _dense(units: int, activation: str, **extra) -> dict:
    return {"type": "dense", "units": units, "activation": activation, **extra}


def _preset(name, title, text, dataset, layers, loss="binary_crossentropy", **training) -> dict:
    opt = training.pop("optimizer", {"name": "sgd", "learning_rate": 0.1})
    stream = training.pop("stream", None)          # e.g. the hidden space of a bottleneck layer
    return {"name": name, "title": title, "text": text, "spec": {
        "dataset": {"features": ["x1", "x2"], **dataset},
        "model": {"layers": layers, "loss": loss},
        "training": {"epochs": None, "batch_size": 10, "optimizer": opt, **training},
        **({"stream": stream} if stream else {})}}


OUT = _dense(1, "sigmoid")
PRESETS = [
    _preset("xor_hidden", "XOR needs a hidden layer",
            "XOR's classes sit in opposite corners, so no single straight line separates them. With four tanh "
            "neurons in one hidden layer the network bends the boundary and solves it.",
            {"name": "xor"}, [_dense(4, "tanh"), OUT], optimizer={"name": "sgd", "learning_rate": 0.3}),
    _preset("perceptron_xor", "A perceptron cannot do XOR",
            "One neuron draws one straight line: it separates AND- or OR-like data (try the gauss set) but on XOR "
            "it stays near 50% however long it trains. Add a hidden layer to fix it.",
            {"name": "xor"}, [OUT]),
    _preset("feature_cross", "Feature crosses solve the circle",
            "With x1² and x2² as inputs the circle becomes a straight-line problem, so a network with no hidden "
            "layer at all separates the inner ring from the outer one. The inputs did the work the hidden layer would.",
            {"name": "circle", "features": ["x1", "x2", "x1^2", "x2^2"]}, [OUT],
            optimizer={"name": "sgd", "learning_rate": 0.3}),
    _preset("vanishing_sigmoid", "Vanishing gradients: deep sigmoid",
            "Six sigmoid layers with small random weights: the gradient shrinks layer after layer, so the first "
            "layers hardly move (see the gradient norms below). Compare the ReLU + He preset.",
            {"name": "spiral"}, [*[_dense(8, "sigmoid") for _ in range(6)], OUT],
            optimizer={"name": "sgd", "learning_rate": 0.1}),
    _preset("relu_he", "…and ReLU with He initialization",
            "The same depth with ReLU and He-normal starting weights keeps the gradient's size from layer to "
            "layer, so every layer learns. Watch the gradient norms stay level.",
            {"name": "spiral"}, [*[_dense(8, "relu", kernel_initializer="he_normal") for _ in range(6)], OUT],
            optimizer={"name": "adam", "learning_rate": 0.01}),
    _preset("zero_init", "Zero initialization",
            "Every weight starts at zero, so every neuron of a layer computes the same thing and gets the same "
            "gradient: they stay identical and the layer acts like one neuron. Random starting weights break that symmetry.",
            {"name": "circle"}, [_dense(6, "tanh", kernel_initializer="zeros"), OUT]),
    _preset("sgd_plain", "Plain SGD",
            "Stochastic gradient descent takes small steps straight down the local slope; on the spiral it is "
            "slow. Compare the momentum preset at the same learning rate.",
            {"name": "spiral"}, [_dense(8, "tanh"), _dense(8, "tanh"), OUT], optimizer={"name": "sgd", "learning_rate": 0.03}),
    _preset("momentum", "Momentum",
            "Momentum keeps a running direction (0.9 of the last step plus the new gradient), so consistent "
            "slopes are followed faster than with plain SGD. Compare the loss curves of the two presets.",
            {"name": "spiral"}, [_dense(8, "tanh"), _dense(8, "tanh"), OUT],
            optimizer={"name": "sgd", "learning_rate": 0.03, "momentum": 0.9}),
    _preset("overfit", "Overfitting a small noisy set",
            "Sixty noisy points and a big network: the training loss keeps falling while the test loss turns up. "
            "Try L2 (regularization above) or the dropout preset.",
            {"name": "circle", "n_samples": 60, "noise": 0.5}, [_dense(16, "relu"), _dense(16, "relu"), OUT],
            optimizer={"name": "adam", "learning_rate": 0.03}),
    _preset("dropout_l2", "Dropout and L2 against overfitting",
            "The same small noisy set with dropout between the layers and an L2 penalty: the boundary stays "
            "smoother and the test loss stays closer to the training loss. Both trade a little training fit for generalization.",
            {"name": "circle", "n_samples": 60, "noise": 0.5},
            [_dense(16, "relu"), {"type": "dropout", "rate": 0.3}, _dense(16, "relu"), OUT],
            optimizer={"name": "adam", "learning_rate": 0.03}, regularization={"l2": 0.003}),
    _preset("early_stopping", "Early stopping",
            "Training stops once the test loss has not improved for 30 epochs and the best weights come back: "
            "the run ends before overfitting sets in. The message says which epoch was best.",
            {"name": "circle", "n_samples": 60, "noise": 0.5}, [_dense(16, "relu"), _dense(16, "relu"), OUT],
            optimizer={"name": "adam", "learning_rate": 0.03},
            early_stopping={"monitor": "test_loss", "patience": 30, "restore_best_weights": True}),
    _preset("bottleneck_circle", "A 2-unit bottleneck: the circle in hidden space",
            "Two tanh units are all the output sees. The hidden space shows the data and the input grid as those two "
            "units see them. Training folds the plane until the inner ring and the outer ring sit on either side of "
            "a straight line.",
            {"name": "circle"}, [_dense(8, "tanh"), _dense(2, "tanh"), OUT],
            optimizer={"name": "adam", "learning_rate": 0.03}, stream={"hidden_layer": 1}),
    _preset("bottleneck_spiral", "A 2-unit bottleneck: pulling the spiral apart",
            "The spiral's arms wind around each other in the input. After two wide tanh layers, a 2-unit layer must "
            "hold them apart. Watch its hidden space: the arms are stretched until one straight line separates them.",
            {"name": "spiral"}, [_dense(16, "tanh"), _dense(16, "tanh"), _dense(2, "tanh"), OUT],
            optimizer={"name": "adam", "learning_rate": 0.01}, stream={"hidden_layer": 2}),
]


def _knn_preset(name, title, text, dataset, k, metric="l2") -> dict:
    # no layers, loss or optimizer: "training" stores the points (engine/knn.py); k and metric change live
    return {"name": name, "title": title, "text": text, "spec": {
        "dataset": {"features": ["x1", "x2"], **dataset},
        "model": {"type": "knn", "k": k, "metric": metric},
        "training": {"epochs": None, "batch_size": 10, "optimizer": {"name": "sgd", "learning_rate": 0.1}}}}


# the baselines a network must beat (issue 15): k-NN stores the data, a linear classifier draws one line per class
GAUSS = {"name": "gauss", "noise": 0.35}
PRESETS += [
    _knn_preset("knn_spiral", "k-nearest neighbours: no training at all",
                "The model stores the training points, and each point of the plane takes the vote of its k nearest "
                "ones. Move k and the boundary redraws at once: small k follows every point, large k smooths the "
                "arms away.", {"name": "spiral"}, 5),
    _knn_preset("knn_noisy", "k = 1 memorises the noise",
                "With k = 1 every training point wins its own little island, noise included, so the test accuracy "
                "suffers. Raise k to 15 and the islands vanish; try the l1 metric too.",
                {"name": "circle", "n_samples": 200, "noise": 0.5}, 1),
    _preset("linear_softmax", "Linear classifier: softmax",
            "One dense layer and a softmax: a score per class, each a weighted sum of x1 and x2, so the boundary "
            "is one straight line. Cross-entropy keeps pushing even points already on the right side.",
            GAUSS, [_dense(2, "softmax")], "categorical_crossentropy", optimizer={"name": "sgd", "learning_rate": 0.03}),
    _preset("linear_hinge", "Linear classifier: hinge (SVM)",
            "The same single layer with the multiclass SVM loss: a point stops counting once its class beats the "
            "other by the margin. Compare its line with the softmax one.",
            GAUSS, [_dense(2, "linear")], "hinge", optimizer={"name": "sgd", "learning_rate": 0.03}),
    _preset("linear_squared", "Linear classifier: squared error",
            "The single layer fitted by least squares to one-hot targets. It works on easy data, but points far on "
            "the right side still pull the line, because overshooting the target costs as much as missing it.",
            GAUSS, [_dense(2, "linear")], "mean_squared_error", optimizer={"name": "sgd", "learning_rate": 0.03}),
]


def _sequence_preset(name, title, text, dataset, layers, **training) -> dict:
    opt = training.pop("optimizer", {"name": "adam", "learning_rate": 0.01, "clipnorm": 1.0})
    return {"name": name, "title": title, "text": text, "spec": {
        "dataset": dataset,
        "model": {"layers": [*layers, {"type": "dense", "units": None, "activation": "softmax"}],
                  "loss": "categorical_crossentropy"},
        "training": {"epochs": None, "batch_size": 32, "optimizer": opt, **training}}}


# the /sequences page's gallery (catalog "sequence_presets"); the output layer's units come from the data
SEQUENCE_PRESETS = [
    # measured (README, benchmarks/sequences.py): a simple RNN 32 solves this task 15 and 25 steps long but stays
    # at chance at 50; an lstm 32 reaches 100 % at 50 steps in 7 epochs, and did not learn 100 steps in 10 epochs
    _sequence_preset("rnn_forgets", "A simple RNN forgets 50 steps back",
                     "The bit to recall is 40 to 50 steps back. A simple RNN's gradient through time shrinks by "
                     "orders of magnitude on the way back to it, so it never learns which step mattered and stays "
                     "near 50 % (at 15 or 25 steps it solves the same task).",
                     {"name": "memory", "seq_len": 50, "n_samples": 2000}, [{"type": "simple_rnn", "units": 32}]),
    _sequence_preset("lstm_remembers", "An LSTM remembers 50 steps",
                     "The same task with an LSTM. Its forget gate keeps the cell state, and its gradient, alive "
                     "across the sequence: after a few epochs at chance the accuracy jumps to 100 %.",
                     {"name": "memory", "seq_len": 50, "n_samples": 2000}, [{"type": "lstm", "units": 32}]),
    _sequence_preset("char_rnn", "A char-RNN on the shipped text",
                     "An LSTM reads 40 characters of Shakespeare and predicts the next one. Sample from it every "
                     "few epochs: random letters first, then words, then something like verse.",
                     {"name": "text", "seq_len": 40, "n_samples": 4000}, [{"type": "lstm", "units": 128}],
                     optimizer={"name": "adam", "learning_rate": 0.005, "clipnorm": 1.0}, batch_size=64),
]
