"""The documentation site: built in strict mode (a warning, a broken link or a failing code block fails),
offline (no asset from another host), with every public name in the API reference, and the course chapters
run top to bottom as Jupyter notebooks made from the same Markdown. A browser test looks at three pages at a
desktop and a phone size (the ``browser`` fixture of tests/conftest.py) and saves screenshots to artifacts/."""
from __future__ import annotations

import html.parser
import importlib
import importlib.util
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import zlib

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DOCS = os.path.join(ROOT, "docs")
ARTIFACTS = os.path.join(ROOT, "artifacts")
# the faces with their own reference (the command line page) or none (the playground's internals)
NOT_IN_API_REFERENCE = ("glassnet.cli", "glassnet.web", "glassnet.__main__")

pytest.importorskip("mkdocs", reason="the docs extra builds the site")
pytest.importorskip("markdown_exec", reason="the docs extra runs the code blocks")
pytest.importorskip("mkdocstrings", reason="the docs extra writes the API reference")


def _hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", os.path.join(ROOT, "scripts", "docs_hooks.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _quiet_env(**extra) -> dict:
    """One BLAS thread per process: the test run already keeps both cores busy with its own workers."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(
                   p for p in (os.path.join(ROOT, "src"), os.environ.get("PYTHONPATH")) if p))
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def site():
    """The site built once per test run, even when several xdist workers ask for it (a file lock and a
    stamp naming the run). Fails with mkdocs's log when the strict build fails."""
    from filelock import FileLock

    build = os.path.join(ROOT, "build")
    os.makedirs(build, exist_ok=True)
    site_dir, stamp = os.path.join(build, "docs-site"), os.path.join(build, "docs-site.stamp")
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid-{os.getpid()}"
    with FileLock(os.path.join(build, "docs-site.lock")):
        if not (os.path.exists(stamp) and open(stamp).read().startswith(run_id + "\n")):
            done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", site_dir],
                                  cwd=ROOT, env=_quiet_env(), capture_output=True, text=True, timeout=900)
            with open(stamp, "w") as handle:
                handle.write(f"{run_id}\n{done.returncode}\n{done.stdout}\n{done.stderr}")
        lines = open(stamp).read().split("\n", 2)
    if lines[1] != "0":
        pytest.fail(f"mkdocs build --strict failed:\n{lines[2][-8000:]}")
    return site_dir


def _files(folder: str, suffix: str) -> list[str]:
    return [os.path.join(d, f) for d, _, names in os.walk(folder) for f in names if f.endswith(suffix)]


class _AssetFinder(html.parser.HTMLParser):
    """Every URL the browser would fetch by itself: scripts, styles, images, frames, media, preloads."""

    FETCHED = {"script": ("src",), "img": ("src", "srcset"), "iframe": ("src",), "source": ("src", "srcset"),
               "video": ("src", "poster"), "audio": ("src",), "embed": ("src",), "object": ("data",),
               "link": ("href",), "input": ("src",)}

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("rel") in ("canonical", "alternate", "prev", "next"):
            return  # navigation metadata, never fetched
        for name in self.FETCHED.get(tag, ()):
            if attrs.get(name):
                self.urls.append((tag, attrs[name]))
        style = attrs.get("style") or ""
        self.urls += [("style", url) for url in re.findall(r"url\(['\"]?([^'\")]+)", style)]


def test_site_builds_strict_and_has_every_page(site):
    for page in ["index.html", "course/000-dials.html", "course/001-chain-rule.html", "course/002-descent.html",
                 "course/003-xor.html", "course/004-digits.html", "howto/csv.html", "howto/sklearn-dask.html",
                 "howto/checkpoints.html", "howto/onnx.html", "howto/speed.html", "reference/model.html",
                 "reference/cli.html"]:
        assert os.path.getsize(os.path.join(site, page)) > 5000, page
    digits = open(os.path.join(site, "course", "004-digits.html"), encoding="utf-8").read()
    assert digits.count('src="data:image/png;base64,') >= 3  # the plots made at build time are on the page
    assert "Traceback" not in digits


def test_site_loads_nothing_from_another_host(site):
    external = re.compile(r"^(https?:)?//", re.IGNORECASE)
    found = []
    for path in _files(site, ".html"):
        finder = _AssetFinder()
        finder.feed(open(path, encoding="utf-8").read())
        found += [(os.path.relpath(path, site), tag, url) for tag, url in finder.urls if external.match(url.strip())]
    for path in _files(site, ".css"):
        text = open(path, encoding="utf-8").read()
        found += [(os.path.relpath(path, site), "css", url) for url in re.findall(r"url\(['\"]?((?:https?:)?//[^'\")]+)", text)]
        found += [(os.path.relpath(path, site), "css", m) for m in re.findall(r"@import\s+(?:url\()?['\"]?(?:https?:)?//[^;]+", text)]
    assert not found, f"assets fetched from other hosts: {found[:10]}"
    assert not any("fonts.googleapis" in open(p, encoding="utf-8").read() for p in _files(site, ".html"))


