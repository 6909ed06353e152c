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
    ("a,b,y\n1,x,0\n", ["line 2", "column 'b'", "'x' is not a number", "only the target column may hold class"]),
    ("", ["header row"]),
    ("a,b,y\n", ["at least one data row"]),
    ("a,b,y\n1,nan,0\n", ["line 2", "column 'b'", "not a finite number"]),
    ("a,y\n0,1\n1,1e310\n", ["line 3", "column 'y'", "'1e310' is not a finite number"]),
    # an empty label is never a class of its own (a new user's file trained a 4th class named "")
    ("a,b,y\n1,2,cat\n3,4,\n5,6,dog\n7,8, \n", ["target is empty in 2 row(s)", "data row 2"]),
    ("a,y\n1,0\n2,\n3,1\n", ["target is empty in 1 row(s)", "data row 2"]),
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


# ---- files from anyone: every format failure is a DataError naming the file (issue 15) -------------------
import io  # noqa: E402
import zipfile  # noqa: E402

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _flag_encrypted(content: bytes) -> bytes:
    content = bytearray(content)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # general-purpose flag, bit 0
        start = 0
        while (start := content.find(signature, start)) != -1:
            content[start + offset] |= 1
            start += 4
    return bytes(content)


def _unknown_compression(content: bytes) -> bytes:
    content = bytearray(content)
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := content.find(signature, start)) != -1:
            content[start + offset:start + offset + 2] = (99).to_bytes(2, "little")
            start += 4
    return bytes(content)


def _npy_with_header(header: str, data: bytes = b"") -> bytes:
    text = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1") + data


def _text_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


GOOD_NPZ = _npz_bytes(X=np.arange(12.0).reshape(6, 2), y=np.array([0, 1, 0, 1, 0, 1]))
BROKEN_NUMPY_FILES = [
    ("cut.npz", GOOD_NPZ[: len(GOOD_NPZ) // 2], "not a readable zip"),
    ("crc.npz", GOOD_NPZ.replace(np.arange(12.0).tobytes()[8:16], b"\x00" * 8), "corrupt or unreadable"),
    ("locked.npz", _flag_encrypted(GOOD_NPZ), "npz"),
    ("squeezed.npz", _unknown_compression(GOOD_NPZ), "npz"),
    ("text.npz", _text_zip(), "'readme.txt' is not a numpy array"),
    ("bracket.npy", _npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), } [", b"\0" * 32),
     "unreadable .npy header"),
    ("huge.npy", _npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000, 3), }"),
     "declares shape (100000000000, 3)"),
    ("big.npy", _npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 3), }"),
     "declares shape (1000000000, 3)"),
    ("object.npy", _npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }"), "dtype object"),
    ("huge.npz", _npz_bytes(X=np.zeros((2, 2)), y=np.zeros(2)).replace(b"(2, 2)", b"(10**11, 3)"[:6]), "npz"),
    ("short.npy", b"\x93NUMPY", "not a numpy .npy"),
]


@pytest.mark.parametrize("name,content,words", BROKEN_NUMPY_FILES)
def test_broken_numpy_files_are_data_errors_naming_the_file(tmp_path, name, content, words):
    import tracemalloc

    path = tmp_path / name
    path.write_bytes(content)
    for read in (data.load, data.load_features):
        tracemalloc.start()
        with pytest.raises(gn.DataError) as info:
            read(str(path))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert str(path) in str(info.value) and peak < 4 * 2 ** 20
        if read is data.load:
            assert words in str(info.value), str(info.value)


def test_npz_with_too_many_entries_or_bytes_is_refused(tmp_path, monkeypatch):
    many = tmp_path / "many.npz"
    many.write_bytes(_npz_bytes(**{f"a{i}": np.zeros(1) for i in range(data.MAX_NPZ_ENTRIES + 1)}))
    with pytest.raises(gn.DataError, match="entries, over the limit of 16"):
        data.load(str(many))
    good = tmp_path / "good.npz"
    good.write_bytes(GOOD_NPZ)
    monkeypatch.setattr(data, "MAX_DATA_BYTES", 100)
    with pytest.raises(gn.DataError, match="over the limit of 100"):
        data.load(str(good))


