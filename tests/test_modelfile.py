import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ---- headers written by someone else: every field typed and bounded (issue 15) ----------------------------
def _parts(path):
    """The header (dict) and arrays of a model file, read as any other program would."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files if k not in ("meta", "meta_sha256")}
        return json.loads(archive["meta"].tobytes()), arrays


def forge(path, meta_bytes: bytes, arrays: dict, compression=zipfile.ZIP_STORED):
    """A model file with this header and a valid checksum (anyone can compute one), to reach the checks
    behind it. The checksum is written out here: SHA-256 over the header, then each array's name, dtype,
    shape and bytes in name order, as the module docstring says."""
    import hashlib

    digest = hashlib.sha256(meta_bytes)
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(name.encode() + array.dtype.str.encode() + str(array.shape).encode() + array.tobytes())
    entries = {"meta": np.frombuffer(meta_bytes, np.uint8),
               "meta_sha256": np.frombuffer(digest.hexdigest().encode(), np.uint8), **arrays}
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, array in entries.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asarray(array), allow_pickle=False)


def _with(meta, change):
    meta = json.loads(json.dumps(meta))
    change(meta)
    return json.dumps(meta).encode()


def _set_std(arrays, value):
    arrays["std"] = value


HOSTILE_HEADERS = [
    # (what the header says, how the arrays change, words the error must hold)
    (lambda m: m["arrays"]["W1"].update(shape=[3, "Infinity"]), None, "Infinity is not allowed"),
    (lambda m: m["arrays"]["W1"].update(shape=[2 ** 70, 5]), None, "header.arrays.W1.shape[0]"),
    (lambda m: m["arrays"].pop("std"), lambda a: a.pop("std"), "header.arrays.std"),
    (lambda m: m["arrays"]["std"].update(shape=[2]), lambda a: _set_std(a, np.ones(2)), "header.arrays.std"),
    (lambda m: m["arrays"]["std"].update(shape=[1]), lambda a: _set_std(a, np.ones(1)), "header.arrays.std"),
    (lambda m: m.update(class_labels=["a"]), None, "1 labels for 4 outputs"),
    (lambda m: m.update(class_labels=[{"x": 1}, "b", "c", "d"]), None, "header.class_labels[0]"),
    (lambda m: m["training"].update(learning_rate="fast"), None, "header.training.learning_rate: must be a number"),
    (lambda m: m["training"].update(optimizer=["sgd"]), None, "header.training.optimizer: must be text"),
    (lambda m: m["training"].update(n_samples=10 ** 9), None, "header.training.n_samples"),
    (lambda m: m.update(training=[1, 2]), None, "header.training: must be an object"),
    (lambda m: m["network"]["layers"][0].update(n_in=True), None, "header.network.layers[0].n_in"),
    (lambda m: m["network"]["layers"][1].update(n_in=6), None, "does not match the previous layer"),
    (lambda m: m["network"]["layers"][0].update(activation="relu"), None, "header.network.layers[0].activation"),
    (lambda m: m["network"]["layers"][0]["activation"].update(name="no_such"), None, "no_such"),
    (lambda m: m.update(surprise=1), None, "header.'surprise': is not a known field"),
    (lambda m: m.update(feature_names=["only one"]), None, "1 names for 3 inputs"),
    (lambda m: m.update(kind="weights"), None, "header.kind"),
]


@pytest.mark.parametrize("change,arrays_change,words", HOSTILE_HEADERS)
def test_hostile_header_fields_are_refused_naming_file_and_field(tmp_path, model, change, arrays_change, words):
    path = str(tmp_path / "m.npz")
    save_model(path, model)
    meta, arrays = _parts(path)
    meta_bytes = _with(meta, change).replace(b'"Infinity"', b"Infinity")
    if arrays_change:
        arrays_change(arrays)
    forge(path, meta_bytes, arrays)
    with pytest.raises(gn.ModelFileError) as info:
        load_model(path)
    assert path in str(info.value) and words in str(info.value), str(info.value)


@pytest.mark.parametrize("raw,words", [
    (b'{"format": "glassnet-model", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "100,001 levels deep"),
    (b'{"format": "glassnet-model", "x": ' + b"7" * 5000 + b"}", "5,000 digits"),
    (b'{"format": "glassnet-model", "x": NaN}', "NaN is not allowed"),
    (b'{"format": "glassnet-model", "x": 1e999}', "not finite"),
    (b'[1, 2]', "must be a JSON object"),
    (b'\xff\xfe{}', "not valid JSON"),
])
def test_header_json_is_bounded(tmp_path, raw, words):
    path = str(tmp_path / "m.npz")
    forge(path, raw, {})
    with pytest.raises(gn.ModelFileError, match=words):
        load_model(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(0, 200), digits=st.integers(1, 300))
def test_header_depth_and_integer_size_limits(tmp_path, model, depth, digits):
    """Nesting up to 32 levels and integers up to 40 digits are read as JSON; beyond, refused by name."""
    path = str(tmp_path / "m.npz")
    save_model(path, model)
    meta, arrays = _parts(path)
    meta_bytes = _with(meta, lambda m: m.update(extra={})).replace(
        b'"extra": {}', b'"extra": {"x": ' + b"[" * depth + b"1" * digits + b"]" * depth + b"}")
    forge(path, meta_bytes, arrays)
    outer_depth = depth + 2  # the header object itself and "extra"
    if outer_depth > 32 or digits > 40:
        with pytest.raises(gn.ModelFileError, match="levels deep|digits"):
            load_model(path)
    else:
        assert load_model(path).extra_meta is not None


def test_zip_bomb_and_archive_caps(tmp_path, monkeypatch):
    """A small file holding a large array of zeros is refused before anything is decompressed; so are
    more entries, or more bytes in all, than the limits."""
    import tracemalloc

    from glassnet import modelfile

    net = gn.Network([2048, 4096], output="identity", seed=0, dtype="float32")  # W: 32 MiB
    net.set_weights([np.zeros((2048, 4096), np.float32), np.zeros(4096, np.float32)])
    plain = str(tmp_path / "plain.npz")
    save_model(plain, net)
    meta, arrays = _parts(plain)
    bomb = str(tmp_path / "bomb.npz")
    forge(bomb, json.dumps(meta).encode(), arrays, compression=zipfile.ZIP_DEFLATED)
    assert os.path.getsize(bomb) < 2 ** 20
    tracemalloc.start()
    with pytest.raises(gn.ModelFileError, match="zip bomb") as info:
        load_model(bomb)
    assert tracemalloc.get_traced_memory()[1] < 8 * 2 ** 20 and bomb in str(info.value)
    tracemalloc.stop()
    monkeypatch.setattr(modelfile, "MAX_MODEL_BYTES", 2 ** 20)
    with pytest.raises(gn.ModelFileError, match="over the limit of 1,048,576"):
        load_model(plain)
    many = str(tmp_path / "many.npz")
    np.savez(many, **{f"a{i}": np.zeros(1) for i in range(modelfile.MAX_MODEL_ENTRIES + 1)})
    with pytest.raises(gn.ModelFileError, match="entries, over the limit"):
        load_model(many)


def test_a_header_that_cannot_be_written_is_refused_at_save(tmp_path, model):
    model.training = {"learning_rate": float("nan")}
    with pytest.raises(gn.ModelFileError, match="cannot write .*header would be invalid"):
        save_model(str(tmp_path / "m.npz"), model)
    assert os.listdir(tmp_path) == []


# ---- temporary files and signals during saves ------------------------------------------------------------
def test_next_save_removes_only_abandoned_temporaries_of_glassnets_naming(tmp_path, model):
    import fcntl
    import subprocess
    import sys

    stale = tmp_path / ".m.npz.abc123_z.glassnet-tmp"
    stale.write_bytes(b"x" * 1000)
    keep = [tmp_path / ".m.npz.abc123_z.tmp", tmp_path / "notes.glassnet-tmp", tmp_path / ".m.npz.SHORT.glassnet-tmp",
            tmp_path / "m.npz.abc123_z.glassnet-tmp"]
    for path in keep:
        path.write_bytes(b"mine")
    (tmp_path / ".d.abc123_z.glassnet-tmp").mkdir()
    busy = tmp_path / ".other.npz.busy1234.glassnet-tmp"  # a save still running in another process
    busy.write_bytes(b"being written")
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time\nf = open(sys.argv[1], 'rb')\n"
                               "fcntl.flock(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)", str(busy)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        save_model(str(tmp_path / "m.npz"), model)
        assert not stale.exists() and busy.exists() and all(path.exists() for path in keep)
        assert (tmp_path / ".d.abc123_z.glassnet-tmp").is_dir()
    finally:
        holder.kill()
        holder.wait()
    assert fcntl is not None


def test_signals_during_a_write_wait_for_it_and_are_then_delivered(tmp_path, capfd):
    import signal

    from glassnet.modelfile import deferred_signals

    seen = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(("handler", signum)))
    try:
        with deferred_signals("big.npz (100.0 MB)"):
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # give the interpreter time to run Python-level handlers
                sum(range(100))
            seen.append("write finished")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert seen == ["write finished", ("handler", signal.SIGINT), ("handler", signal.SIGINT)]
    err = capfd.readouterr().err
    assert "finishing the save of big.npz (100.0 MB)" in err and "still finishing" in err
