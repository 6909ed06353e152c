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
    many = glassnet("train", "--dataset", "xor", "--layers", "3", "--epochs", "2", "--threads",
                    str(8 * (os.cpu_count() or 1)), "--quiet", "--json", cwd=tmp_path)
    assert f"is more than this machine's {os.cpu_count()} CPUs" in many.stderr
    assert json.loads(many.stdout)["epochs_run"] == 2


@pytest.mark.parametrize("dataset", ["digits25", "xor"])
def test_explain_dial_experiment_agrees_with_the_chain_rule_on_a_float32_cli_model(tmp_path, dataset):
    torch = pytest.importorskip("torch")
    import re

    from glassnet import data
    from glassnet.modelfile import load_model

    glassnet("train", "--dataset", dataset, "--epochs", "5", "--quiet", "--out", "m.npz", cwd=tmp_path)
    out = glassnet("explain", "--model", "m.npz", "--sample", "3", cwd=tmp_path).stdout
    slope, chain = re.search(r"ΔC/Δw = \(C\(w\+ε\) − C\(w−ε\)\)/2ε = (\S+);  the chain rule says ∂C/∂w = (\S+)",
                             out).groups()

    model = load_model(str(tmp_path / "m.npz"))
    assert model.network.dtype == np.float32  # the CLI's default
    source = data.load(dataset)
    x = model.prepare(source.X[3:4]).astype(np.float64)
    dial = model.network.trace(x, source.y[3:4]).dials(1)[0]
    # the same derivative by PyTorch autograd in float64: sigmoid hidden layers, softmax + cross-entropy
    params = [torch.tensor(p.astype(np.float64), requires_grad=True) for p in model.network.get_weights()]
    h = torch.tensor(x)
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        h = torch.sigmoid(h) if i + 2 < len(params) else torch.log_softmax(h, dim=1)
    label = int(model.network.check_y(source.y[3:4], 1).argmax())
    (-h[0, label]).backward()
    param = params[2 * (dial.layer - 1) + (dial.kind == "b")]
    expected = float(param.grad[dial.index])
    assert float(slope) == pytest.approx(expected, rel=2e-7)  # printed to 8 significant digits
    assert float(chain) == pytest.approx(expected, rel=2e-7)
    assert expected != 0


def test_train_warns_when_the_loss_ends_far_above_its_start(tmp_path):
    result = glassnet("train", "--dataset", "digits", "--layers", "20", "--epochs", "3", "--optimizer", "sgd",
                      "--learning-rate", "1e6", "--quiet", "--json", cwd=tmp_path)
    summary = json.loads(result.stdout)
    lines = [line for line in result.stderr.splitlines() if line.startswith("glassnet train: warning:")]
    assert len(lines) == 1 and "smaller learning rate (now 1e+06)" in lines[0]
    assert summary["warnings"] == [lines[0].removeprefix("glassnet train: warning: ")]
    # far above log(10) = 2.303, the cross-entropy of a uniform guess over ten classes
    assert summary["metrics"]["train"]["loss"] > 10 * np.log(10)


def test_train_has_a_clip_norm_option(tmp_path):
    from glassnet.modelfile import load_model

    glassnet("train", "--dataset", "xor", "--epochs", "2", "--clip-norm", "0.5", "--quiet", "--out", "m.npz",
             cwd=tmp_path)
    assert load_model(str(tmp_path / "m.npz")).training["clip_norm"] == 0.5
    bad = glassnet("train", "--dataset", "xor", "--clip-norm", "-1", cwd=tmp_path, check=False)
    assert bad.returncode != 0 and "--clip-norm" in bad.stderr


def test_data_beyond_float32_is_named_at_train_and_predict(tmp_path, trained):
    folder, _, _ = trained
    rows = ["a,b,label", "0,0,0", "0,1,1", "1,0,1", "1,1,0", "1e39,0,1", "0,1,1", "1,0,1", "1,1,0", "0,0,0", "1,1,0"]
    (tmp_path / "big.csv").write_text("\n".join(rows) + "\n")
    train = glassnet("train", "--dataset", "big.csv", "--target", "label", "--epochs", "2", "--quiet",
                     cwd=tmp_path, check=False)
    assert train.returncode != 0
    assert "big.csv (features)" in train.stderr and "too large for float32" in train.stderr
    assert "(4, 0)" in train.stderr and "learning rate" not in train.stderr
    features = np.zeros((2, 64))
    features[1, 5] = 1e39
    np.save(tmp_path / "huge.npy", features)
    predict = glassnet("predict", str(folder / "digits.npz"), str(tmp_path / "huge.npy"), check=False)
    assert predict.returncode != 0 and "too large for float32" in predict.stderr and "(1, 5)" in predict.stderr
    assert "NaN" not in predict.stderr and "before training" not in predict.stderr
    assert "huge.npy (features)" in predict.stderr  # the file is named, as every other failure names it
    features[1, 5] = np.nan
    np.save(tmp_path / "gap.npy", features)
    predict = glassnet("predict", str(folder / "digits.npz"), str(tmp_path / "gap.npy"), check=False)
    assert predict.returncode == 1 and "gap.npy (features) contains 1 NaN" in predict.stderr