def test_target_on_an_npy_is_a_column_index(tmp_path):
    path = tmp_path / "t.npy"
    np.save(path, np.array([[1.0, 0.0, 5.0], [2.0, 1.0, 6.0], [3.0, 0.0, 7.0], [4.0, 1.0, 8.0]]))
    dataset = data.load_file(str(path), target="1")
    assert dataset.y.tolist() == [0, 1, 0, 1] and dataset.X.tolist() == [[1, 5], [2, 6], [3, 7], [4, 8]]
    for target, words in (("label", "must be a column index from 0 to 2"), ("3", "out of range"),
                          ("1.5", "column index")):
        with pytest.raises(gn.DataError, match=words):
            data.load_file(str(path), target=target)


@pytest.mark.parametrize("delimiter,name", [(";", "semicolon"), ("\t", "tab"), ("|", "vertical bar")])
def test_csv_delimiter_is_detected_and_named(tmp_path, delimiter, name):
    path = tmp_path / "d.csv"
    rows = [["a", "b", "label"], ["1", "2", "x"], ["3", "4", "y"], ["5", "6", "x"], ["7", "8", "y"]]
    path.write_text("\n".join(delimiter.join(row) for row in rows) + "\n")
    dataset = data.load(str(path))
    assert dataset.X.tolist() == [[1, 2], [3, 4], [5, 6], [7, 8]] and dataset.y.tolist() == [0, 1, 0, 1]
    assert f"{name}-separated" in dataset.description
    path.write_text(rows[0][0] + ";" + rows[0][1] + "\t" + rows[0][2] + "\n1;2\t3\n")
    with pytest.raises(gn.DataError, match="several possible delimiters"):
        data.load(str(path))


def test_csv_of_one_column_says_what_it_found(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a b c\n1 2 3\n")
    with pytest.raises(gn.DataError, match="found 1 column .*no comma, semicolon, tab or vertical bar"):
        data.load(str(path))


def test_task_detection_is_bounded(tmp_path):
    rng = np.random.default_rng(0)
    prices = tmp_path / "prices.csv"
    rows = [f"{a:.3f},{p}" for a, p in zip(rng.normal(size=10_000), rng.integers(1_000, 500_000, 10_000))]
    prices.write_text("area,price\n" + "\n".join(rows) + "\n")
    with pytest.raises(gn.DataError, match="distinct whole numbers.*--task regression.*--task classification"):
        data.load(str(prices))
    assert data.load_file(str(prices), task="regression").task == "regression"
    with pytest.raises(gn.DataError, match="more than 1,000 classes"):
        data.load_file(str(prices), task="classification")
    huge = tmp_path / "huge.csv"
    huge.write_text("x,y\n" + "\n".join(f"{i},{i + 1}e30" for i in range(300)) + "\n")
    with pytest.raises(gn.DataError, match="300 distinct whole numbers in 300 rows"):
        data.load(str(huge))
    few = tmp_path / "few.csv"  # 5 distinct integers in 40 rows: taken as 5 classes
    few.write_text("x,y\n" + "\n".join(f"{i},{i % 5}" for i in range(40)) + "\n")
    assert data.load(str(few)).n_classes == 5
    half = tmp_path / "half.csv"  # 21 distinct integers in 40 rows: over half, refused
    half.write_text("x,y\n" + "\n".join(f"{i},{i % 21}" for i in range(40)) + "\n")
    with pytest.raises(gn.DataError, match="21 distinct"):
        data.load(str(half))
    single = tmp_path / "single.csv"
    single.write_text("x,y\n1,3\n2,3\n")
    with pytest.raises(gn.DataError, match="single class"):
        data.load(str(single))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=600), suffix=st.sampled_from([".npy", ".npz", ".csv"]),
       prefix=st.sampled_from([b"", b"\x93NUMPY\x01\x00", b"PK\x03\x04", GOOD_NPZ[:200]]))
def test_fuzz_data_files_fail_only_with_data_errors(tmp_path, content, suffix, prefix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(prefix + content)
    for read in (data.load, data.load_features):
        try:
            read(str(path))
        except gn.GlassnetError as error:
            assert str(path) in str(error)
