#!/usr/bin/env python3
"""Run every command of the README as a newcomer would, and fail on any difference from what it says.

    python3 scripts/readme_check.py                      # everything, the whole test suite included
    python3 scripts/readme_check.py --skip-test-suite    # all but `bash scripts/test.sh` (slow)

What it does:
1. copies the checkout (the files git tracks or would track) into a fresh folder, as a clone would be;
2. creates a fresh virtual environment there (no system site-packages) and runs the README's commands in
   it, from that folder, with the environment's bin/ first on PATH;
3. checks what the README says about them:
   - every ```bash block: each line exits with status 0; a ``# prints: A / B`` comment gives the lines it
     prints (``...`` within a line matches anything; a line that is just ``...`` matches any lines);
   - every ```python block runs; a ``print(...)  # prints: X`` line must print X;
   - the set-up command's promises: the test accuracy it names and the PNG files in plots/;
   - the tutorial's output blocks: each of their lines appears in ``glassnet explain xor-article``;
   - ``glassnet playground`` prints the URL the README gives, and that URL serves the page; ``mkdocs serve``
     serves the site at the URL its comment gives (both servers are stopped after the check);
   - the inline ``glassnet ...`` commands of the prose (without placeholders) exit with status 0.
Prints one line per check and a summary; exit status 1 if any check failed.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRINTS = re.compile(r"#\s*prints:\s*(.*)$")
RECORDER = '''
import builtins, inspect, io, json
_calls = []
_print = builtins.print
def print(*args, **kwargs):
    buffer = io.StringIO()
    _print(*args, **{**kwargs, "file": buffer})
    _calls.append([inspect.currentframe().f_back.f_lineno, buffer.getvalue()])
    _print(*args, **kwargs)
builtins.print = print
import atexit
atexit.register(lambda: open("prints.json", "w").write(json.dumps(_calls)))
'''


class Checker:
    def __init__(self, folder: str, skip_suite: bool):
        self.folder, self.skip_suite = folder, skip_suite
        self.venv = os.path.join(folder, "venv")
        self.work = os.path.join(folder, "glassnet")
        self.failures, self.passed, self.skipped = [], 0, []
        self.env = dict(os.environ, PATH=os.path.join(self.venv, "bin") + os.pathsep + os.environ["PATH"],
                        VIRTUAL_ENV=self.venv)
        self.env.pop("PYTHONPATH", None)
        self.env.pop("PYTHONHOME", None)

    # ---- bookkeeping ----------------------------------------------------------------------------------
    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        print(("ok    " if ok else "FAIL  ") + what + ("" if ok or not detail else f"\n      {detail}"), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)
        return ok

    def skip(self, what: str, why: str) -> None:
        print(f"skip  {what} ({why})", flush=True)
        self.skipped.append(what)

    def shell(self, command: str, timeout: int = 1800):
        return subprocess.run(["bash", "-c", command], cwd=self.work, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    # ---- set-up ---------------------------------------------------------------------------------------
    def prepare(self) -> None:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                                capture_output=True).stdout.decode().split("\0")
        for name in filter(None, listed):
            source = os.path.join(ROOT, name)
            if os.path.isfile(source):
                target = os.path.join(self.work, name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(source, target)
        subprocess.run([sys.executable, "-m", "venv", self.venv], check=True)
        print(f"fresh checkout in {self.work}, fresh virtual environment in {self.venv}", flush=True)

    # ---- the blocks -----------------------------------------------------------------------------------
    def run_bash_block(self, code: str, line: int) -> None:
        for offset, command in enumerate(code.splitlines()):
            if not command.strip():
                continue
            where = f"README line {line + offset + 1}: {command.split('  #')[0].strip()[:90]}"
            if command.strip() == "bash scripts/test.sh" and self.skip_suite:
                self.skip(where, "--skip-test-suite")
                continue
            if command.startswith("glassnet playground"):
                self.check_playground(command, where)
                continue
            if command.startswith("mkdocs serve"):  # a server that runs until stopped
                self.check_docs_server(command, where)
                continue
            result = self.shell(command.split("  #")[0])
            if not self.check(result.returncode == 0, where, f"exit {result.returncode}: {result.stderr[-800:]}"):
                continue
            expected = PRINTS.search(command)
            if expected:
                self.check(matches(result.stdout, expected.group(1)), f"{where}: prints {expected.group(1)!r}",
                           f"printed {result.stdout[-400:]!r}")
            if "glassnet train --dataset digits25" in command:
                self.check_setup_promises(result.stdout)

    def run_python_block(self, code: str, line: int) -> None:
        script = os.path.join(self.work, f"readme_block_{line}.py")
        header_lines = RECORDER.count("\n")
        with open(script, "w") as handle:
            handle.write(RECORDER + code)
        result = subprocess.run([os.path.join(self.venv, "bin", "python"), script], cwd=self.work, env=self.env,
                                capture_output=True, text=True, timeout=1800)
        where = f"README line {line}: python block"
        if not self.check(result.returncode == 0, where, f"exit {result.returncode}: {result.stderr[-800:]}"):
            return
        import json

        with open(os.path.join(self.work, "prints.json")) as handle:
            calls = json.load(handle)
        for number, text in enumerate(code.splitlines(), start=1):
            expected = PRINTS.search(text)
            if expected:
                printed = "".join(out for at, out in calls if at == number + header_lines)
                self.check(matches(printed, expected.group(1)),
                           f"README line {line + number}: prints {expected.group(1)!r}", f"printed {printed!r}")

    # ---- promises made in prose -----------------------------------------------------------------------
    def check_setup_promises(self, stdout: str) -> None:
        readme = read_readme()
        promised = re.search(r"(\d+\.\d+) % with the default seed 0", readme)
        measured = re.search(r"test: loss [\d.]+, accuracy ([\d.]+)%", stdout)
        self.check(bool(promised and measured and promised.group(1) == measured.group(1)),
                   f"set-up: test accuracy {promised.group(1) if promised else '?'} % as the README says",
                   f"measured {measured.group(1) if measured else 'nothing'} %")
        names = re.search(r"plus `model\.npz` and (\w+) PNG plots in `plots/`\s*\(([^;)]*)", readme)
        files = sorted(f for f in os.listdir(os.path.join(self.work, "plots")) if f.endswith(".png"))
        said = sorted(re.findall(r"`([\w.]+\.png)`", names.group(2))) if names else []
        words = {"two": 2, "three": 3, "four": 4, "five": 5}
        count = words.get(names.group(1), -1) if names else -1
        self.check(files == said and len(files) == count and os.path.isfile(os.path.join(self.work, "model.npz")),
                   f"set-up: model.npz and the {names.group(1) if names else '?'} PNGs the README names",
                   f"README names {said} ({count}); plots/ holds {files}")

    def check_tutorial(self, blocks) -> None:
        result = self.shell("glassnet explain xor-article")
        if not self.check(result.returncode == 0, "glassnet explain xor-article", result.stderr[-400:]):
            return
        printed = {line.strip() for line in result.stdout.splitlines()}
        for code, line in blocks:
            missing = [text.strip() for text in code.splitlines() if text.strip() and text.strip() not in printed]
            self.check(not missing, f"README line {line}: tutorial output appears in glassnet explain xor-article",
                       f"not printed: {missing[:3]}")

    def check_playground(self, command: str, where: str) -> None:
        url = re.search(r"prints (http://\S+)", command)
        process = subprocess.Popen(["bash", "-c", "exec " + command.split("#")[0]], cwd=self.work, env=self.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = process.stdout.readline()
            ok = bool(url) and url.group(1) in first
            if self.check(ok, f"{where}: prints {url.group(1) if url else '?'}",
                          f"printed {first!r}; stderr {process.stderr.read() if process.poll() is not None else ''}"):
                self.check(fetch(url.group(1)), f"{where}: {url.group(1)} serves the page")
        finally:
            process.terminate()
            process.wait(timeout=30)

    def check_docs_server(self, command: str, where: str) -> None:
        """``mkdocs serve``: it builds the site, then serves the URL its comment gives until it is stopped."""
        url = re.search(r"#\s*(http://\S+)", command)
        process = subprocess.Popen(["bash", "-c", "exec " + command.split("#")[0]], cwd=self.work, env=self.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            served = bool(url) and any(fetch(url.group(1)) for _ in range(12))  # the first build takes a while
            self.check(served, f"{where}: {url.group(1) if url else '?'} serves the site", "nothing served in 2 min")
        finally:
            process.terminate()
            process.wait(timeout=30)

    def check_inline_commands(self, readme: str) -> None:
        for command in sorted(set(re.findall(r"`(glassnet [^`]+)`", readme))):
            if "..." in command or re.search(r"\b[A-Z]{3,}\b", command) or command.startswith("glassnet playground"):
                continue  # placeholders, or the server (checked above)
            result = self.shell(command)
            self.check(result.returncode == 0, f"inline `{command}`", f"exit {result.returncode}: {result.stderr[-400:]}")
        for command in sorted(set(re.findall(r"`(python3 benchmarks/[^`]+)`", readme))):
            self.skip(f"inline `{command}`", "a benchmark: minutes of machine time, run by hand")

    def run_inline_installs(self, prose: str) -> None:
        """`python3 -m pip install ...` commands written in the prose before a block run before that block."""
        for command in re.findall(r"`(python3 -m pip install [^`]+)`", prose):
            result = self.shell(command)
            self.check(result.returncode == 0, f"inline `{command}`", f"exit {result.returncode}: {result.stderr[-400:]}")

    def run_all(self) -> int:
        self.prepare()
        readme = read_readme()
        tutorial = []
        for language, code, line, section, prose in blocks_of(readme):
            self.run_inline_installs(prose)
            if language == "bash":
                self.run_bash_block(code, line)
            elif language == "python":
                self.run_python_block(code, line)
            elif section.startswith("Tutorial"):
                tutorial.append((code, line))
        self.check_tutorial(tutorial)
        self.check_inline_commands(readme)
        print(f"\n{self.passed} checks passed, {len(self.failures)} failed, {len(self.skipped)} skipped")
        for failure in self.failures:
            print(f"  failed: {failure}")
        return 1 if self.failures else 0


def read_readme() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        return handle.read()


def blocks_of(readme: str):
    """(language, code, line of the opening fence, section title, prose since the previous block) for every
    fenced block."""
    section, found, lines = "", [], readme.splitlines()
    index, prose = 0, []
    while index < len(lines):
        text = lines[index]
        if text.startswith("## "):
            section = text[3:]
        if text.startswith("```"):
            end = next(k for k in range(index + 1, len(lines)) if lines[k].startswith("```"))
            found.append((text[3:].strip(), "\n".join(lines[index + 1:end]), index + 1, section, "\n".join(prose)))
            index, prose = end, []
        else:
            prose.append(text)
        index += 1
    return found


def matches(printed: str, expected: str) -> bool:
    """Does ``printed`` consist of the lines ``expected`` gives ("A / B"; "..." matches anything)?"""
    pattern = r"\n".join(".*" if part.strip() == "..." else re.escape(part.strip()).replace(r"\.\.\.", ".*")
                         for part in expected.split(" / "))
    return re.fullmatch(pattern, printed.strip(), flags=re.DOTALL) is not None


def fetch(url: str) -> bool:
    for _ in range(50):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status == 200 and b"<html" in response.read().lower()
        except OSError:
            time.sleep(0.2)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-test-suite", action="store_true", help="do not run `bash scripts/test.sh`")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (kept afterwards) instead of a temporary folder")
    args = parser.parse_args()
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        return Checker(os.path.abspath(args.keep), args.skip_test_suite).run_all()
    with tempfile.TemporaryDirectory(prefix="glassnet-readme-") as folder:
        return Checker(folder, args.skip_test_suite).run_all()


if __name__ == "__main__":
    sys.exit(main())
