"""The playground's HTTP API: bad input gets a clear 4xx, sessions are isolated and cleaned up."""
import json
import time

import numpy as np
import pytest
from starlette.testclient import TestClient

from glassnet.web.server import create_app
from glassnet.web.lifetime import SessionStore, TooManySessions


@pytest.fixture
def client():
    with TestClient(create_app(), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _new(client, **settings) -> tuple[str, dict]:
    """A new session's id and the header its changes must carry."""
    created = client.post("/api/sessions", json=settings).json()
    return created["id"], {"X-Glassnet-Token": created["token"]}


def test_options_come_from_the_registries(client):
    options = client.get("/api/options").json()
    assert "xor" in options["datasets"] and "tanh" in options["activations"] and "adam" in options["optimizers"]
    assert "softmax" not in options["activations"] and "logistic" not in options["activations"]  # no aliases


@pytest.mark.parametrize("body,status,words", [
    ({"dataset": "imagenet"}, 400, "dataset must be one of"),
    ({"learning_rate": -0.1}, 400, "learning_rate must be a number in (0, 10.0]"),
    ({"hidden": [4] * 10_000}, 400, "at most 6 layer sizes"),
    ({"hidden": [100_000]}, 400, "each 1..64"),
    ({"batch_size": 10 ** 9}, 400, "batch_size must be a whole number in 1..10000"),
    ({"batch_size": "lots"}, 400, "batch_size must be a whole number"),
    ({"activation": "swish"}, 400, "activation must be one of"),
    ({"colour": "red"}, 400, "unknown settings: colour"),
    ([1, 2, 3], 400, "must be a JSON object"),
])
def test_bad_settings_get_a_clear_400(client, body, status, words):
    response = client.post("/api/sessions", content=json.dumps(body))
    assert response.status_code == status and words in response.json()["error"]


def test_malformed_json_unknown_session_and_bad_model(client):
    response = client.post("/api/sessions", content=b"{not json")
    assert response.status_code == 400 and "malformed JSON" in response.json()["error"]
    assert client.get("/api/sessions/nope").status_code == 404
    assert client.post("/api/sessions/nope/step").status_code == 404
    session, token = _new(client, dataset="xor")
    garbage = client.post(f"/api/sessions/{session}/model", content=b"PK\x03\x04 not a model", headers=token)
    assert garbage.status_code == 400 and "not a readable zip" in garbage.json()["error"]
    assert "/tmp" not in garbage.json()["error"] and "the uploaded model file" in garbage.json()["error"]
    assert client.post(f"/api/sessions/{session}/explode", headers=token).status_code == 404
    assert client.get("/api/sessions/x/model").status_code == 404


def test_model_from_another_dataset_of_the_same_shape_is_refused(client):
    moons, _ = _new(client, dataset="moons", hidden=[3])
    content = client.get(f"/api/sessions/{moons}/model").content
    xor, token = _new(client, dataset="xor", hidden=[3])
    response = client.post(f"/api/sessions/{xor}/model", content=content, headers=token)
    assert response.status_code == 400 and "trained in the playground with dataset 'moons'" in response.json()["error"]


def test_model_from_another_dataset_is_refused(client):
    digits, _ = _new(client, dataset="digits", hidden=[8])
    content = client.get(f"/api/sessions/{digits}/model").content
    xor, token = _new(client, dataset="xor")
    response = client.post(f"/api/sessions/{xor}/model", content=content, headers=token)
    assert response.status_code == 400 and "64 inputs" in response.json()["error"]


def test_two_sessions_do_not_see_each_other(client):
    a = client.post("/api/sessions", json={"dataset": "moons", "hidden": [6], "seed": 3}).json()
    b = client.post("/api/sessions", json={"dataset": "moons", "hidden": [6], "seed": 3}).json()
    assert a["id"] != b["id"] and a["weights"] == b["weights"]
    client.post(f"/api/sessions/{a['id']}/start", headers={"X-Glassnet-Token": a["token"]})
    deadline = time.time() + 30
    while client.get(f"/api/sessions/{a['id']}").json()["epoch"] < 3 and time.time() < deadline:
        time.sleep(0.05)
    client.post(f"/api/sessions/{a['id']}/pause", headers={"X-Glassnet-Token": a["token"]})
    after_a = client.get(f"/api/sessions/{a['id']}").json()
    after_b = client.get(f"/api/sessions/{b['id']}").json()
    assert after_a["epoch"] > 0 and after_b["epoch"] == 0
    assert after_a["weights"] != a["weights"] and after_b["weights"] == b["weights"]


def test_step_returns_every_number_and_applies_the_update(client):
    session, token = _new(client, dataset="xor", hidden=[3], batch_size=4)
    step = client.post(f"/api/sessions/{session}/step", headers=token).json()
    assert [len(layer["z"][0]) for layer in step["layers"]] == [3, 2]
    after = client.get(f"/api/sessions/{session}").json()
    assert after["weights"][0] == step["layers"][0]["W_new"] and step["cost_after"] < step["cost_before"]


def test_snapshot_has_class_maps_every_hidden_units_map_and_dials(client):
    session, token = _new(client, dataset="circles", hidden=[5, 3])
    client.post(f"/api/sessions/{session}/step", headers=token)
    snap = client.get(f"/api/sessions/{session}").json()
    assert snap["map"]["kind"] == "plane" and np.array(snap["map"]["classes"]).shape == (2, 40, 40)
    assert [len(layer) for layer in snap["map"]["unit_maps"]] == [5, 3]  # every hidden layer, every unit
    assert len(snap["dials"]) == 8 and snap["dials"][0]["direction"] in ("turn up", "turn down")
    assert snap["names"][1] == ["z1_1", "z1_2", "z1_3", "z1_4", "z1_5"] and snap["bias_names"] == ["x0", "z1_0", "z2_0"]


def test_three_class_blobs_send_three_probability_maps_that_sum_to_one(client):
    snap = client.post("/api/sessions", json={"dataset": "blobs", "hidden": [4]}).json()
    classes = np.array(snap["map"]["classes"])
    assert classes.shape == (3, 40, 40) and np.allclose(classes.sum(axis=0), 1, atol=2e-3)
    assert sorted(set(snap["map"]["labels"])) == [0, 1, 2]


def test_train_validation_and_test_splits_are_scored(client):
    snap = client.post("/api/sessions", json={"dataset": "moons", "samples": 200, "test_fraction": 0.5}).json()
    # 200 rows: 100 test, then a fifth of the other 100 for validation
    assert len(snap["map"]["test_points"]) == 100 and snap["n_samples"] == 80
    assert set(snap["scores"]) == {"train", "validation", "test"} and all(snap["scores"].values())
    xor = client.post("/api/sessions", json={"dataset": "xor"}).json()
    assert xor["scores"]["test"] is None and xor["n_samples"] == 4  # the truth table is not split


def test_input_features_are_computed_from_the_raw_points(client):
    snap = client.post("/api/sessions", json={"dataset": "circles", "features": ["x1sq", "x2sq", "x1x2", "sinx1"],
                                              "hidden": [2]}).json()
    assert snap["sizes"][0] == 4 and snap["names"][0] == ["x1²", "x2²", "x1·x2", "sin x1"]
    step = client.post(f"/api/sessions/{snap['id']}/step", headers={"X-Glassnet-Token": snap["token"]}).json()
    raw = np.array(snap["map"]["points"])[:1]  # the first step's batch starts at the first training row
    x1, x2 = raw[0]
    np.testing.assert_allclose(step["x"][0], [x1 ** 2, x2 ** 2, x1 * x2, np.sin(x1)], atol=1e-3)  # points are rounded
    for bad, words in ((["x1", "x1"], "distinct"), (["x3"], "distinct names"), ([], "distinct names")):
        response = client.post("/api/sessions", json={"dataset": "moons", "features": bad})
        assert response.status_code == 400 and words in response.json()["error"]
    response = client.post("/api/sessions", json={"dataset": "regression", "features": ["x2"]})
    assert response.status_code == 400 and "x1, x1sq, sinx1" in response.json()["error"]


def test_regression_draws_a_curve(client):
    snap = client.post("/api/sessions", json={"dataset": "regression", "hidden": [6], "noise": 0.3}).json()
    assert snap["task"] == "regression" and snap["map"]["kind"] == "curve" and len(snap["map"]["curve_y"]) == 120
    assert snap["sizes"][-1] == 1 and "accuracy" not in snap["scores"]["train"]


def test_live_settings_keep_the_network_and_bad_ones_are_refused(client):
    session, token = _new(client, dataset="moons", hidden=[4])
    one = f"/api/sessions/{session}"
    client.post(one + "/step", headers=token)
    before = client.get(one).json()
    after = client.post(one + "/settings", json={"learning_rate": 0.03, "optimizer": "adam", "batch_size": 8,
                                                 "l2": 0.001, "l1": 0.002, "speed": 5}, headers=token).json()
    assert after["weights"] == before["weights"] and after["id"] == session
    assert {k: after["config"][k] for k in ("learning_rate", "optimizer", "batch_size", "l2", "l1", "speed")} == \
        {"learning_rate": 0.03, "optimizer": "adam", "batch_size": 8, "l2": 0.001, "l1": 0.002, "speed": 5}
    for body, words in (({"dataset": "xor"}, "only learning_rate"), ({"l2": -1}, "l2 must be a number in [0"),
                        ({"optimizer": "rmsprop"}, "optimizer must be one of")):
        response = client.post(one + "/settings", json=body, headers=token)
        assert response.status_code == 400 and words in response.json()["error"]


def test_step_with_adam_applies_adams_first_step(client):
    """After the trace, the trainer's optimizer makes the step: Adam's first step is α·g/(|g| + ε) (bias
    corrections cancel at t = 1), not the plain w − α·g."""
    session, token = _new(client, dataset="xor", hidden=[3], batch_size=4, optimizer="adam", learning_rate=0.01)
    step = client.post(f"/api/sessions/{session}/step", headers=token).json()
    for layer in step["layers"]:
        W, g = np.array(layer["W"]), np.array(layer["grad_W"])
        np.testing.assert_allclose(layer["W_applied"], W - 0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12, atol=1e-12)
        assert not np.allclose(layer["W_applied"], layer["W_new"])


def test_dial_reports_real_and_predicted_cost_change(client):
    session, token = _new(client, dataset="xor", hidden=[2], seed=4)
    dial = f"/api/sessions/{session}/dial"
    answer = client.post(dial, json={"layer": 1, "kind": "W", "index": [0, 1], "delta": 0.001},
                         headers=token).json()["dial"]
    # XOR: C(w) by central difference of the shown costs agrees with the gradient; Δw small, so the first-order
    # prediction is close to the real change
    assert answer["name"] == "w(x1→z2)" and answer["value"] == answer["origin"] + 0.001
    assert answer["real_change"] == pytest.approx(answer["predicted_change"], rel=1e-2)
    moved = client.post(dial, json={"layer": 1, "kind": "W", "index": [0, 1], "delta": 0.5}, headers=token).json()
    assert moved["dial"]["origin"] == answer["origin"]
    assert moved["snapshot"]["weights"][0][0][1] == answer["origin"] + 0.5
    for body, words in (({"layer": 9, "kind": "W", "index": [0, 0], "delta": 1}, "layer must be"),
                        ({"layer": 1, "kind": "Q", "index": [0], "delta": 1}, "kind must be"),
                        ({"layer": 1, "kind": "b", "index": [5], "delta": 1}, "index must be"),
                        ({"layer": 1, "kind": "b", "index": [0], "delta": 1e9}, "delta must be")):
        response = client.post(dial, json=body, headers=token)
        assert response.status_code == 400 and words in response.json()["error"]


def test_settings_and_dial_need_the_sessions_token(client):
    session, token = _new(client, dataset="xor", hidden=[2])
    one = f"/api/sessions/{session}"
    before = client.get(one).json()
    for path, body in (("/settings", {"learning_rate": 3.0}), ("/dial", {"layer": 1, "kind": "b", "index": [0],
                                                                          "delta": 1.0})):
        for headers in ({}, {"X-Glassnet-Token": "not-the-token"}):
            response = client.post(one + path, json=body, headers=headers)
            assert response.status_code == 403 and "token" in response.json()["error"]
        cross_site = client.post(one + path, json=body, headers={**token, "Origin": "http://evil.example"})
        assert cross_site.status_code == 403
    after = client.get(one).json()
    assert after["config"]["learning_rate"] == before["config"]["learning_rate"] and after["biases"] == before["biases"]


def test_idle_sessions_are_cleaned_up_and_deleted_ones_stop():
    store = SessionStore(idle_seconds=0.1)
    session = store.create({"dataset": "xor"})
    session.start()
    time.sleep(0.3)
    assert store.clean() == 1 and session.id not in store.sessions and not session.running
    limited = SessionStore(limit=1)
    limited.create({"dataset": "xor"})
    with pytest.raises(TooManySessions):
        limited.create({"dataset": "xor"})


def test_too_many_sessions_is_429():
    with TestClient(create_app(SessionStore(limit=1)), base_url="http://localhost") as client:
        assert client.post("/api/sessions", json={}).status_code == 201
        response = client.post("/api/sessions", json={})
        assert response.status_code == 429 and "too many" in response.json()["error"]


def test_static_files_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and "glassnet playground" in page.text
    assert "http://" not in page.text.replace("http://www.w3.org", "") and "https://" not in page.text
    assert client.get("/static/app.js").status_code == 200 and client.get("/static/style.css").status_code == 200
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
