"""The data contract: columns matched by name, labels mapped through a model's classes (glassnet.contract)."""
import numpy as np
import pytest

from glassnet.contract import align_columns, column_order, encode_labels, label_key
from glassnet.errors import LabelError, ShapeError


@pytest.mark.parametrize("label,key", [(7, "7"), (7.0, "7"), ("7", "7"), (" 7 ", "7"), ("7.0", "7"),
                                       (np.int64(7), "7"), (2.5, "2.5"), ("big", "big"), (True, "True"),
                                       ("nan", "nan"), (float("inf"), "inf"), ("007", "7")])
def test_label_key_writes_whole_numbers_plainly(label, key):
    assert label_key(label) == key


def test_labels_map_through_the_models_classes_not_the_files():
    # the file holds only two of the model's three classes: indices are the model's, written out by hand
    assert encode_labels(["small", "small", "medium"], ["big", "medium", "small"], "f.csv").tolist() == [2, 2, 1]
    assert encode_labels([9, 5, 7], list(range(10)), "f.csv").tolist() == [9, 5, 7]
    # a model saved with the labels '0'..'9' as text still matches a file with the numbers
    assert encode_labels([3, 0], [str(i) for i in range(10)], "f.csv").tolist() == [3, 0]


def test_an_unknown_label_is_an_error_naming_it_and_the_classes():
    with pytest.raises(LabelError, match=r"f.csv: 'huge' is not among the model's classes \('big', 'small'\)"):
        encode_labels(["big", "huge"], ["big", "small"], "f.csv")


def test_columns_are_reordered_by_name_and_the_target_is_set_aside():
    X = np.array([[1.0, 2.0, 3.0, 9.0]])  # depth, target, width, height
    aligned = align_columns(["depth", "size", "width", "height"], X, ["width", "height", "depth"], "f.csv",
                            target="size")
    assert aligned.tolist() == [[3.0, 9.0, 1.0]]


def test_missing_unexpected_and_repeated_columns_are_named():
    with pytest.raises(ShapeError, match=r"missing 'depth'; unexpected 'deep' \(renamed\?\)"):
        column_order(["width", "height", "deep"], 3, ["width", "height", "depth"], "f.csv")
    with pytest.raises(ShapeError, match=r"unexpected 'colour'"):
        column_order(["width", "colour"], 2, ["width"], "f.csv")
    with pytest.raises(ShapeError, match=r"names 'width' more than once"):
        column_order(["width", "width"], 2, ["width", "height"], "f.csv")


def test_data_without_names_is_taken_by_position_with_the_expected_count():
    X = np.arange(6.0).reshape(2, 3)
    assert align_columns(None, X, ["a", "b", "c"], "x.npy").tolist() == X.tolist()
    with pytest.raises(ShapeError, match="2 columns without names, but the model takes 3 features"):
        align_columns(None, X[:, :2], ["a", "b", "c"], "x.npy")


def test_csv_labels_keep_their_type_and_a_numeric_first_row_is_data(tmp_path):
    from glassnet import data

    (tmp_path / "numbers.csv").write_text("a,label\n0.1,3\n0.2,10\n0.3,3\n")
    numbers = data.load_csv(str(tmp_path / "numbers.csv"))
    assert numbers.class_labels == [3, 10] and all(type(c) is int for c in numbers.class_labels)
    assert numbers.y.tolist() == [0, 1, 0]  # 3 < 10 as numbers, not as text ("10" < "3")
    (tmp_path / "halves.csv").write_text("a,label\n0.1,1.5\n0.2,1.0\n")
    halves = data.load_csv(str(tmp_path / "halves.csv"), task="classification")
    assert halves.class_labels == [1, 1.5]  # 1.5 is not collapsed into 1
    (tmp_path / "plain.csv").write_text("0.5,0.25,1\n0.75,0.5,0\n")
    plain = data.load_csv(str(tmp_path / "plain.csv"))
    assert plain.X.tolist() == [[0.5, 0.25], [0.75, 0.5]] and plain.feature_names == ["column_1", "column_2"]
    assert not plain.named_columns and plain.target_name == "column_3"


def test_python_model_matches_dataframe_columns_by_name_and_scores_its_own_labels():
    """Model.predict on a DataFrame honours the contract as the CLI does: columns by name in any order,
    a renamed column refused; evaluate takes the labels predict returns."""
    import numpy as np
    import pandas as pd
    import pytest

    import glassnet as gn
    from glassnet.modelfile import Model

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] > 0).astype(int)
    net = gn.Network([3, 4, 2], activation="tanh", output="softmax", seed=0)
    net.fit(X, y, epochs=60, learning_rate=0.1)
    model = Model(net, None, ["neg", "pos"], ["a", "b", "c"])
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    in_order = model.predict(X)
    assert list(model.predict(frame[["c", "a", "b"]])) == list(in_order)
    with pytest.raises(gn.GlassnetError, match="p"):
        model.predict(frame.rename(columns={"a": "p"}))
    labels = np.array(["neg", "pos"], dtype=object)[y]
    expected = float(np.mean(np.asarray(in_order) == labels))  # accuracy counted here, label by label
    assert model.evaluate(frame, labels)["accuracy"] == pytest.approx(expected)
    with pytest.raises(gn.GlassnetError, match="kiwi"):
        model.evaluate(frame, ["kiwi"] * 60)
