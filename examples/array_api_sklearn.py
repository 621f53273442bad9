"""scikit-learn's array API support running on eager tensors, eagerly and under @jit.

Needs `pip install scikit-learn array-api-compat` and SCIPY_ARRAY_API=1 in the environment
before scipy or sklearn is first imported (scikit-learn refuses array_api_dispatch
otherwise).

Run: SCIPY_ARRAY_API=1 python examples/array_api_sklearn.py
"""
import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

import eager
from jit import jit


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs in 4-d, 30 points each, and their labels."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(0.0, 1.0, (30, 4)), rng.normal(2.0, 1.0, (30, 4))])
    return x, np.repeat([0, 1], 30)


def main() -> None:
    x_np, y_np = data()
    x, y = eager.asarray(x_np), eager.asarray(y_np)
    with sklearn.config_context(array_api_dispatch=True):
        lda = LinearDiscriminantAnalysis().fit(x, y)       # fitted on eager tensors
        labels = lda.predict(x)                            # an eager.Tensor
        projected = PCA(n_components=2, svd_solver="full").fit_transform(x)

        @jit
        def scores(batch):
            return lda.decision_function(batch)

        @jit
        def pca_2d(batch):
            return PCA(n_components=2, svd_solver="full").fit_transform(batch)

        jitted_scores = [scores(x) for _ in range(2)][-1]   # the 2nd call replays
        jitted_pca = [pca_2d(x) for _ in range(2)][-1]
    reference = LinearDiscriminantAnalysis().fit(x_np, y_np)
    np.testing.assert_array_equal(labels.numpy(), reference.predict(x_np))
    np.testing.assert_allclose(jitted_scores.numpy(), reference.decision_function(x_np),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.abs(projected.numpy()),
                               np.abs(PCA(n_components=2).fit_transform(x_np)), rtol=1e-8,
                               atol=1e-10)
    np.testing.assert_allclose(jitted_pca.numpy(), projected.numpy(), rtol=1e-10, atol=1e-10)
    print(f"LDA on eager tensors: {type(labels).__name__}, accuracy "
          f"{float((labels == y).astype(eager.float64).mean()):.2f}, same labels as numpy")
    print(f"PCA on eager tensors: {tuple(projected.shape)}; under @jit: "
          f"{scores.cache_info().hits} replay of LDA scores, {pca_2d.cache_info().hits} of PCA")


if __name__ == "__main__":
    main()
