"""Peak memory of a fit on ~200 MB of float32 data (run by hand): python benchmarks/memory.py [--out PATH]

The result goes to benchmarks/results/memory.md unless ``--out`` names another file (the shipped result
stays as it is when you measure your own machine).

Each measurement runs in a fresh subprocess: it builds the data, notes its peak resident memory, trains
784-256-128-10 for one epoch (batch 128), and reports how far the peak rose above data + interpreter.
"""
import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import numpy as np, glassnet as gn
rows = int(sys.argv[2])
X = np.random.default_rng(0).standard_normal((rows, 784), dtype=np.float32)
y = np.random.default_rng(1).integers(0, 10, rows)
net = gn.Network([784, 256, 128, 10], activation="relu", output="softmax", seed=0, dtype="float32")
peak_kib = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
before = peak_kib()
net.fit(X, y, epochs=1, batch_size=128, optimizer="sgd", learning_rate=0.01)
after = peak_kib()
print(json.dumps({"data_mb": X.nbytes / 2**20, "peak_before_mb": before / 1024, "peak_after_mb": after / 1024}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "memory.md"))
    args = parser.parse_args()
    src = os.path.join(os.path.dirname(__file__), "..", "src")
    rows = 200 * 2**20 // (784 * 4)
    out = subprocess.run([sys.executable, "-c", CHILD, src, str(rows)], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout)
    extra = r["peak_after_mb"] - r["peak_before_mb"]
    text = (f"data {r['data_mb']:.1f} MB ({rows:,} rows x 784 float32)\n"
            f"peak before fit (data + interpreter + numpy): {r['peak_before_mb']:.1f} MB\n"
            f"peak during fit: {r['peak_after_mb']:.1f} MB  (+{extra:.1f} MB = {extra / r['data_mb']:.1%} of the data)\n")
    print(text)
    with open(args.out + ".tmp", "w") as handle:
        handle.write(text)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
