"""The glassnet command end to end, through real subprocesses."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest


def glassnet(*args, cwd=None, check=True):
    result = subprocess.run([sys.executable, "-m", "glassnet", *args], capture_output=True, text=True, cwd=cwd,
                            timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"glassnet {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    result = glassnet("train", "--dataset", "digits", "--layers", "32", "--epochs", "15", "--json",
                      "--out", "digits.npz", "--plots", "plots", cwd=folder)
    return folder, json.loads(result.stdout), result.stderr


def test_train_reports_json_and_shows_progress_on_stderr(trained):
    folder, summary, stderr = trained
    assert summary["metrics"]["test"]["accuracy"] > 0.9
    assert summary["network"].startswith("Network(64 -> 32 sigmoid -> 10 softmax")
    assert "epoch" in stderr and "100%" in stderr  # the tqdm bar went to stderr, not stdout
    assert os.path.exists(folder / "digits.npz")


def test_train_evaluate_predict_agree(trained):
    folder, summary, _ = trained
    evaluated = json.loads(glassnet("evaluate", "digits.npz", "--json", cwd=folder).stdout)
    assert evaluated["accuracy"] == pytest.approx(summary["metrics"]["test"]["accuracy"], abs=1e-12)
    assert evaluated["loss"] == pytest.approx(summary["metrics"]["test"]["loss"], rel=1e-6)
    from glassnet import data

    digits = data.load("digits")
    np.save(folder / "first20.npy", digits.X[:20])
    predicted = json.loads(glassnet("predict", "digits.npz", "first20.npy", "--json", cwd=folder).stdout)
    from glassnet.modelfile import load_model

    assert predicted["predictions"] == load_model(str(folder / "digits.npz")).predict(digits.X[:20]).tolist()
    text = glassnet("predict", "digits.npz", "first20.npy", cwd=folder).stdout.split()
    assert text == [str(label) for label in predicted["predictions"]]
    assert all(type(label) is int for label in predicted["predictions"])  # digits are ints, as in the data
    proba = json.loads(glassnet("predict", "digits.npz", "first20.npy", "--proba", "--json", cwd=folder).stdout)
    assert np.allclose(np.sum(proba["probabilities"], axis=1), 1, atol=1e-5)


def test_info_and_datasets(trained):
    folder, _, _ = trained
    info = json.loads(glassnet("info", "digits.npz", "--json", cwd=folder).stdout)
    assert info["sizes"] == [64, 32, 10] and info["class_labels"] == list(range(10))
    listing = json.loads(glassnet("datasets", "--json").stdout)
    assert {"digits25", "mnist5k", "moons", "xor", "iris"} <= set(listing)


def test_plots_exist_decode_and_are_not_blank(trained):
    import matplotlib.image

    folder, summary, _ = trained
    assert {os.path.basename(p) for p in summary["plots"]} == {"curves.png", "network.png", "confusion.png"}
    for path in summary["plots"]:
        pixels = matplotlib.image.imread(str(folder / path))
        assert pixels.shape[0] > 200 and pixels.shape[1] > 200
        assert pixels[..., :3].std() > 0.05, path  # a blank image has (almost) no variance


def test_decision_boundary_plot_for_2d_data(tmp_path):
    import matplotlib.image

    summary = json.loads(glassnet("train", "--dataset", "moons", "--layers", "8", "--activation", "tanh",
                                  "--epochs", "30", "--quiet", "--json", "--plots", "p", cwd=tmp_path).stdout)
    boundary = [p for p in summary["plots"] if p.endswith("boundary.png")]
    assert boundary
    pixels = matplotlib.image.imread(str(tmp_path / boundary[0]))
    assert pixels[..., :3].std() > 0.1


def test_csv_training_and_regression(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    rows = ["a,b,kind"] + [f"{a},{b},{'big' if a + b > 0 else 'small'}" for a, b in X]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    summary = json.loads(glassnet("train", "--dataset", "t.csv", "--target", "kind", "--layers", "8",
                                  "--epochs", "60", "--quiet", "--json", cwd=tmp_path).stdout)
    assert summary["metrics"]["test"]["accuracy"] >= 0.9
    (tmp_path / "new.csv").write_text("a,b\n2,2\n-2,-2\n")
    assert glassnet("predict", "model.npz", "new.csv", cwd=tmp_path).stdout.split() == ["big", "small"]
    summary = json.loads(glassnet("train", "--dataset", "regression", "--layers", "16,16", "--activation", "tanh",
                                  "--epochs", "50", "--quiet", "--json", cwd=tmp_path).stdout)
    assert "accuracy" not in summary["metrics"]["test"] and summary["metrics"]["test"]["loss"] < 0.1


def test_explain_seed_examples():
    out = glassnet("explain", "xor-article").stdout
    assert "C = ½·7.28² = 26.4992" in out and "1 − 0.1·4 = 0.6" in out
    md = glassnet("explain", "dog-breeds", "--format", "markdown").stdout
    assert "13,100" in md and "| layer |" in md


@pytest.mark.parametrize("args,words", [
    (["train", "--epochs", "0"], ["--epochs", ">= 1", "got 0"]),
    (["train", "--learning-rate", "-1"], ["--learning-rate", "finite number > 0"]),
    (["train", "--activation", "sigmod"], ["invalid choice: 'sigmod'", "sigmoid"]),
    (["train", "--layers", "20,x"], ["hidden sizes"]),
    (["frobnicate"], ["invalid choice"]),
])
def test_bad_arguments_exit_2_with_a_message(args, words):
    result = glassnet(*args, check=False)
    assert result.returncode == 2 and result.stdout == ""
    for word in words:
        assert word in result.stderr


def test_runtime_errors_exit_1_with_a_message(trained, tmp_path):
    folder, _, _ = trained
    missing = glassnet("evaluate", str(tmp_path / "missing.npz"), check=False)
    assert missing.returncode == 1 and "no such model file" in missing.stderr
    np.save(tmp_path / "wide.npy", np.zeros((2, 5)))
    wide = glassnet("predict", str(folder / "digits.npz"), str(tmp_path / "wide.npy"), check=False)
    assert wide.returncode == 1 and "5 columns without names, but the model takes 64 features" in wide.stderr
    unknown = glassnet("train", "--dataset", "imagenet", check=False, cwd=tmp_path)
    assert unknown.returncode == 1 and "unknown dataset 'imagenet'" in unknown.stderr


def test_every_help_is_complete_with_an_example():
    for command in ["train", "evaluate", "predict", "explain", "info", "datasets", "export"]:
        out = glassnet(command, "--help").stdout
        assert "example" in out and "glassnet " + command in out, command
    assert "example" in glassnet("--help").stdout


def test_onnx_export_matches_glassnet(trained, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is part of the onnx extra")
    folder, _, _ = trained
    glassnet("export", str(folder / "digits.npz"), str(tmp_path / "m.onnx"))
    from glassnet import data
    from glassnet.modelfile import load_model

    model = load_model(str(folder / "digits.npz"))
    X = data.load("digits").X.astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {"x": X})[0]
    assert np.abs(onnx_out - model.predict_proba(X)).max() <= 1e-5
    assert (onnx_out.argmax(axis=1) == model.network.predict(model.prepare(X))).all()


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "softplus", "identity"])
def test_onnx_every_activation(tmp_path, activation):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is part of the onnx extra")
    import glassnet as gn
    from glassnet.modelfile import Model
    from glassnet.onnx_export import export_onnx

    net = gn.Network([4, 6, 3], activation=activation, output="sigmoid", cost="quadratic", seed=2, dtype="float32")
    export_onnx(Model(net), str(tmp_path / "a.onnx"))
    X = np.random.default_rng(0).normal(size=(9, 4)).astype(np.float32)
    out = ort.InferenceSession(str(tmp_path / "a.onnx"), providers=["CPUExecutionProvider"]).run(None, {"x": X})[0]
    assert np.abs(out - net.predict_proba(X)).max() <= 1e-5


def test_cuda_without_cupy_or_gpu_is_a_clear_error(tmp_path):
    import importlib.util

    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed here; this checks the message on machines without it")
    result = glassnet("train", "--dataset", "xor", "--device", "cuda", "--epochs", "1", "--quiet", check=False,
                      cwd=tmp_path)
    assert result.returncode == 1 and "device 'cuda' needs CuPy" in result.stderr


def test_threads_option(tmp_path):
    summary = json.loads(glassnet("train", "--dataset", "xor", "--layers", "3", "--epochs", "2", "--threads", "1",
                                  "--quiet", "--json", cwd=tmp_path).stdout)
    assert summary["epochs_run"] == 2
