"""MkDocs hooks: every course chapter also ships as a Jupyter notebook made from the same Markdown.

A chapter is Markdown whose ```` ```python exec="on" ... ```` blocks markdown-exec runs at build time. The
same text, read by jupytext's Markdown reader, becomes a notebook: those blocks turn into code cells and the
prose into Markdown cells, so the site and the notebooks cannot drift apart. ``tests/test_docs.py`` runs the
notebooks top to bottom with nbclient.
"""
from __future__ import annotations

import os
import re

COURSE_DIR = "course"
NOTEBOOK_DIR = "notebooks"
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def chapter_sources(docs_dir: str) -> list[str]:
    """The course chapters' Markdown files (``NNN-name.md``), in order."""
    folder = os.path.join(docs_dir, COURSE_DIR)
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if name.endswith(".md") and name[:3].isdigit())


def notebook_from_markdown(text: str):
    """The notebook (an ``nbformat`` node) of one chapter's Markdown: code cells for the executed blocks."""
    import jupytext

    notebook = jupytext.reads(text, fmt="md")
    for cell in notebook.cells:
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    return notebook


def notebook_name(markdown_path: str) -> str:
    return os.path.splitext(os.path.basename(markdown_path))[0] + ".ipynb"


SPHINX_ROLE = re.compile(r":(?:class|meth|func|attr|mod|exc|data|obj):<code>(~(?:[\w.]*\.)?)?([^<]*)</code>")


def on_page_content(html, page, config, files):
    """Docstrings cross-reference in Sphinx style (``:class:`Dense```), which mkdocstrings leaves as text
    before the code span; drop the role so the page shows just the name (``~a.b.C`` shows as ``C``)."""
    return SPHINX_ROLE.sub(lambda match: f"<code>{match.group(2)}</code>", html)


def on_files(files, config):
    """Add ``notebooks/NNN-name.ipynb`` for every chapter, built from its Markdown at build time."""
    import nbformat
    from mkdocs.structure.files import File

    for path in chapter_sources(config["docs_dir"]):
        with open(path, encoding="utf-8") as handle:
            notebook = notebook_from_markdown(handle.read())
        content = nbformat.writes(notebook)
        files.append(File.generated(config, f"{NOTEBOOK_DIR}/{notebook_name(path)}", content=content))
    return files