def _public_names() -> dict[str, object]:
    """Every public module of the API reference, with its public classes and functions and their public
    methods and properties: {dotted name: object}."""
    import glassnet

    names = {}
    modules = ["glassnet." + m.name for m in pkgutil.iter_modules(glassnet.__path__) if not m.name.startswith("_")]
    for module_name in modules:
        if module_name.startswith(NOT_IN_API_REFERENCE):
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # an optional extra this machine lacks (numba for the compiled engine)
            continue
        names[module_name] = module
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != module_name:
                continue
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            names[f"{module_name}.{attr}"] = obj
            if inspect.isclass(obj):
                for member, value in vars(obj).items():
                    if member.startswith("_") or inspect.isclass(value):  # a class attribute naming another class
                        continue
                    if not (callable(value) or isinstance(value, (property, staticmethod, classmethod))):
                        continue
                    names[f"{module_name}.{attr}.{member}"] = getattr(obj, member)
    return names


def _own_words(obj, doc) -> bool:
    """A docstring someone wrote: not empty, and not the signature a dataclass makes up when there is none."""
    doc = (doc or "").strip()
    return bool(doc) and not (inspect.isclass(obj) and doc.startswith(obj.__name__ + "("))


def _inventory(site: str) -> set[str]:
    with open(os.path.join(site, "objects.inv"), "rb") as handle:
        raw = handle.read()
    body = zlib.decompress(raw.split(b"\n", 4)[4]).decode("utf-8")
    return {line.split(" ", 1)[0] for line in body.splitlines() if line.strip()}


def test_every_public_name_has_a_docstring_and_a_reference_entry(site):
    """Every public name says what it does, and the reference shows it. An override that only inherits its
    base's docstring (a callback hook, a cost's get_config) is shown with its base class."""
    names = _public_names()
    assert len(names) > 250
    undocumented = sorted(name for name, obj in names.items() if not _own_words(obj, inspect.getdoc(obj)))
    assert not undocumented, f"{len(undocumented)} public names without a docstring: {undocumented}"
    documented = _inventory(site)
    missing = sorted(name for name, obj in names.items()
                     if _own_words(obj, getattr(obj, "__doc__", None)) and name not in documented)
    assert not missing, f"{len(missing)} public names missing from the API reference: {missing}"


def test_shipped_notebooks_are_made_from_the_chapters(site):
    import nbformat

    hooks = _hooks()
    chapters = hooks.chapter_sources(DOCS)
    assert len(chapters) == 5
    for chapter in chapters:
        shipped = nbformat.read(os.path.join(site, "notebooks", hooks.notebook_name(chapter)), as_version=4)
        fenced = re.findall(r"```python exec=\"on\"[^\n]*\n(.*?)\n```", open(chapter, encoding="utf-8").read(), re.S)
        code = [cell.source for cell in shipped.cells if cell.cell_type == "code"]
        assert code == fenced, chapter


@pytest.mark.parametrize("chapter", [os.path.basename(p) for p in _hooks().chapter_sources(DOCS)])
def test_chapter_notebook_runs_top_to_bottom(chapter, tmp_path):
    pytest.importorskip("nbclient", reason="the docs extra runs the notebooks")
    pytest.importorskip("ipykernel", reason="the notebooks need a Python kernel")
    from nbclient import NotebookClient

    hooks = _hooks()
    with open(os.path.join(DOCS, "course", chapter), encoding="utf-8") as handle:
        notebook = hooks.notebook_from_markdown(handle.read())
    env_backup = dict(os.environ)
    os.environ.update(_quiet_env())  # the kernel inherits this process's environment
    try:
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum(o.output_type == "stream" for o in outputs) >= 4  # the printed numbers (4 cells print in 002)
    if chapter != "001-chain-rule.md":
        assert any("image/png" in o.get("data", {}) for o in outputs)  # the figures, inline


@pytest.mark.parametrize("width,height", [(1400, 900), (390, 844)])
def test_three_pages_in_chromium(site, browser, width, height):
    """The home page, a course chapter and an API page render from disk with no request leaving the machine,
    no script error and nothing wider than the window; screenshots go to artifacts/."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height})
    outside, errors = [], []
    context.route(re.compile(r"^https?://.*"), lambda route: (outside.append(route.request.url), route.abort()))
    for page_path, heading in [("index.html", "glassnet"), ("course/003-xor.html", "XOR"),
                               ("reference/model.html", "Network and layers")]:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto("file://" + os.path.join(site, page_path))
        page.wait_for_load_state("load")
        assert heading in page.locator("article h1").first.inner_text()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{page_path} is {overflow}px wider than a {width}px window"
        name = page_path.replace("/", "-").replace(".html", "")
        page.screenshot(path=os.path.join(ARTIFACTS, f"docs-{name}-{width}x{height}.png"))
        page.screenshot(path=os.path.join(ARTIFACTS, f"docs-{name}-{width}x{height}-full.png"), full_page=True)
        page.close()
    context.close()
    assert not outside, f"pages asked other hosts for: {outside}"
    assert not errors, errors
