"""Every optimizer against a hand-computed update (Keras formulas), in place, with its state."""
import numpy as np
import pytest

from engine.optimizers import OPTIMIZERS, make_optimizer

P0 = np.array([1.0, -2.0])
G = np.array([0.5, 0.25])


def _two_steps(spec):
    opt = make_optimizer(spec)
    p = P0.copy()
    ref = p
    opt.step({"0.W": p}, {"0.W": G})
    first = p.copy()
    opt.step({"0.W": p}, {"0.W": G})
    assert p is ref  # updated in place
    return first, p


def _expected_sgd(lr, m=0.0, nesterov=False):
    p, v, out = P0.copy(), np.zeros(2), []
    for _ in range(2):
        v = m * v - lr * G
        p = p + (m * v - lr * G if nesterov else v) if m else p - lr * G
        out.append(p.copy())
    return out


def _expected_adam(lr, b1=0.9, b2=0.999, eps=1e-7):
    p, m, v, out = P0.copy(), np.zeros(2), np.zeros(2), []
    for t in (1, 2):
        m = b1 * m + (1 - b1) * G
        v = b2 * v + (1 - b2) * G ** 2
        # Keras folds the bias corrections into the step size; epsilon is added to sqrt(v) uncorrected
        alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p = p - alpha * m / (np.sqrt(v) + eps)
        out.append(p.copy())
    return out


def _expected_adagrad(lr, acc0=0.1, eps=1e-7):
    p, acc, out = P0.copy(), np.full(2, acc0), []
    for _ in range(2):
        acc = acc + G ** 2
        p = p - lr * G / (np.sqrt(acc) + eps)
        out.append(p.copy())
    return out


def _expected_rmsprop(lr, rho=0.9, eps=1e-7):
    p, ms, out = P0.copy(), np.zeros(2), []
    for _ in range(2):
        ms = rho * ms + (1 - rho) * G ** 2
        p = p - lr * G / (np.sqrt(ms) + eps)
        out.append(p.copy())
    return out


def _expected_adadelta(lr, rho=0.95, eps=1e-7):
    p, ag, ad, out = P0.copy(), np.zeros(2), np.zeros(2), []
    for _ in range(2):
        ag = rho * ag + (1 - rho) * G ** 2
        delta = np.sqrt(ad + eps) / np.sqrt(ag + eps) * G
        ad = rho * ad + (1 - rho) * delta ** 2
        p = p - lr * delta
        out.append(p.copy())
    return out


