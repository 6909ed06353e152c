#!/usr/bin/env python3
"""Fuzz glassnet's file readers: model files, checkpoints and data inputs (CSV, .npy, .npz).

Not part of the test suite; run by hand:

    PYTHONPATH=src python3 scripts/fuzz_files.py                 # 20,000 cases, ~2,000 in forked CLI runs
    PYTHONPATH=src python3 scripts/fuzz_files.py --cases 2000 --seed 7 --report fuzz.json

Every case mutates a valid file (byte flips, truncation, a hostile header with a *valid* checksum, changed
arrays, zip-level tricks such as an encryption flag, an unknown compression method, extra or duplicate
entries, a zip bomb; for data: delimiters, hostile cells, hostile .npy headers ...) and feeds it to a reader.
Most cases call the library in this process; a share (``--cli-share``) runs a command (``info``,
``evaluate``, ``predict``, ``train --resume``, ``train --dataset``) through ``glassnet.cli.main`` in a forked
child, whose time and peak memory are measured on their own; ``--subprocesses`` more run ``python -m
glassnet`` end to end. A case passes when it ends normally or with a GlassnetError (exit 1, no traceback).

Counted and reported: tracebacks (any other exception, or "Traceback" on a child's stderr, or a child killed
by a signal), runs over 5 s, processes over 1 GiB (the child's peak RSS; for in-process cases this process's
peak RSS), each with examples.
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections import Counter

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import data, workflow  # noqa: E402
from glassnet.checkpoint import restore_trainer  # noqa: E402
from glassnet.errors import TrainingInterrupted  # noqa: E402
from glassnet.modelfile import checksum, describe, load_model  # noqa: E402

SLOW_S = 5.0
BIG_BYTES = 1024 ** 3
RAW = {  # placeholders replaced by raw (invalid or extreme) JSON text after dumping
    "@INF@": "Infinity", "@NAN@": "NaN", "@BIGINT@": "7" * 5000, "@DEEP@": "[" * 100_000 + "]" * 100_000,
    "@HUGEFLOAT@": "1e999", "@NEGZERO@": "-0.0",
}
HOSTILE = [None, True, False, -1, 0, 1, 2 ** 31, 2 ** 64, 2 ** 70, -2 ** 70, 1.5, -1e308, 1e308, "", "x" * 10_000,
           "/etc/passwd", "moons", "digits25", 10 ** 9, 10 ** 7, [], {}, [1, 2, 3], {"a": 1}, ["a"] * 50,
           [[[[1]]]], "float16", "<f8", "|O", "softmax", "classification", *RAW]


# ---- building the valid files ----------------------------------------------------------------------------
def base_files(folder: str) -> dict:
    """A trained model (standardised, labelled), a mid-epoch checkpoint with early stopping, and data files."""
    settings = workflow.TrainSettings(dataset="moons", n_samples=200, hidden=(6,), epochs=3, batch_size=16,
                                      early_stopping=2)
    model = os.path.join(folder, "model.npz")
    workflow.train(settings, out=model)
    checkpoint = os.path.join(folder, "run.ckpt")

    class StopMidEpoch(gn.Callback):
        def on_batch_end(self, trainer, epoch, batch, loss):
            if (epoch, batch) == (2, 3):
                trainer.request_interrupt()

    try:
        workflow.train(settings, [StopMidEpoch()], checkpoint, checkpoint_every=1)
    except TrainingInterrupted:
        pass
    X, y = gn.datasets.moons(60, seed=1)
    csv = "a,b,label\n" + "\n".join(f"{p:.5f},{q:.5f},{'yes' if c else 'no'}" for (p, q), c in zip(X, y)) + "\n"
    features = os.path.join(folder, "features.csv")
    with open(features, "w") as handle:
        handle.write("a,b\n" + "\n".join(f"{p:.5f},{q:.5f}" for p, q in X[:10]) + "\n")
    return {"model": _read(model), "checkpoint": _read(checkpoint), "csv": csv.encode(),
            "npy": _npy_bytes(np.c_[X, y]), "npz": _npz_bytes(X=X, y=y), "paths": {"model": model,
                                                                                  "features": features}}


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _entries(content: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _zip(entries, compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, payload in entries:
            archive.writestr(name, payload)
    return buffer.getvalue()


def _forge(meta_text: str, arrays: dict, compression=zipfile.ZIP_STORED) -> bytes:
    """A model file with this header text and a valid checksum (anyone can compute one)."""
    meta_bytes = meta_text.encode("utf-8", "surrogatepass")
    entries = {"meta": np.frombuffer(meta_bytes, np.uint8),
               "meta_sha256": np.frombuffer(checksum(meta_bytes, arrays).encode(), np.uint8), **arrays}
    return _zip([(f"{k}.npy", _npy_bytes(v)) for k, v in entries.items()], compression)


def _parts(content: bytes):
    with np.load(io.BytesIO(content), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files if k not in ("meta", "meta_sha256")}
        return json.loads(archive["meta"].tobytes()), arrays


# ---- mutations ---------------------------------------------------------------------------------------------
def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value[:8]):
            yield from _paths(item, prefix + (index,))


def _set(meta, path, value, delete=False):
    target = meta
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value


def _dump(meta) -> str:
    text = json.dumps(meta)
    for placeholder, raw in RAW.items():
        text = text.replace(json.dumps(placeholder), raw)
    return text


def mutate_header(rng, content: bytes) -> bytes:
    meta, arrays = _parts(content)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(meta) if p]
        path = rng.choice(paths)
        roll = rng.random()
        if roll < 0.15:
            _set(meta, path, None, delete=True)
        elif roll < 0.25:  # a key added to the object holding this value
            parent = meta
            for key in path[:-1]:
                parent = parent[key]
            if isinstance(parent, dict):
                parent[rng.choice(["surprise", "n_in", "std", "dataset", "__proto__"])] = copy.deepcopy(rng.choice(HOSTILE))
        else:
            _set(meta, path, copy.deepcopy(rng.choice(HOSTILE)))
    return _forge(_dump(meta), arrays)


def mutate_arrays(rng, content: bytes) -> bytes:
    meta, arrays = _parts(content)
    name = rng.choice(sorted(arrays))
    array = arrays[name]
    roll = rng.random()
    if roll < 0.3:
        shape = list(array.shape) or [1]
        shape[rng.randrange(len(shape))] += rng.choice([-1, 1, 7])
        arrays[name] = np.ones([max(s, 0) for s in shape], array.dtype)
    elif roll < 0.5:
        arrays[name] = array.astype(rng.choice([np.float16, np.float64, np.int64, np.bool_, np.complex64]))
    elif roll < 0.7:
        arrays[name] = np.full_like(array, rng.choice([np.nan, np.inf, -1.0, 0.0, 1e30]))
    else:
        arrays[name] = array.reshape(-1)[:1]
    if rng.random() < 0.6:  # keep the header in step, so the checks behind it are reached
        meta["arrays"][name] = {"shape": list(arrays[name].shape), "dtype": arrays[name].dtype.str}
    return _forge(_dump(meta), arrays)


def mutate_bytes(rng, content: bytes) -> bytes:
    roll = rng.random()
    if roll < 0.35:
        mutated = bytearray(content)
        for _ in range(rng.randint(1, 6)):
            mutated[rng.randrange(len(mutated))] ^= rng.randint(1, 255)
        return bytes(mutated)
    if roll < 0.6:
        return content[:rng.randrange(len(content))]
    if roll < 0.75:
        at = rng.randrange(len(content))
        return content[:at] + os.urandom(rng.randint(1, 64)) + content[at:]
    if roll < 0.85:
        return os.urandom(rng.randint(0, 2048))
    return rng.choice([b"", b"PK\x05\x06" + b"\0" * 18, b"\x93NUMPY\x01\x00\xff\xff", b"{}", content * 2])


def _zip_flag(content: bytes, local_offset: int, central_offset: int, value: int, width: int, bit=False) -> bytes:
    mutated = bytearray(content)
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        start = 0
        while (start := mutated.find(signature, start)) != -1:
            position = start + offset
            if bit:
                mutated[position] |= value
            else:
                mutated[position:position + width] = value.to_bytes(width, "little")
            start += 4
    return bytes(mutated)


ZIP_BOMB = None


def mutate_zip(rng, content: bytes) -> bytes:
    global ZIP_BOMB
    entries = list(_entries(content).items())
    roll = rng.random()
    if roll < 0.15:
        return _zip_flag(content, 6, 8, 1, 1, bit=True)  # "encrypted"
    if roll < 0.3:
        return _zip_flag(content, 8, 10, rng.choice([1, 6, 9, 12, 14, 99]), 2)  # compression method
    if roll < 0.4:
        return _zip(entries + [rng.choice(entries)])  # a duplicate entry
    if roll < 0.5:
        return _zip(entries + [(rng.choice(["evil.txt", "../x.npy", "sub/a.npy", ".hidden.npy"]), b"hello")])
    if roll < 0.6:
        return _zip([e for e in entries if e != rng.choice(entries)])
    if roll < 0.7:
        return _zip(entries, zipfile.ZIP_DEFLATED)  # compressed but honest: loads
    if roll < 0.8:
        return _zip(entries + [(f"extra.x{i}.npy", _npy_bytes(np.zeros(1))) for i in range(rng.choice([20, 3000]))])
    if roll < 0.9:
        return _zip_flag(content, 22, 24, rng.choice([0, 2 ** 32 - 1, 123456789]), 4)  # declared sizes
    if ZIP_BOMB is None:  # 64 MiB of zeros that deflate to about 64 KiB
        net = gn.Network([4096, 4096], output="identity", dtype="float32", seed=0)
        net.set_weights([np.zeros((4096, 4096), np.float32), np.zeros(4096, np.float32)])
        meta, arrays = _parts(gn.modelfile.model_to_bytes(net))
        ZIP_BOMB = _forge(json.dumps(meta), arrays, zipfile.ZIP_DEFLATED)
    return ZIP_BOMB


CELLS = ["nan", "inf", "-inf", "1e310", "", " ", "abc", "1" * 5000, '"', '"a,b"', "\x00", "1,5", "0x10", "１", "1e30",
         "-0", "٣", "TRUE", "1_000"]


def mutate_csv(rng, content: bytes) -> bytes:
    rows = [line.split(",") for line in content.decode().splitlines()]
    roll = rng.random()
    if roll < 0.2:
        delimiter = rng.choice([";", "\t", "|", " ", ";\t"])
        return "\n".join(delimiter.join(row) for row in rows).encode()
    if roll < 0.45:
        for _ in range(rng.randint(1, 4)):
            row = rng.choice(rows)
            row[rng.randrange(len(row))] = rng.choice(CELLS)
    elif roll < 0.55:
        rng.choice(rows[1:]).append("9")
    elif roll < 0.7:  # a target of many distinct whole numbers, or huge ones
        scale = rng.choice([1, 1000, 10 ** 30])
        for index, row in enumerate(rows[1:]):
            row[-1] = str(index * scale if rng.random() < 0.9 else rng.randrange(3))
    elif roll < 0.8:
        rows = rows[:rng.choice([0, 1, 2])]
    elif roll < 0.9:
        return "\n".join(",".join(r) for r in rows).encode(rng.choice(["utf-16", "utf-8-sig", "latin-1", "utf-32"]))
    else:
        return mutate_bytes(rng, content)
    return "\n".join(",".join(row) for row in rows).encode()


NPY_HEADERS = ["{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 3), }",
               "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 3), }",
               "{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 3), }",
               "{'descr': '<f8', 'fortran_order': False, 'shape': (2**70, 3), }",
               "{'descr': '<f8', 'fortran_order': False, 'shape': ('a', 3), }",
               "{'descr': '|O', 'fortran_order': False, 'shape': (60, 3), }",
               "{'descr': '<c16', 'fortran_order': False, 'shape': (60, 3), }",
               "{'descr': '<U4', 'fortran_order': False, 'shape': (60, 3), }",
               "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (60, 3), }",
               "{'descr': '<f8', 'fortran_order': True, 'shape': (60, 3), } [",
               "{'descr': '<f8', 'fortran_order': False, 'shape': (60, 3), } (",
               "{'descr': '<f8', 'fortran_order': False, 'shape': (60, 3), 'x': __import__('os')}",
               "{'descr': '<f8', 'fortran_order': False, 'shape': (60,), }",
               "{'descr': '<f8', 'fortran_order': False, 'shape': (60, 3, 1), }",
               "{'descr': '>f8', 'fortran_order': False, 'shape': (60, 3), }"]


def _npy_with_header(header: str, data: bytes) -> bytes:
    text = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1") + data


def mutate_npy(rng, content: bytes) -> bytes:
    payload = content[128:]
    if rng.random() < 0.6:
        return _npy_with_header(rng.choice(NPY_HEADERS), payload[:rng.choice([len(payload), 0, 100])])
    return mutate_bytes(rng, content)


def mutate_npz(rng, content: bytes) -> bytes:
    roll = rng.random()
    if roll < 0.35:
        entries = _entries(content)
        name = rng.choice(sorted(entries))
        entries[name] = mutate_npy(rng, entries[name])
        return _zip(list(entries.items()))
    if roll < 0.65:
        return mutate_zip(rng, content) if rng.random() < 0.9 else _zip([("X.npy", b"x")])
    return mutate_bytes(rng, content)


# ---- running ------------------------------------------------------------------------------------------------
class Tally:
    def __init__(self):
        self.cases, self.forked, self.subprocesses = 0, 0, 0
        self.outcomes = Counter()
        self.problems = {"traceback": Counter(), "slow": Counter(), "big": Counter()}
        self.examples = {}

    def problem(self, kind: str, signature: str, example: str) -> None:
        self.problems[kind][signature] += 1
        self.examples.setdefault(f"{kind}: {signature}", example)

    def summary(self) -> dict:
        return {"cases": self.cases, "in_process": self.cases - self.forked - self.subprocesses,
                "forked_cli": self.forked, "subprocess_cli": self.subprocesses, "outcomes": dict(self.outcomes),
                "tracebacks": sum(self.problems["traceback"].values()),
                "over_5_s": sum(self.problems["slow"].values()),
                "over_1_GiB": sum(self.problems["big"].values()),
                "problems": {k: dict(v) for k, v in self.problems.items()}, "examples": self.examples,
                "fuzzer_peak_rss_MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_in_process(tally: Tally, label: str, call, path: str) -> None:
    started = time.perf_counter()
    try:
        call(path)
        tally.outcomes["ok"] += 1
    except gn.GlassnetError:
        tally.outcomes["refused"] += 1
    except Exception as exc:  # noqa: BLE001 - that is what is counted
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        tally.problem("traceback", f"{label}: {type(exc).__name__} at {os.path.basename(frame.filename)}:"
                                   f"{frame.lineno}", f"{path}: {str(exc)[:300]}")
    seconds = time.perf_counter() - started
    if seconds > SLOW_S:
        tally.problem("slow", label, f"{path}: {seconds:.1f} s")


def run_forked(tally: Tally, label: str, argv: list, path: str) -> None:
    """Run ``glassnet.cli.main(argv)`` in a forked child; measure its own time and peak memory."""
    from glassnet.cli import main

    err = tempfile.TemporaryFile()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child
        code = 3
        try:
            os.dup2(err.fileno(), 2)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            resource.setrlimit(resource.RLIMIT_AS, (4 * BIG_BYTES, 4 * BIG_BYTES))
            signal.alarm(60)
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            code = 3
        finally:
            sys.stderr.flush()
            os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    err.seek(0)
    stderr = err.read().decode("utf-8", "replace")
    err.close()
    _judge(tally, label, path, status, stderr, seconds, usage.ru_maxrss * 1024)


def run_subprocess(tally: Tally, label: str, argv: list, path: str) -> None:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "glassnet", *argv], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        _, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # the largest child so far
    _judge(tally, label, path, process.returncode, stderr.decode("utf-8", "replace"), seconds, rss, exit_code=True)


def _judge(tally, label, path, status, stderr, seconds, rss, exit_code=False) -> None:
    code = status if exit_code else (os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
    tally.outcomes[{0: "ok", 1: "refused"}.get(code, f"exit {code}")] += 1
    if "Traceback" in stderr or code not in (0, 1):
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {code}"
        tally.problem("traceback", f"{label}: {last[:120]}", f"{path}: exit {code}: {stderr[-600:]}")
    if seconds > SLOW_S:
        tally.problem("slow", label, f"{path}: {seconds:.1f} s")
    if rss > BIG_BYTES:
        tally.problem("big", label, f"{path}: {rss / 2 ** 20:.0f} MiB")


# ---- the cases ----------------------------------------------------------------------------------------------
def make_case(rng, base: dict):
    """(kind, file suffix, mutated bytes)."""
    roll = rng.random()
    if roll < 0.4:
        source, kind, suffix = base["model"], "model", ".npz"
    elif roll < 0.65:
        source, kind, suffix = base["checkpoint"], "checkpoint", ".ckpt"
    else:
        kind = rng.choice(["csv", "npy", "npz"])
        mutate = {"csv": mutate_csv, "npy": mutate_npy, "npz": mutate_npz}[kind]
        return kind, f".{kind}", mutate(rng, base[kind])
    mutate = rng.choices([mutate_header, mutate_arrays, mutate_bytes, mutate_zip], weights=[5, 2, 2, 2])[0]
    return kind, suffix, mutate(rng, source)


def library_calls(kind: str, rng):
    if kind == "model":
        return rng.choice([("load_model", load_model), ("describe", describe)])
    if kind == "checkpoint":
        return rng.choice([("restore_trainer", restore_trainer), ("resume", workflow.resume)])
    target = rng.choice([None, "0", "1", "label", "-1", "x"])
    return rng.choice([("data.load", data.load), ("data.load_features", data.load_features),
                       ("data.load_file", lambda p: data.load_file(p, target))])


def cli_argv(kind: str, path: str, base: dict, out: str, rng) -> list:
    if kind == "model":
        return rng.choice([["info", path], ["evaluate", path], ["evaluate", path, "--split", "all"],
                           ["predict", path, base["paths"]["features"]]])
    if kind == "checkpoint":
        return ["train", "--resume", path, "--out", out, "--quiet"]
    return rng.choice([["predict", base["paths"]["model"], path],
                       ["train", "--dataset", path, "--epochs", "1", "--layers", "3", "--quiet", "--out", out]])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--cli-share", type=float, default=0.1, help="share of cases run as forked CLI commands")
    parser.add_argument("--subprocesses", type=int, default=60, help="cases run as `python -m glassnet`")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", help="write the summary as JSON here")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    warnings.simplefilter("ignore")  # zipfile warns about the duplicate entries this script makes
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="glassnet-fuzz-") as folder:
        base = base_files(folder)
        for kind in ("model", "checkpoint", "csv", "npy", "npz"):  # the unmutated files must be fine
            path = os.path.join(folder, f"valid.{kind}")
            with open(path, "wb") as handle:
                handle.write(base[kind])
            {"model": load_model, "checkpoint": restore_trainer}.get(kind, data.load)(path)
        started = time.time()
        for number in range(args.cases):
            kind, suffix, content = make_case(rng, base)
            path = os.path.join(folder, f"case{number % 50}{suffix}")
            with open(path, "wb") as handle:
                handle.write(content)
            out = os.path.join(folder, "out.npz")
            tally.cases += 1
            if number < args.subprocesses:
                tally.subprocesses += 1
                run_subprocess(tally, f"cli {kind}", cli_argv(kind, path, base, out, rng), path)
            elif rng.random() < args.cli_share:
                tally.forked += 1
                argv = cli_argv(kind, path, base, out, rng)
                run_forked(tally, f"cli {argv[0]} ({kind})", argv, path)
            else:
                label, call = library_calls(kind, rng)
                run_in_process(tally, f"{label} ({kind})", call, path)
            if (number + 1) % 1000 == 0:
                print(f"{number + 1:,} cases, {time.time() - started:.0f} s: tracebacks "
                      f"{sum(tally.problems['traceback'].values())}, slow {sum(tally.problems['slow'].values())}, "
                      f"big {sum(tally.problems['big'].values())}", file=sys.stderr, flush=True)
    summary = tally.summary()
    summary["seconds"] = round(time.time() - started, 1)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.report:
        with open(args.report, "w") as handle:
            handle.write(text)
    return 1 if summary["tracebacks"] or summary["over_5_s"] or summary["over_1_GiB"] else 0


if __name__ == "__main__":
    sys.exit(main())
