"""Issue 16: the command line never gives a wrong answer silently. Real subprocesses, CSV files written here."""
import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")


def environment():
    env = dict(os.environ)
    env["PYTHONPATH"] = SOURCE + os.pathsep + env.get("PYTHONPATH", "")  # this checkout, from any folder
    return env


def glassnet(*args, cwd=None, check=True):
    result = subprocess.run([sys.executable, "-m", "glassnet", *args], capture_output=True, text=True, cwd=cwd,
                            timeout=300, env=environment())
    if check and result.returncode != 0:
        raise AssertionError(f"glassnet {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def one_line_error(result, status=1):
    """The failure is exactly one line on stderr, no traceback, nothing on stdout."""
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def write_csv(path, header, rows):
    lines = ([",".join(header)] if header else []) + [",".join(str(cell) for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def box_rows(n, seed):
    """Boxes with a size label decided by hand: big when width + height + depth > 1.5."""
    rng = np.random.default_rng(seed)
    sizes = rng.uniform(0, 1, (n, 3)).round(4)
    return [[w, h, d, "big" if w + h + d > 1.5 else "small"] for w, h, d in sizes]


@pytest.fixture(scope="module")
def boxes(tmp_path_factory):
    """A model trained on a CSV whose target column 'size' sits in the middle and holds text labels."""
    folder = tmp_path_factory.mktemp("boxes")
    rows = box_rows(240, 0)
    write_csv(folder / "boxes.csv", ["width", "size", "height", "depth"], [[w, s, h, d] for w, h, d, s in rows])
    glassnet("train", "--dataset", "boxes.csv", "--target", "size", "--layers", "8", "--epochs", "80",
             "--quiet", "--out", "boxes.npz", cwd=folder)
    return folder


# ---- the data contract: columns by name, labels through the model's classes --------------------------
def test_predict_matches_columns_by_name_in_any_order(boxes, tmp_path):
    rows = box_rows(20, 5)
    write_csv(tmp_path / "ordered.csv", ["width", "height", "depth"], [r[:3] for r in rows])
    write_csv(tmp_path / "reordered.csv", ["depth", "height", "width"], [[d, h, w] for w, h, d, _ in rows])
    write_csv(tmp_path / "headerless.csv", None, [r[:3] for r in rows])
    model = str(boxes / "boxes.npz")
    ordered = glassnet("predict", model, str(tmp_path / "ordered.csv"), "--proba").stdout
    assert glassnet("predict", model, str(tmp_path / "reordered.csv"), "--proba").stdout == ordered
    assert glassnet("predict", model, str(tmp_path / "headerless.csv"), "--proba").stdout == ordered
    labels = glassnet("predict", model, str(tmp_path / "reordered.csv")).stdout.split()
    truth = [r[3] for r in rows]
    assert sum(p == t for p, t in zip(labels, truth)) >= 17  # the model learned the rule written above


def test_predict_names_missing_and_unexpected_columns(boxes, tmp_path):
    write_csv(tmp_path / "renamed.csv", ["a", "b", "c"], [[0.1, 0.2, 0.3]])
    message = one_line_error(glassnet("predict", str(boxes / "boxes.npz"), str(tmp_path / "renamed.csv"),
                                      check=False))
    assert "missing 'width', 'height', 'depth'" in message and "unexpected 'a', 'b', 'c'" in message
    write_csv(tmp_path / "short.csv", None, [[0.1, 0.2]])
    message = one_line_error(glassnet("predict", str(boxes / "boxes.npz"), str(tmp_path / "short.csv"),
                                      check=False))
    assert "2 columns without names, but the model takes 3 features" in message


def test_evaluate_maps_labels_through_the_models_classes(boxes, tmp_path):
    """A file holding only 'small' rows: the accuracy is the share predict gets right, counted here."""
    rows = [r for r in box_rows(300, 7) if r[3] == "small"]
    write_csv(tmp_path / "small.csv", ["height", "depth", "width", "size"], [[h, d, w, s] for w, h, d, s in rows])
    model = str(boxes / "boxes.npz")
    evaluated = json.loads(glassnet("evaluate", model, "--dataset", str(tmp_path / "small.csv"), "--json").stdout)
    predicted = glassnet("predict", model, str(tmp_path / "small.csv")).stdout.split()
    right = sum(label == "small" for label in predicted)
    assert evaluated["samples"] == len(rows)
    assert evaluated["accuracy"] == pytest.approx(right / len(rows), abs=1e-12)
    assert evaluated["accuracy"] > 0.8


def test_evaluate_refuses_labels_the_model_never_saw(boxes, tmp_path):
    write_csv(tmp_path / "medium.csv", ["width", "height", "depth", "size"],
              [[0.5, 0.5, 0.5, "medium"], [0.9, 0.9, 0.9, "big"]])
    message = one_line_error(glassnet("evaluate", str(boxes / "boxes.npz"), "--dataset",
                                      str(tmp_path / "medium.csv"), check=False))
    assert "'medium' is not among the model's classes ('big', 'small')" in message


def test_integer_labels_stay_integers_and_subsets_of_classes_are_scored_right(tmp_path):
    """Classes 0, 1, 2 by the sign pattern of two features; a file with only classes 1 and 2."""
    rng = np.random.default_rng(1)
    points = rng.uniform(-1, 1, (300, 2)).round(4)
    label = lambda a, b: 0 if a < 0 else (1 if b < 0 else 2)  # noqa: E731
    write_csv(tmp_path / "three.csv", ["a", "b", "label"], [[a, b, label(a, b)] for a, b in points])
    glassnet("train", "--dataset", "three.csv", "--layers", "16", "--activation", "tanh", "--epochs", "100",
             "--quiet", "--out", "three.npz", cwd=tmp_path)
    info = json.loads(glassnet("info", "three.npz", "--json", cwd=tmp_path).stdout)
    assert info["class_labels"] == [0, 1, 2] and info["target"] == "label"
    subset = [[a, b, label(a, b)] for a, b in rng.uniform(-1, 1, (200, 2)).round(4) if label(a, b) > 0]
    write_csv(tmp_path / "subset.csv", ["b", "a", "label"], [[b, a, y] for a, b, y in subset])
    predicted = json.loads(glassnet("predict", "three.npz", "subset.csv", "--json", cwd=tmp_path).stdout)
    assert all(type(p) is int for p in predicted["predictions"])
    right = sum(p == row[2] for p, row in zip(predicted["predictions"], subset))
    evaluated = json.loads(glassnet("evaluate", "three.npz", "--dataset", "subset.csv", "--json",
                                    cwd=tmp_path).stdout)
    assert evaluated["accuracy"] == pytest.approx(right / len(subset), abs=1e-12) and right / len(subset) > 0.85


def test_a_csv_trained_model_is_evaluated_on_its_file_only_when_named_from_another_folder(boxes, tmp_path):
    """Deliberate (issue 15): a model file never makes glassnet open the data path it records; the user names
    the file with --dataset, and the model's stored target column is used from any folder."""
    model, data_file = str(boxes / "boxes.npz"), str(boxes / "boxes.csv")
    for command in (["evaluate", model, "--split", "all"], ["evaluate", model],
                    ["explain", "--model", model, "--sample", "3"]):
        message = one_line_error(glassnet(*command, cwd=tmp_path, check=False))
        assert data_file in message and "--dataset FILE" in message, command
    everything = json.loads(glassnet("evaluate", model, "--dataset", data_file, "--json", cwd=tmp_path).stdout)
    assert everything["samples"] == 240 and everything["accuracy"] > 0.85
    out = glassnet("explain", "--model", model, "--dataset", data_file, "--sample", "3", cwd=tmp_path).stdout
    assert "cost on the same input" in out


def test_headerless_csv_keeps_its_first_row(tmp_path):
    rng = np.random.default_rng(3)
    rows = [[a, b, int(a > b)] for a, b in rng.uniform(0, 1, (60, 2)).round(3)]
    write_csv(tmp_path / "plain.csv", None, rows)
    summary = json.loads(glassnet("train", "--dataset", "plain.csv", "--layers", "4", "--epochs", "2", "--quiet",
                                  "--json", cwd=tmp_path).stdout)
    assert summary["dataset"]["samples"] == 60 and summary["dataset"]["features"] == 2
    assert "no header row" in summary["dataset"]["description"]


# ---- refusing to overwrite ----------------------------------------------------------------------------
def test_export_refuses_to_overwrite_a_model_or_a_non_onnx_target(boxes, tmp_path):
    model = boxes / "boxes.npz"
    before = model.read_bytes()
    message = one_line_error(glassnet("export", str(model), str(model), check=False))
    assert "is a glassnet model file" in message and model.read_bytes() == before
    message = one_line_error(glassnet("export", str(model), str(tmp_path / "m.txt"), check=False))
    assert "does not end in .onnx" in message and not (tmp_path / "m.txt").exists()
    pytest.importorskip("onnx", reason="writing ONNX needs the onnx extra")
    glassnet("export", str(model), str(tmp_path / "m.bin"), "--force")
    assert (tmp_path / "m.bin").stat().st_size > 0


def test_train_refuses_to_overwrite_a_file_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.csv").write_text("precious\n")
    message = one_line_error(glassnet("train", "--dataset", "xor", "--epochs", "1", "--quiet", "--out",
                                      "notes.csv", cwd=tmp_path, check=False))
    assert "not a glassnet model file" in message and (tmp_path / "notes.csv").read_text() == "precious\n"


# ---- one error handler ---------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["datasets"], ["explain", "dog-breeds"], ["predict", "MODEL", "ROWS"]])
def test_a_closed_pipe_ends_quietly(boxes, tmp_path, args):
    write_csv(tmp_path / "rows.csv", ["width", "height", "depth"], [r[:3] for r in box_rows(3000, 2)])
    args = [{"MODEL": str(boxes / "boxes.npz"), "ROWS": str(tmp_path / "rows.csv")}.get(a, a) for a in args]
    process = subprocess.Popen([sys.executable, "-m", "glassnet", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=environment())
    process.stdout.close()  # the reader is gone before the first line is written, as with `| head -0`
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141 and stderr == ""


def test_unexpected_errors_are_one_line_with_a_report_hint_and_a_traceback_under_debug(tmp_path):
    crash = ("import sys, glassnet.cli as cli, glassnet.cli.datasets_cmd as command\n"
             "def broken(args):\n    raise KeyError('no such thing')\n"
             "command.run = broken\nsys.exit(cli.main(sys.argv[1:]))\n")
    run = lambda *args: subprocess.run([sys.executable, "-c", crash, *args], capture_output=True,  # noqa: E731
                                       text=True, env=environment(), timeout=60)
    plain = run("datasets")
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert plain.stderr.splitlines()[0] == "glassnet datasets: unexpected error: KeyError: 'no such thing'"
    assert "please report it" in plain.stderr and "--debug" in plain.stderr
    debug = run("datasets", "--debug")
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "def broken" not in debug.stdout


@pytest.mark.parametrize("args,words", [
    (["train", "--seed", "-1"], ["--seed", "an integer in [0, "]),
    (["train", "--target-accuracy", "2"], ["--target-accuracy", "a number in [0, 1]"]),
    (["explain", "--model", "m.npz", "--sample", "-2"], ["--sample", "a row number >= 0"]),
    (["explain", "--learning-rate", "0"], ["--learning-rate", "> 0"]),
    (["playground", "--port", "99999"], ["--port", "1..65535"]),
    (["train", "--optimizer", "adamm"], ["invalid choice: 'adamm'"]),
])
def test_argument_errors_are_one_line_without_a_usage_block(args, words):
    message = one_line_error(glassnet(*args, check=False), status=2)
    assert "usage:" not in message and "--help" in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("args,words", [
    (["train", "--dataset", "xor", "--output", "softmax", "--cost", "bce", "--quiet"],
     ["'bce' does not fit a softmax"]),
    (["train", "--dataset", "xor", "--output", "sigmoid", "--cost", "cross_entropy", "--quiet"],
     ["does not fit a sigmoid"]),
    (["train", "--dataset", "iris", "--target", "species", "--quiet"], ["iris is a built-in dataset"]),
    (["explain", "xor-article", "--model", "x.npz"], ["not both"]),
    (["explain", "xor-article", "--sample", "2"], ["--sample only apply with --model"]),
    (["evaluate", "m.npz", "--dataset", "data.csv", "--split", "test", "--target", "y"], ["leave out --target"]),
    (["evaluate", "m.npz", "--target", "size"], ["--target applies to a file given with --dataset"]),
])
def test_contradictory_options_are_refused(tmp_path, args, words):
    message = one_line_error(glassnet(*args, cwd=tmp_path, check=False))
    for word in words:
        assert word in message


def test_bad_output_paths_are_refused_before_training(tmp_path):
    (tmp_path / "folder").mkdir()
    message = one_line_error(glassnet("train", "--dataset", "xor", "--out", "folder", "--quiet", cwd=tmp_path,
                                      check=False))
    assert "--out 'folder' is a folder" in message
    (tmp_path / "afile").write_text("")
    message = one_line_error(glassnet("train", "--dataset", "xor", "--plots", "afile/plots", "--quiet",
                                      cwd=tmp_path, check=False))
    assert "--plots 'afile/plots'" in message and not (tmp_path / "model.npz").exists()


def test_playground_refuses_a_port_in_use_before_printing_its_url():
    pytest.importorskip("uvicorn", reason="the playground is the web extra")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = glassnet("playground", "--port", str(taken.getsockname()[1]), check=False)
    message = one_line_error(result)
    assert result.stdout == "" and "Address already in use" in message


# ---- tiny sets, readable output ------------------------------------------------------------------------
def test_truth_tables_train_and_report_on_all_four_rows(tmp_path):
    result = glassnet("train", "--dataset", "xor", "--layers", "3", "--activation", "tanh", "--epochs", "400",
                      "--learning-rate", "0.1", "--quiet", "--out", "xor.npz", cwd=tmp_path)
    assert "trained and evaluated on all of them" in result.stdout
    assert "test:" not in result.stdout and "train: loss" in result.stdout
    evaluated = json.loads(glassnet("evaluate", "xor.npz", "--json", cwd=tmp_path).stdout)
    assert evaluated["samples"] == 4 and evaluated["accuracy"] == 1.0
    write_csv(tmp_path / "xor.csv", ["x1", "x2"], [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert glassnet("predict", "xor.npz", "xor.csv", cwd=tmp_path).stdout.split() == ["0", "1", "1", "0"]


def test_proba_names_its_columns(boxes, tmp_path):
    write_csv(tmp_path / "two.csv", ["width", "height", "depth"], [[0.9, 0.9, 0.9], [0.1, 0.1, 0.1]])
    text = glassnet("predict", str(boxes / "boxes.npz"), str(tmp_path / "two.csv"), "--proba").stdout.splitlines()
    assert text[0] == "P(big),P(small)"
    big, small = (list(map(float, line.split(","))) for line in text[1:])
    assert big[0] > 0.5 > small[0] and sum(big) == pytest.approx(1, abs=1e-5)
    as_json = json.loads(glassnet("predict", str(boxes / "boxes.npz"), str(tmp_path / "two.csv"), "--proba",
                                  "--json").stdout)
    assert as_json["columns"] == ["big", "small"]


def test_info_reads_a_model_saved_by_the_scikit_learn_wrapper(tmp_path):
    pytest.importorskip("sklearn")
    from glassnet.sklearn import GlassnetClassifier

    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    GlassnetClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, [0, 1, 1, 0] * 5).save(
        str(tmp_path / "wrapped.npz"))
    out = glassnet("info", str(tmp_path / "wrapped.npz")).stdout
    assert "?" not in out and "saved by the scikit-learn wrapper GlassnetClassifier" in out
    assert "hidden_layer_sizes=[3]" in out or "hidden_layer_sizes=(3,)" in out


def option_helps(command):
    """{option: its help text} from ``glassnet COMMAND --help`` (argparse's layout: option at column 2)."""
    lines = glassnet(command, "--help").stdout.split("options:", 1)[1].split("\n\n")[0].splitlines()
    helps, option = {}, None
    for line in lines:
        if line.startswith("  -"):
            head = line.strip().split("  ", 1)
            option = re.findall(r"--[\w-]+", head[0])[0]
            helps[option] = head[1].strip() if len(head) > 1 else ""
        elif option:
            helps[option] += " " + line.strip()
    return {option: text.strip() for option, text in helps.items()}


def test_train_help_shows_every_default_and_helps_every_option():
    from glassnet.cli import build_parser

    train = build_parser().parse_args(["train"])  # the defaults, read independently of the help text
    helps = option_helps("train")
    for option, default in [("--epochs", train.epochs), ("--learning-rate", train.learning_rate),
                            ("--optimizer", train.optimizer), ("--batch-size", train.batch_size),
                            ("--seed", train.seed)]:
        assert helps[option].endswith(f"(default: {default})"), (option, helps[option])
    for command in ["train", "evaluate", "predict", "explain", "info", "export", "playground", "datasets"]:
        for option, text in option_helps(command).items():
            assert len(text) > 5, (command, option)


def test_progress_to_a_file_has_no_carriage_returns(tmp_path):
    result = glassnet("train", "--dataset", "xor", "--epochs", "30", "--out", "x.npz", cwd=tmp_path)
    assert "\r" not in result.stderr and "epoch 30/30 (100%)" in result.stderr
    assert len(result.stderr.splitlines()) <= 11  # one line per tenth of the run


def test_markdown_trace_tables_keep_their_columns():
    markdown = glassnet("explain", "dog-breeds", "--format", "markdown").stdout
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables, current = tables + [current], []
    assert len(tables) >= 2
    for table in tables:  # every row has as many cells as the header (an escaped \| is not a separator)
        counts = {len(line.replace("\\|", "").strip().strip("|").split("|")) for line in table}
        assert len(counts) == 1, table[0]
    assert "max \\|∂C/∂w\\|" in markdown
    assert "its unit is ŷ4" in markdown and "numbered from 1" in markdown


def test_bias_units_are_named_as_biases_in_deeper_networks():
    import glassnet as gn

    net = gn.Network([2, 2, 2, 1], activation="tanh", output="sigmoid", seed=0)
    text = net.trace(np.array([[0.5, -0.5]]), np.array([1]), learning_rate=0.1).to_text()
    assert "w(z1_bias→z2_1)" in text and "w(x0→z1_1)" in text and "_0→" not in text
