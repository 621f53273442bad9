"""The teaching notebooks in `notebooks/`: stored without outputs, and each one runs top to
bottom in a fresh kernel with its assertions passing and nothing written to stderr."""
import os
import time

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK_DIR = os.path.join(ROOT, "notebooks")
NOTEBOOKS = [
    "01_tensors_and_autograd.ipynb",
    "02_immediate_vs_deferred.ipynb",
    "03_jit_for_speed.ipynb",
    "04_control_flow_trace_vs_script.ipynb",
    "05_train_and_deploy.ipynb",
]
TIME_LIMIT_S = 120


def stored_output_problems(nb) -> list[str]:
    """What a committed notebook must not hold: outputs or execution counts."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i} has {len(cell.outputs)} output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i} has execution_count {cell.execution_count}")
    return problems


def bad_run_outputs(nb) -> list[str]:
    """Outputs of an executed notebook a reader should never see: errors and stderr
    (warnings, tracebacks, log noise)."""
    problems = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(f"cell {i}: {out.ename}: {out.evalue}")
            elif out.output_type == "stream" and out.name == "stderr":
                problems.append(f"cell {i} wrote to stderr: {out.text[:300]}")
    return problems


def test_the_notebook_folder_holds_exactly_the_listed_notebooks():
    found = sorted(f for f in os.listdir(NOTEBOOK_DIR) if f.endswith(".ipynb"))
    assert found == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_has_no_outputs(name):
    nb = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    nbformat.validate(nb)
    assert stored_output_problems(nb) == [], f"{name}: clear its outputs before committing"


def test_the_output_check_catches_outputs_and_counts():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("text"), nbformat.v4.new_code_cell("1 + 1")]
    assert stored_output_problems(nb) == []
    nb.cells[1].execution_count = 3
    nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"},
                                                  execution_count=3)]
    assert stored_output_problems(nb) == ["cell 1 has 1 output(s)",
                                          "cell 1 has execution_count 3"]


def test_the_run_check_catches_errors_and_stderr():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="UserWarning: x"),
                    nbformat.v4.new_output("error", ename="AssertionError", evalue="",
                                           traceback=[])]
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell]
    assert bad_run_outputs(nb) == ["cell 0 wrote to stderr: UserWarning: x",
                                   "cell 0: AssertionError: "]


@pytest.mark.slow
@pytest.mark.timeout(TIME_LIMIT_S + 60)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    # The kernel is a fresh process: make it import this checkout's packages.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    nb = nbformat.read(os.path.join(NOTEBOOK_DIR, name), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=TIME_LIMIT_S, kernel_name="python3",
                                     resources={"metadata": {"path": ROOT}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    assert bad_run_outputs(nb) == []
    assert elapsed < TIME_LIMIT_S, f"{name} took {elapsed:.0f} s"
