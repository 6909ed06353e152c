#!/usr/bin/env python3
"""Signals during saves of large models: kill -9, SIGINT, SIGTERM and a double SIGINT sent to
``glassnet train`` while it writes a checkpoint or its final model (or at a random moment).

Not part of the test suite; run by hand:

    PYTHONPATH=src python3 scripts/signal_saves.py              # 120 runs
    PYTHONPATH=src python3 scripts/signal_saves.py --runs 20 --report signals.json

Each run trains a 2-3000-3000-2 network (9 M weights: a 36 MB model file, 108 MB checkpoints with Adam's
moments) with a checkpoint every epoch, in a folder that already holds a model file and a checkpoint from
an earlier run. The signal is sent when a temporary file of the chosen save appears (the write is under
way), or after a random delay. Then:

- every file at the model and checkpoint paths must load (the old file intact, or the new one complete);
- a run that ends with neither exit 0 nor a message saying where the run is saved or what was not saved is
  "lost without a message" (kill -9 cannot print one: those runs count only the files);
- the next save into the folder must leave no temporary file behind.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter

import glassnet as gn
from glassnet.modelfile import TEMP_SUFFIX, load_model, save_model

MODES = ["kill -9", "SIGINT", "SIGTERM", "double SIGINT"]
MOMENTS = ["checkpoint write", "final save", "random"]
SAVED_WORDS = ("the run is saved in", "holds the run as of", "the model was saved completely", "model saved to",
               "every file on disk is complete")


LAYERS, EPOCHS = "3000,3000", "3"


def train_command(folder: str) -> list:
    return [sys.executable, "-m", "glassnet", "train", "--dataset", "moons", "--samples", "200", "--layers",
            LAYERS, "--batch-size", "200", "--epochs", EPOCHS, "--checkpoint", os.path.join(folder, "run.ckpt"),
            "--checkpoint-every", "1", "--out", os.path.join(folder, "out.npz"), "--quiet", "--threads", "1"]


def wait_for_write(folder: str, target: str, process, deadline: float) -> bool:
    """Poll until a temporary file of ``target``'s save appears; False if the run ended first."""
    pattern = os.path.join(folder, f".{target}.*{TEMP_SUFFIX}")
    while time.time() < deadline and process.poll() is None:
        if glob.glob(pattern):
            return True
        time.sleep(0.0005)
    return False


def send(process, mode: str) -> None:
    if mode == "kill -9":
        process.kill()
    elif mode == "SIGTERM":
        process.send_signal(signal.SIGTERM)
    else:
        process.send_signal(signal.SIGINT)
        if mode == "double SIGINT":
            time.sleep(0.005)
            process.send_signal(signal.SIGINT)


def check_files(folder: str) -> list:
    """Names of files at the model/checkpoint paths that do not load (should be none)."""
    broken = []
    for name, kind in (("out.npz", None), ("run.ckpt", "checkpoint")):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            try:
                load_model(path, expect_kind=kind)
            except gn.GlassnetError as exc:
                broken.append(f"{name}: {exc}")
    return broken


def one_run(folder: str, mode: str, moment: str, rng: random.Random) -> dict:
    process = subprocess.Popen(train_command(folder), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180
    if moment == "random":
        time.sleep(rng.uniform(0.3, 4.0))
        hit = process.poll() is None
    else:
        target = "run.ckpt" if moment == "checkpoint write" else "out.npz"
        hit = wait_for_write(folder, target, process, deadline)
    if hit and process.poll() is None:
        send(process, mode)
    try:
        _, stderr = process.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    code = process.returncode
    said = any(words in stderr for words in SAVED_WORDS) or "nothing after that was saved" in stderr
    lost_silently = mode != "kill -9" and code != 0 and not said
    left_before = glob.glob(os.path.join(folder, f"*{TEMP_SUFFIX}")) + glob.glob(os.path.join(folder, f".*{TEMP_SUFFIX}"))
    broken = check_files(folder)
    save_model(os.path.join(folder, "next.npz"), gn.Network([2, 3, 1], seed=0))  # the next save into the folder
    left_after = glob.glob(os.path.join(folder, f".*{TEMP_SUFFIX}"))
    return {"mode": mode, "moment": moment, "signal_sent_during_target": hit, "exit": code,
            "lost_without_message": lost_silently, "broken_files": broken, "temporaries_before_next_save":
            len(left_before), "temporaries_after_next_save": len(left_after),
            "stderr_tail": stderr.strip().splitlines()[-2:] if stderr.strip() else []}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", help="write every run's result and the summary as JSON here")
    parser.add_argument("--layers", default=LAYERS, help=f"hidden layers of the trained network (default {LAYERS})")
    parser.add_argument("--epochs", default=EPOCHS, help=f"epochs per run (default {EPOCHS})")
    args = parser.parse_args()
    globals().update(LAYERS=args.layers, EPOCHS=args.epochs)
    rng = random.Random(args.seed)
    folder = tempfile.mkdtemp(prefix="glassnet-signals-")
    results = []
    try:
        subprocess.run(train_command(folder), check=True, capture_output=True)  # an earlier run's files
        for number in range(args.runs):
            mode, moment = MODES[number % len(MODES)], MOMENTS[(number // len(MODES)) % len(MOMENTS)]
            result = one_run(folder, mode, moment, rng)
            results.append(result)
            print(f"{number + 1:>3} {mode:<13} {moment:<16} exit {result['exit']:>4}  hit {result['signal_sent_during_target']!s:<5}"
                  f" lost-silently {result['lost_without_message']!s:<5} broken {len(result['broken_files'])} "
                  f"tmp {result['temporaries_before_next_save']}->{result['temporaries_after_next_save']}",
                  file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    summary = {
        "runs": len(results), "network": f"2-{LAYERS.replace(',', '-')}-2, {EPOCHS} epochs", "by_mode": dict(Counter(r["mode"] for r in results)),
        "signals_sent_during_the_chosen_write": sum(r["signal_sent_during_target"] and r["moment"] != "random"
                                                    for r in results),
        "exit_codes": dict(Counter(str(r["exit"]) for r in results)),
        "lost_without_message": sum(r["lost_without_message"] for r in results),
        "old_or_new_file_not_loadable": sum(bool(r["broken_files"]) for r in results),
        "runs_leaving_temporaries_before_next_save": sum(r["temporaries_before_next_save"] > 0 for r in results),
        "temporaries_left_after_next_save": sum(r["temporaries_after_next_save"] for r in results),
    }
    print(json.dumps(summary, indent=2))
    if args.report:
        with open(args.report, "w") as handle:
            json.dump({"summary": summary, "runs": results}, handle, indent=1)
    bad = summary["lost_without_message"] or summary["old_or_new_file_not_loadable"] or \
        summary["temporaries_left_after_next_save"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
