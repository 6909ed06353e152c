import json
import os
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.data import Standardizer
from glassnet.modelfile import Model, atomic_write, load_model, save_model


@pytest.fixture
def model():
    net = gn.Network([3, 5, 4], activation="leaky_relu", output="softmax", seed=1, dtype="float32")
    net.fit(np.random.default_rng(0).normal(size=(40, 3)), np.arange(40) % 4, epochs=2)
    return Model(net, Standardizer(np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.0, 2.0])), ["a", "b", "c", "d"],
                 ["f1", "f2", "f3"], {"optimizer": "sgd", "learning_rate": 0.1})


def test_round_trip_is_bit_exact(tmp_path, model):
    path = str(tmp_path / "m.npz")
    save_model(path, model)
    loaded = load_model(path)
    for a, b in zip(model.network.get_weights(), loaded.network.get_weights()):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert loaded.network.get_config() == model.network.get_config()
    assert loaded.class_labels == ["a", "b", "c", "d"] and loaded.feature_names == ["f1", "f2", "f3"]
    assert loaded.training == {"optimizer": "sgd", "learning_rate": 0.1}
    X = np.random.default_rng(1).normal(size=(7, 3))
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.predict(X).tolist() == model.predict(X).tolist()


def test_no_pickle_anywhere_in_the_file(tmp_path, model):
    path = str(tmp_path / "m.npz")
    save_model(path, model)
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            header = archive.read(name)[:200]
            assert b"'descr': '|O'" not in header and b"pickle" not in header


def _rewrite(path, replace):
    """Rewrite the zip with ``replace(name, bytes) -> bytes or None`` applied to each entry."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            new = replace(name, content)
            if new is not None:
                archive.writestr(name, new)


def _altered_json(name, content):
    if name != "meta.npy":
        return content
    header_end = content.index(b"\n") + 1
    body = content[header_end:].replace(b'"leaky_relu"', b'"relu_leaky"'[:12])
    return content[:header_end] + body


@pytest.mark.parametrize("damage,words", [
    (lambda p: open(p, "r+b").truncate(os.path.getsize(p) // 2), ["not a readable zip", "truncated"]),
    (lambda p: open(p, "wb").write(b"PK\x03\x04" + os.urandom(300)), ["not a readable zip"]),
    (lambda p: open(p, "wb").write(b"hello, I am a text file"), ["not a glassnet model file"]),
    (lambda p: np.savez(p, weights=np.ones(3)), ["no glassnet header"]),
    (lambda p: _rewrite(p, _altered_json), ["checksum mismatch"]),
    (lambda p: _rewrite(p, lambda n, c: c if n != "W1.npy" else c[:-8] + np.float32([7, 7]).tobytes()),
     ["checksum mismatch"]),
    (lambda p: _rewrite(p, lambda n, c: None if n == "b2.npy" else c), ["arrays it lists"]),
])
def test_damaged_files_give_a_clear_error(tmp_path, model, damage, words):
    path = str(tmp_path / "m.npz")
    save_model(path, model)
    damage(path)
    with pytest.raises(gn.ModelFileError) as info:
        load_model(path)
    for word in words:
        assert word in str(info.value), str(info.value)
    assert path in str(info.value)


def test_newer_format_and_foreign_json(tmp_path, model):
    from glassnet import modelfile

    path = str(tmp_path / "m.npz")
    original = modelfile.FORMAT_VERSION
    try:
        modelfile.FORMAT_VERSION = original + 1
        save_model(path, model)
    finally:
        modelfile.FORMAT_VERSION = original
    with pytest.raises(gn.ModelFileError, match="newer glassnet.*upgrade"):
        load_model(path)
    meta = json.dumps({"format": "other-tool"}).encode()
    np.savez(path, meta=np.frombuffer(meta, np.uint8), meta_sha256=np.frombuffer(b"0" * 64, np.uint8))
    with pytest.raises(gn.ModelFileError, match="not a glassnet model file"):
        load_model(path)


def test_huge_declared_size_is_refused_before_reading(tmp_path, model):
    path = str(tmp_path / "m.npz")
    save_model(path, model)
    with open(path, "r+b") as handle:  # patch the central directory's uncompressed size of the first entry
        content = bytearray(handle.read())
        central = content.index(b"PK\x01\x02")
        content[central + 24:central + 28] = (0xFFFFFFF0).to_bytes(4, "little")
        handle.seek(0)
        handle.write(content)
    with pytest.raises(gn.ModelFileError):
        load_model(path)


def test_missing_file_and_bad_folder(tmp_path, model):
    with pytest.raises(gn.ModelFileError, match="no such model file"):
        load_model(str(tmp_path / "nothing.npz"))
    with pytest.raises(gn.ModelFileError, match="does not exist"):
        save_model(str(tmp_path / "no" / "dir" / "m.npz"), model)


def test_interrupted_save_leaves_previous_file_intact(tmp_path, model, monkeypatch):
    path = str(tmp_path / "m.npz")
    save_model(path, model)
    before = open(path, "rb").read()

    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash)
    model.network.layers[0].W += 1
    with pytest.raises(KeyboardInterrupt):
        save_model(path, model)
    assert open(path, "rb").read() == before
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]  # the temporary file is cleaned up
    load_model(path)


def test_atomic_write_replaces_whole_file(tmp_path):
    path = str(tmp_path / "x.bin")
    atomic_write(path, b"a" * 100)
    atomic_write(path, b"b" * 10)
    assert open(path, "rb").read() == b"b" * 10