CASES = {
    "sgd": [({"name": "sgd", "learning_rate": 0.1}, _expected_sgd(0.1)),
            ({"name": "sgd", "learning_rate": 0.1, "momentum": 0.9}, _expected_sgd(0.1, 0.9)),
            ({"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True}, _expected_sgd(0.1, 0.9, True))],
    "adam": [({"name": "adam", "learning_rate": 0.01}, _expected_adam(0.01))],
    "adagrad": [({"name": "adagrad", "learning_rate": 0.1}, _expected_adagrad(0.1))],
    "rmsprop": [({"name": "rmsprop", "learning_rate": 0.01}, _expected_rmsprop(0.01))],
    "adadelta": [({"name": "adadelta", "learning_rate": 1.0}, _expected_adadelta(1.0))],
}


def test_every_optimizer_has_a_hand_computed_case():
    assert set(CASES) == set(OPTIMIZERS.names())


@pytest.mark.parametrize("spec,expected", [c for cases in CASES.values() for c in cases],
                         ids=lambda v: v["name"] + str(sorted(v.items())) if isinstance(v, dict) else "")
def test_two_steps_match_hand_computed_updates(spec, expected):
    first, second = _two_steps(spec)
    np.testing.assert_allclose(first, expected[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(second, expected[1], rtol=1e-12, atol=1e-12)


def test_first_sgd_step_by_hand():
    # w = 1 - 0.1 * 0.5 = 0.95 ; w = -2 - 0.1 * 0.25 = -2.025
    first, _ = _two_steps({"name": "sgd", "learning_rate": 0.1})
    np.testing.assert_allclose(first, [0.95, -2.025])


def test_first_adam_step_moves_each_weight_by_learning_rate():
    # bias correction makes the first step lr * sign(g) (up to epsilon)
    first, _ = _two_steps({"name": "adam", "learning_rate": 0.01})
    np.testing.assert_allclose(first, P0 - 0.01 * np.sign(G), rtol=1e-6)


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_defaults_and_float32_stays_float32(name):
    opt = make_optimizer({"name": name})
    p = np.ones(3, dtype=np.float32)
    opt.step({"0.W": p}, {"0.W": np.full(3, 0.1, dtype=np.float32)})
    assert p.dtype == np.float32 and np.all(p < 1)
    # Keras' defaults, except AdaDelta's 1.0 from Zeiler's paper and the lecture (Keras' 0.001 barely moves)
    defaults = {"sgd": 0.01, "adam": 0.001, "rmsprop": 0.001, "adagrad": 0.001, "adadelta": 1.0}
    assert opt.learning_rate == defaults[name]


def test_bad_optimizer_option_names_field_and_range():
    with pytest.raises(ValueError, match=r"training\.optimizer\.momentum: must be >= 0 and <= 1, got 2"):
        make_optimizer({"name": "sgd", "momentum": 2})
    with pytest.raises(ValueError, match="adadelta"):
        make_optimizer({"name": "adamw"})


def test_adadelta_at_its_default_rate_learns_where_keras_rate_crawls():
    import engine
    def run(lr):
        spec = {"dataset": {"name": "gauss", "n_samples": 200, "seed": 3},
                "model": {"layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                                     {"type": "dense", "units": 2, "activation": "softmax"}],
                          "loss": "categorical_crossentropy"},
                "training": {"optimizer": {"name": "adadelta", **lr}, "epochs": 20, "seed": 0}}
        history = engine.train(spec).history
        return history[-1]["test_accuracy"], history[-1]["train_loss"] / history[0]["train_loss"]
    accuracy, shrink = run({})
    assert accuracy > 0.95 and shrink < 0.5
    accuracy, shrink = run({"learning_rate": 0.001})                 # Keras' default: the loss hardly moves
    assert shrink > 0.98


def test_learning_rates_up_to_100_are_allowed_and_above_refused():
    assert make_optimizer({"name": "sgd", "learning_rate": 100}).learning_rate == 100
    with pytest.raises(ValueError, match=r"learning_rate: must be > 0 and <= 100"):
        make_optimizer({"name": "adam", "learning_rate": 101})


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_every_optimizer_takes_clipnorm_and_clipvalue_defaulting_to_off(name):
    opt = make_optimizer(name)
    assert opt.config["clipnorm"] is None and opt.config["clipvalue"] is None and not opt.clipping


def test_clipvalue_clips_each_element_before_the_step():
    opt = make_optimizer({"name": "sgd", "learning_rate": 0.1, "clipvalue": 0.3})
    p, g = P0.copy(), G.copy()
    opt.step({"0.W": p}, {"0.W": g})
    np.testing.assert_allclose(p, [1.0 - 0.1 * 0.3, -2.0 - 0.1 * 0.25])
    np.testing.assert_array_equal(g, G)            # the model's gradient is left as it was


def test_clipnorm_rescales_each_weight_array_to_the_norm_by_hand():
    opt = make_optimizer({"name": "sgd", "learning_rate": 1.0, "clipnorm": 0.5})
    w, b = np.zeros(2), np.zeros(1)
    gw, gb = np.array([3.0, 4.0]), np.array([0.2])      # |gw| = 5 -> scaled by 0.1; |gb| = 0.2 stays
    opt.step({"0.W": w, "0.b": b}, {"0.W": gw, "0.b": gb})
    np.testing.assert_allclose(w, [-0.3, -0.4])
    np.testing.assert_allclose(b, [-0.2])


def test_clipnorm_on_a_flat_vector_clips_each_packed_array_separately():
    opt = make_optimizer({"name": "sgd", "learning_rate": 1.0, "clipnorm": 0.5})
    opt.segments = {"flat": np.array([0, 2])}           # "0.W" at [0, 2), "0.b" at [2, 3)
    p, g = np.zeros(3), np.array([3.0, 4.0, 0.2])
    opt.step({"flat": p}, {"flat": g})
    np.testing.assert_allclose(p, [-0.3, -0.4, -0.2])


def test_adam_with_clipnorm_steps_from_the_clipped_gradient():
    plain = make_optimizer({"name": "adam", "learning_rate": 0.01})
    clipped = make_optimizer({"name": "adam", "learning_rate": 0.01, "clipnorm": 0.1})
    p1, p2, g = np.array([1.0, -2.0]), np.array([1.0, -2.0]), np.array([0.06, 0.08])   # norm 0.1
    plain.step({"k": p1}, {"k": g})
    clipped.step({"k": p2}, {"k": g * 10})              # norm 1 -> scaled to 0.1: g again
    np.testing.assert_allclose(p1, p2, rtol=1e-15)
    np.testing.assert_allclose(clipped.state["k"]["m"], 0.1 * g)   # the moments saw the clipped gradient


def test_clipping_options_are_refused_outside_their_range():
    from engine.errors import SpecError
    with pytest.raises(SpecError, match="clipnorm"):
        make_optimizer({"name": "adam", "clipnorm": 0})
    with pytest.raises(SpecError, match="clipvalue"):
        make_optimizer({"name": "sgd", "clipvalue": -1})


@pytest.mark.parametrize("name", sorted(OPTIMIZERS.names()))
def test_a_long_vector_updated_in_ranges_gets_the_bits_of_one_update(name):
    """Optimizer.update_chunked (ranges of UPDATE_CHUNK values, kept in cache) equals one whole-vector update."""
    from engine.optimizers import UPDATE_CHUNK, make_optimizer
    rng = np.random.default_rng(5)
    n = 2 * UPDATE_CHUNK + 1234                        # three ranges, the last one short
    p0 = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    spec = {"name": name, **({"momentum": 0.9} if name in ("sgd", "rmsprop") else {})}
    ranged, whole = make_optimizer(spec), make_optimizer(spec)
    p_ranged, p_whole = p0.copy(), p0.copy()
    whole.update_chunked = whole.update                # the reference: one update over the whole vector
    for g in grads:
        ranged.step({"flat": p_ranged}, {"flat": g})
        whole.step({"flat": p_whole}, {"flat": g})
    assert not np.array_equal(p_ranged, p0)
    assert np.array_equal(p_ranged, p_whole)
    for slot in ranged.state["flat"]:
        assert np.array_equal(ranged.state["flat"][slot], whole.state["flat"][slot]), slot


def test_subnormal_state_is_flushed_to_zero_and_the_weights_keep_their_bits(monkeypatch):
    """A weight whose gradient stays 0 has its Adam average decay into the subnormal range and stick there
    (slow arithmetic on x86); every FLUSH_EVERY steps the state's subnormals become 0, which moves no weight."""
    import engine.optimizers as opt_module
    from engine.optimizers import FLUSH_EVERY, flush_subnormals
    tiny = np.finfo(np.float32).tiny
    a = np.array([tiny / 4, -tiny / 1000, tiny, 1e-3, 0.0], np.float32)
    flush_subnormals(a)
    assert a.tolist() == [0.0, 0.0, float(tiny), float(np.float32(1e-3)), 0.0]

    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(64).astype(np.float32)
    g = rng.standard_normal(64).astype(np.float32)
    g[:32] = 0                                                # dead units: their gradient stays 0
    m0 = np.where(np.arange(64) < 32, tiny / 8, 0.01).astype(np.float32)   # their averages already subnormal

    def run(flush_every):
        monkeypatch.setattr(opt_module, "FLUSH_EVERY", flush_every)
        opt, p = make_optimizer({"name": "adam"}), p0.copy()
        opt.state["flat"] = {"m": m0.copy(), "v": np.full(64, 1e-4, np.float32)}
        for _ in range(FLUSH_EVERY):
            opt.step({"flat": p}, {"flat": g})
        return p, opt.state["flat"]["m"]

    p_flushed, m_flushed = run(FLUSH_EVERY)
    p_kept, m_kept = run(10 ** 9)
    assert ((m_kept != 0) & (np.abs(m_kept) < tiny)).sum() == 32      # without the flush they stay subnormal
    assert not ((m_flushed != 0) & (np.abs(m_flushed) < tiny)).any()
    assert np.array_equal(p_flushed, p_kept)                           # and no weight moved differently
