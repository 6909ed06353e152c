import socket

import numpy as np
import pytest

import glassnet as gn
from glassnet import data


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a dataset tried to use the network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name,shape,n_classes", [
    ("xor", (4, 2), 2), ("and", (4, 2), 2), ("or", (4, 2), 2), ("moons", (400, 2), 2), ("circles", (400, 2), 2),
    ("spirals", (400, 2), 2), ("blobs", (300, 2), 3), ("regression", (300, 1), 0), ("digits", (1797, 64), 10),
    ("digits25", (1797, 625), 10), ("iris", (150, 4), 3), ("wine", (178, 13), 3), ("breast_cancer", (569, 30), 2),
    ("mnist5k", (5000, 784), 10),
])
def test_every_dataset_loads_offline(no_network, name, shape, n_classes):
    dataset = data.load(name)
    assert dataset.X.shape == shape and dataset.y.shape == (shape[0],)
    assert np.isfinite(dataset.X).all() and dataset.n_classes == n_classes
    if n_classes:
        assert set(np.unique(dataset.y)) == set(range(n_classes))
    assert name in data.names()


def test_mnist5k_is_real_mnist_500_per_class():
    dataset = data.load("mnist5k")
    assert np.bincount(dataset.y).tolist() == [500] * 10
    assert dataset.X.max() == 255 and "CC BY-SA 3.0" in dataset.description


def test_digits25_is_a_bilinear_resize_of_digits():
    small, big = data.load("digits"), data.load("digits25")
    image = small.X[0].reshape(8, 8)
    resized = big.X[0].reshape(25, 25)
    # corners are kept; the centre of pixel (0,0)-(0,1) edge lies between the two source values
    assert resized[0, 0] == image[0, 0] and resized[24, 24] == image[7, 7] and resized[0, 24] == image[0, 7]
    # position of output column 12 in the source: 12 · 7/24 = 3.5 -> mean of columns 3 and 4 on row 0
    assert resized[0, 12] == pytest.approx((image[0, 3] + image[0, 4]) / 2)
    assert np.array_equal(small.y, big.y)


def test_generated_sets_are_seeded():
    a, b, c = data.load("moons", seed=1), data.load("moons", seed=1), data.load("moons", seed=2)
    assert np.array_equal(a.X, b.X) and not np.array_equal(a.X, c.X)


def test_csv_with_header_named_target_and_class_names(tmp_path):
    path = tmp_path / "pets.csv"
    path.write_text("\ufeffweight,label,height\n4.5,cat,30\n30,dog,60\n5,cat,25\n", encoding="utf-8")
    dataset = data.load_csv(str(path), target="label")
    assert dataset.X.tolist() == [[4.5, 30], [30, 60], [5, 25]] and dataset.y.tolist() == [0, 1, 0]
    assert dataset.class_labels == ["cat", "dog"] and dataset.feature_names == ["weight", "height"]


@pytest.mark.parametrize("content,words", [
    ("a,b,y\n1,2,0\n3,4\n", ["line 3", "2 fields", "header has 3"]),
    ("a,b,y\n1,x,0\n", ["line 2", "column 'b'", "'x' is not a number"]),
    ("", ["header row"]),
    ("a,b,y\n", ["at least one data row"]),
    ("a,b,y\n1,nan,0\n", ["line 2", "column 'b'", "not a finite number"]),
    ("a,y\n0,1\n1,1e310\n", ["line 3", "column 'y'", "'1e310' is not a finite number"]),
])
def test_csv_errors(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(gn.DataError) as info:
        data.load_csv(str(path))
    for word in words:
        assert word in str(info.value)


def test_csv_not_utf8_and_unknown_target(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b,y\n1,2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(gn.DataError, match="not UTF-8"):
        data.load_csv(str(path))
    good = tmp_path / "good.csv"
    good.write_text("a,b,y\n1,2,0\n")
    with pytest.raises(gn.DataError, match="no column named 'z'; columns are: a, b, y"):
        data.load_csv(str(good), target="z")


def test_csv_utf16_with_byte_order_mark(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes("a,y\n1,0\n2,1\n".encode("utf-16"))
    assert data.load_csv(str(path)).X.tolist() == [[1.0], [2.0]]


def test_npz_and_npy(tmp_path):
    X, y = np.arange(6.0).reshape(3, 2), np.array([0, 1, 0])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    loaded = data.load(str(tmp_path / "d.npz"))
    assert np.array_equal(loaded.X, X) and loaded.y.tolist() == [0, 1, 0]
    np.save(tmp_path / "t.npy", np.c_[X, [1.5, 2.5, 3.5]])
    regression = data.load(str(tmp_path / "t.npy"))
    assert regression.task == "regression" and regression.y.tolist() == [1.5, 2.5, 3.5]
    np.savez(tmp_path / "inf.npz", X=X, y=np.array([0.0, np.inf, 1.0]))
    with pytest.raises(gn.DataError, match="target holds NaN or infinite"):
        data.load(str(tmp_path / "inf.npz"))
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(gn.DataError, match="dtype object are not accepted"):
        data.load(str(tmp_path / "obj.npy"))


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(gn.UnknownNameError, match="digits25") as info:
        data.load("imagenet")
    assert "mnist5k" in str(info.value)


def test_split_is_seeded_and_disjoint():
    X, y = np.arange(100.0).reshape(50, 2), np.arange(50)
    (a, b), (c, d), (e, f) = data.split(X, y, test=0.2, validation=0.1, seed=3)
    assert len(b) == 35 and len(d) == 5 and len(f) == 10
    assert sorted(np.r_[b, d, f].tolist()) == list(range(50))
    assert np.array_equal(data.split(X, y, 0.2, 0.1, 3)[2][1], f)
    with pytest.raises(gn.ConfigError):
        data.split(X, y, test=0.6, validation=0.5)


def test_standardizer():
    X = np.array([[1.0, 5.0], [3.0, 5.0]])
    s = data.Standardizer().fit(X)
    assert s.transform(X).tolist() == [[-1.0, 0.0], [1.0, 0.0]]  # constant feature: std taken as 1