def test_engine_option_trains_the_same_numbers_compiled(tmp_path):
    """--engine compiled gives the numpy path's metrics (to float32 rounding)."""
    runs = {}
    for engine in ("numpy", "compiled"):
        runs[engine] = json.loads(glassnet("train", "--dataset", "moons", "--layers", "16,16", "--epochs", "20",
                                           "--engine", engine, "--quiet", "--json", "--out", f"{engine}.npz",
                                           cwd=tmp_path).stdout)
    for split in ("train", "validation", "test"):
        for metric in ("loss", "accuracy"):
            assert runs["compiled"]["metrics"][split][metric] == pytest.approx(
                runs["numpy"]["metrics"][split][metric], rel=1e-4, abs=1e-6)
    assert "--engine compiled: trained with the compiled engine" in runs["compiled"]["notes"]
    assert not any("engine" in note for note in runs["numpy"]["notes"])
    auto = json.loads(glassnet("train", "--dataset", "xor", "--layers", "3", "--epochs", "2", "--engine", "auto",
                               "--quiet", "--json", cwd=tmp_path).stdout)  # 2 steps: not worth loading numba
    assert "--engine auto: trained with the numpy engine" in auto["notes"]


def test_engine_compiled_without_numba_is_one_line_note(tmp_path):
    """Without numba the run goes on with numpy and says so in one plain line."""
    hidden = tmp_path / "hide"
    (hidden / "numba").mkdir(parents=True)
    (hidden / "numba" / "__init__.py").write_text("raise ImportError('numba hidden by the test')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hidden)] + sys.path))
    result = subprocess.run([sys.executable, "-m", "glassnet", "train", "--dataset", "xor", "--layers", "3",
                             "--epochs", "2", "--engine", "compiled", "--quiet", "--json"], capture_output=True,
                            text=True, cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "numpy engine" in line]
    assert notes == ["glassnet train: note: training with the numpy engine: numba is not installed "
                     "(pip install 'glassnet[fast]')"], result.stderr
    assert json.loads(result.stdout)["epochs_run"] == 2


def test_evaluate_a_split_of_the_csv_a_model_was_trained_on(tmp_path):
    """--dataset FILE --split test gives the held-out rows of the training run (the scores train reported for
    its test split), and a file that is not the same data is refused rather than cut into other rows."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    labels = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "yes", "no")
    lines = ["a,b,c,answer"] + [f"{r[0]:.6f},{r[1]:.6f},{r[2]:.6f},{label}" for r, label in zip(X, labels)]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    summary = json.loads(glassnet("train", "--dataset", "data.csv", "--target", "answer", "--layers", "8",
                                  "--epochs", "5", "--quiet", "--json", cwd=tmp_path).stdout)
    for split in ("test", "train"):
        evaluated = json.loads(glassnet("evaluate", "model.npz", "--dataset", "data.csv", "--split", split, "--json",
                                        cwd=tmp_path).stdout)
        assert evaluated["samples"] == {"test": 60, "train": 210}[split]  # 300 rows: 20 % test, 10 % validation
        assert evaluated["accuracy"] == pytest.approx(summary["metrics"][split]["accuracy"], abs=1e-9)
        assert evaluated["loss"] == pytest.approx(summary["metrics"][split]["loss"], rel=1e-5)
    every_row = glassnet("evaluate", "model.npz", "--dataset", "data.csv", cwd=tmp_path).stdout
    assert "data.csv (every row; the rows a training run held out: --split test): 300 samples" in every_row
    (tmp_path / "data.csv").write_text("\n".join(lines[:-1]) + "\n")  # one row fewer: other rows per split
    refused = glassnet("evaluate", "model.npz", "--dataset", "data.csv", "--split", "test", cwd=tmp_path, check=False)
    assert refused.returncode == 1 and "is not the data the model was trained on" in refused.stderr


def test_every_subcommands_help_is_written_for_its_users():
    """The help texts come from the modules' docstrings, whose notes for the code's readers stay out."""
    commands = ["train", "evaluate", "predict", "info", "export", "explain", "datasets", "playground"]
    for command in commands:
        text = glassnet(command, "--help").stdout
        assert "usage: glassnet " + command in text and "floor" not in text, command


def test_resume_without_out_writes_the_checkpoints_own_model_or_asks(tmp_path):
    """A resumed run without --out had saved to model.npz, over whatever model was there. It now writes the
    model its checkpoint was named after (OUT.npz.ckpt -> OUT.npz), and asks for --out otherwise."""
    glassnet("train", "--dataset", "iris", "--epochs", "2", "--out", "x.npz", "--checkpoint", "run.ckpt",
             "--checkpoint-every", "1", "--quiet", cwd=tmp_path)
    (tmp_path / "model.npz").write_bytes(b"someone else's model")
    refused = glassnet("train", "--resume", "run.ckpt", "--epochs", "2", cwd=tmp_path, check=False)
    assert refused.returncode == 1 and "give --out" in refused.stderr
    assert (tmp_path / "model.npz").read_bytes() == b"someone else's model"
    (tmp_path / "x.npz.ckpt").write_bytes((tmp_path / "run.ckpt").read_bytes())
    (tmp_path / "x.npz").unlink()
    glassnet("train", "--resume", "x.npz.ckpt", "--quiet", cwd=tmp_path)
    assert (tmp_path / "x.npz").exists() and (tmp_path / "model.npz").read_bytes() == b"someone else's model"


def test_classes_with_an_output_that_is_not_a_probability_are_refused(tmp_path):
    """--output relu on class labels had trained a regression on the class numbers: a model whose predictions
    were raw numbers and which `evaluate` then refused on its own training file. Refused at the start now."""
    result = glassnet("train", "--dataset", "iris", "--output", "relu", "--epochs", "1", "--out", "r.npz",
                      cwd=tmp_path, check=False)
    assert result.returncode == 1 and "need a softmax output (or sigmoid for two classes), not 'relu'" in result.stderr
    assert not (tmp_path / "r.npz").exists()


def test_onnx_export_takes_a_bare_network_and_warns_of_what_onnxruntime_cannot_load(tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is part of the onnx extra")
    import glassnet as gn
    from glassnet.onnx_export import export_onnx

    net = gn.Network([4, 6, 3], activation="tanh", output="softmax", seed=2)
    export_onnx(net, str(tmp_path / "n.onnx"))  # a Network, not only a Model (gn.save takes both)
    X = np.random.default_rng(0).normal(size=(5, 4))
    out = ort.InferenceSession(str(tmp_path / "n.onnx"), providers=["CPUExecutionProvider"]).run(None, {"x": X})[0]
    assert np.abs(out - net.predict_proba(X)).max() <= 1e-12
    with pytest.raises(gn.ConfigError, match="takes a glassnet Model or Network, got dict"):
        export_onnx({}, str(tmp_path / "d.onnx"))
    softplus = gn.Network([4, 6, 3], activation="softplus", output="softmax", seed=2)  # float64
    with pytest.warns(RuntimeWarning, match="onnxruntime has no float64 Softplus"):  # 1.32 refuses the file
        export_onnx(softplus, str(tmp_path / "s.onnx"))


def test_predict_with_the_arguments_swapped_says_which_comes_first(trained, tmp_path):
    folder, _, _ = trained
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")
    result = glassnet("predict", str(tmp_path / "rows.csv"), str(folder / "digits.npz"), check=False)
    assert result.returncode == 1 and "the model file comes first: glassnet predict MODEL INPUT" in result.stderr


def test_a_resume_refusal_names_the_options_as_typed(tmp_path):
    glassnet("train", "--dataset", "iris", "--epochs", "2", "--layers", "8", "--out", "c.npz", "--checkpoint",
             "c.npz.ckpt", "--checkpoint-every", "1", "--quiet", cwd=tmp_path)
    result = glassnet("train", "--resume", "c.npz.ckpt", "--layers", "5,5", "--learning-rate", "0.5", cwd=tmp_path,
                      check=False)
    assert result.returncode == 1
    assert "--layers 5,5 (the checkpoint has 8)" in result.stderr and "--learning-rate 0.5 (the checkpoint has" in \
        result.stderr
