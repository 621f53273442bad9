"""The README's array API example: scikit-learn (array_api_dispatch=True) fitting
LinearDiscriminantAnalysis and PCA on eager tensors, eagerly and under @jit, with the
same results as on numpy arrays. Skips without scikit-learn and array-api-compat."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_sklearn_lda_and_pca_on_eager_tensors_and_under_jit():
    pytest.importorskip("sklearn")
    pytest.importorskip("array_api_compat")
    # scipy reads SCIPY_ARRAY_API once, at its first import, so the example runs in a
    # process of its own.
    env = dict(os.environ, SCIPY_ARRAY_API="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "array_api_sklearn.py")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "same labels as numpy" in proc.stdout
    assert "1 replay of LDA scores, 1 of PCA" in proc.stdout
