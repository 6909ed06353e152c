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


def test_snapshot_has_boundary_unit_maps_and_dials(client):
    session, token = _new(client, dataset="circles", hidden=[5, 3])
    client.post(f"/api/sessions/{session}/step", headers=token)
    snap = client.get(f"/api/sessions/{session}").json()
    assert np.array(snap["boundary"]).shape == (40, 40) and len(snap["unit_maps"]) == 5
    assert len(snap["dials"]) == 8 and snap["dials"][0]["direction"] in ("turn up", "turn down")


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
