"""The initialisation helpers: shapes, norms, moments, reproducibility, bad input."""

import numpy as np
import pytest

from numerics import gaussian_init, sphere_init


def test_sphere_rows_have_the_norm():
    W = sphere_init(50, 7, 1e-3, rng=0)
    assert W.shape == (50, 7)
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1e-3, rtol=1e-12)


def test_sphere_directions_are_uniform():
    # mean of a uniform direction is 0 with per-coordinate variance 1/d; over n rows the sample mean's
    # standard error is 1/sqrt(n d): 5 standard errors is the margin
    n, d = 20000, 5
    W = sphere_init(n, d, 1.0, rng=1)
    assert np.all(np.abs(W.mean(axis=0)) < 5 / np.sqrt(n * d))
    # E[w w^T] = I/d: each second moment within 5 standard errors (var of w_j^2 <= 1/d)
    np.testing.assert_allclose(np.diag(W.T @ W) / n, 1 / d, atol=5 / np.sqrt(n * d))


def test_gaussian_moments():
    n, d, std = 20000, 4, 0.3
    W = gaussian_init(n, d, std, rng=2)
    # sample variance of N(0, s^2) has standard error s^2 sqrt(2/n): margin 5 standard errors
    np.testing.assert_allclose(W.var(axis=0), std**2, atol=5 * std**2 * np.sqrt(2 / n))


def test_same_seed_same_numbers():
    np.testing.assert_array_equal(gaussian_init(3, 4, 0.1, rng=7), gaussian_init(3, 4, 0.1, rng=7))
    np.testing.assert_array_equal(sphere_init(3, 4, 0.1, rng=7), sphere_init(3, 4, 0.1, rng=7))


@pytest.mark.parametrize("fn", [gaussian_init, sphere_init])
@pytest.mark.parametrize(
    ("args", "exc", "name"),
    [
        ((0, 3, 0.1), ValueError, "m"),
        ((2, 0, 0.1), ValueError, "d"),
        ((2.5, 3, 0.1), TypeError, "m"),
        ((2, 3, 0.0), ValueError, "std|norm"),
        ((2, 3, -1.0), ValueError, "std|norm"),
        ((2, 3, float("nan")), ValueError, "std|norm"),
        ((2, 3, "x"), TypeError, "std|norm"),
    ],
)
def test_bad_input(fn, args, exc, name):
    with pytest.raises(exc, match=name):
        fn(*args)
