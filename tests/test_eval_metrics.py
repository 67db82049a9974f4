"""minigan.eval.metrics: each number against a case worked out by hand (no classifier needed)."""
import numpy as np
import pytest

from minigan.eval import metrics as M
from minigan.eval.classifier import prepare_images, value_bounds


def _random_psd(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d + 3))
    return a @ a.T / a.shape[1]


def test_frechet_of_identical_statistics_is_zero(rng):
    mu, sigma = rng.standard_normal(6), _random_psd(rng, 6)
    assert M.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0, abs=1e-9)


def test_frechet_one_dimensional_closed_form():
    # FD between N(m1, s1²) and N(m2, s2²) is (m1 − m2)² + (s1 − s2)²
    fd = M.frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([-2.0]), np.array([[9.0]]))
    assert fd == pytest.approx(3.0 ** 2 + (2.0 - 3.0) ** 2)


def test_frechet_diagonal_closed_form(rng):
    v1, v2 = rng.uniform(0.1, 3, 5), rng.uniform(0.1, 3, 5)
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()
    assert M.frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("d", [2, 10, 64])
def test_frechet_matches_scipy_sqrtm(d, rng):
    linalg = pytest.importorskip("scipy.linalg", reason="SciPy's sqrtm is the reference here")
    s1, s2 = _random_psd(rng, d), _random_psd(rng, d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    covmean = linalg.sqrtm(s1 @ s2).real
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)
    assert M.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)
    assert M.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-8)  # symmetric


def test_frechet_with_singular_covariances(rng):
    """Fewer samples than dimensions (rank-deficient Σ) must stay finite and non-negative."""
    s1, s2 = _random_psd(rng, 20, rank=3), _random_psd(rng, 20, rank=5)
    fd = M.frechet_distance(np.zeros(20), s1, np.zeros(20), s2)
    assert np.isfinite(fd) and fd >= 0
    assert M.frechet_distance(np.zeros(20), s1, np.zeros(20), s1) == pytest.approx(0, abs=1e-6)


def test_sqrtm_psd(rng):
    a = _random_psd(rng, 8)
    s = M.sqrtm_psd(a)
    np.testing.assert_allclose(s @ s, a, atol=1e-10)
    np.testing.assert_allclose(s, s.T)


def test_frechet_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="mismatched statistics"):
        M.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="at least 2 samples"):
        M.feature_statistics(np.zeros((1, 5)))


def test_feature_statistics_unbiased(rng):
    f = rng.standard_normal((50, 4))
    mu, sigma = M.feature_statistics(f)
    np.testing.assert_allclose(mu, f.mean(0))
    np.testing.assert_allclose(sigma, np.cov(f.T))


def test_histogram_coverage_and_kl():
    probs = np.eye(10)[[0] * 40 + [1] * 40 + [2] * 10 + [3] * 2 + [4] * 8]   # N = 100
    hist = M.class_histogram(probs)
    np.testing.assert_array_equal(hist, [40, 40, 10, 2, 8, 0, 0, 0, 0, 0])
    # uniform share 10, covered at >= 2.5: classes 0, 1, 2, 4 (class 3 has only 2)
    assert M.classes_covered(hist) == 4
    assert M.classes_covered(hist, min_share=0.1) == 5
    h = hist / 100
    nz = h > 0
    assert M.kl_from_uniform(hist) == pytest.approx((h[nz] * np.log(10 * h[nz])).sum())


def test_ideal_and_collapsed_extremes():
    balanced = np.eye(10)[np.arange(1000) % 10]
    collapsed = np.eye(10)[np.full(1000, 7)]
    assert M.classes_covered(M.class_histogram(balanced)) == 10
    assert M.kl_from_uniform(M.class_histogram(balanced)) == pytest.approx(0, abs=1e-12)
    assert M.inception_score(balanced) == pytest.approx(10, rel=1e-6)
    assert M.classes_covered(M.class_histogram(collapsed)) == 1
    assert M.kl_from_uniform(M.class_histogram(collapsed)) == pytest.approx(np.log(10))
    assert M.inception_score(collapsed) == pytest.approx(1, rel=1e-6)
    assert M.inception_score(np.full((50, 10), 0.1)) == pytest.approx(1, rel=1e-6)  # unsure
    assert M.mean_confidence(np.full((5, 10), 0.1)) == pytest.approx(0.1)
    assert M.classes_covered(np.zeros(10)) == 0


def test_inception_score_formula(rng):
    p = rng.dirichlet(np.ones(10) * 0.3, size=40)
    marginal = p.mean(0)
    expected = np.exp(np.mean((p * np.log(p / marginal)).sum(1)))
    assert M.inception_score(p) == pytest.approx(expected, rel=1e-6)


def test_scores_row_and_text(rng):
    probs = rng.dirichlet(np.ones(10), size=30)
    feats = rng.standard_normal((30, 4))
    s = M.score_predictions(probs, feats, np.zeros(4), np.eye(4))
    row = s.as_row()
    assert set(M.DigitScores.FIELDS) <= set(row) and row["hist_0"] == s.histogram[0]
    assert "classes" in s.summary() and "Fréchet distance" in str(s)


def test_prepare_images_ranges_agree(rng):
    unit = rng.random((4, 28, 28)).astype(np.float32)
    a = prepare_images(unit, "unit")
    b = prepare_images(unit * 2 - 1, "tanh")
    c = prepare_images((unit * 255).round().astype(np.uint8)[:, None])
    d = prepare_images(unit * 4 + 1, (1.0, 5.0))
    assert a.shape == (4, 1, 28, 28) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(a, d, atol=1e-5)
    np.testing.assert_allclose(a, c, atol=0.01)


def test_prepare_images_errors():
    with pytest.raises(ValueError, match=r"outside the declared value_range 'unit'.*pass value_range='tanh'"):
        prepare_images(np.full((2, 28, 28), -1.0, np.float32), "unit")
    with pytest.raises(ValueError, match=r"expected digits of shape \(N, 28, 28\) or "
                                         r"\(N, 1, 28, 28\), got \(2, 3, 28, 28\)"):
        prepare_images(np.zeros((2, 3, 28, 28), np.float32))
    with pytest.raises(ValueError, match="value_range must be one of"):
        value_bounds("bogus")
    with pytest.raises(TypeError, match="uint8 or floating point"):
        prepare_images(np.zeros((2, 28, 28), np.int64))
