"""The example notebooks run from top to bottom and still print what their stored outputs
show (the results are reproducible, so a change in the code that changes them shows here).

The kernel is this test's own Python (the venv), registered under its own name in a
temporary Jupyter path, so a kernel registered elsewhere on the machine is never used.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import install
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "examples" / "notebooks"
KERNEL = "channelsim-test"


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name=KERNEL, prefix=str(prefix))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
        # Importing Streamlit (the dashboard tests) sets MPLBACKEND=Agg for this process; a
        # kernel inheriting it would draw no inline figures.
        patch.delenv("MPLBACKEND", raising=False)
        yield KERNEL


def printed(book: nbformat.NotebookNode) -> list[tuple[int, str, str]]:
    return [
        (i, output["name"], output["text"])
        for i, cell in enumerate(book.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output["output_type"] == "stream"
    ]


def figures(book: nbformat.NotebookNode) -> list[int]:
    return [
        i
        for i, cell in enumerate(book.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]


@pytest.mark.parametrize("name", ["strategist_comparison", "researcher_sweep"])
def test_the_notebook_runs_and_prints_its_stored_outputs(name, kernel):
    stored = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert printed(stored) and figures(stored), "the notebook is stored without its outputs"
    book = copy.deepcopy(stored)
    NotebookClient(
        book, kernel_name=kernel, timeout=300, resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    assert printed(book) == printed(stored)
    assert figures(book) == figures(stored)
    assert not any(stream == "stderr" for _, stream, _ in printed(book))
