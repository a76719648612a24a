"""Image generation end to end: web -> Redis -> a real worker -> a fake AUTOMATIC1111, ComfyUI or OpenAI images
API -> the images kept as the user's files -> back, with Open WebUI's paths and shapes."""
from __future__ import annotations

import base64

import requests
from sqlalchemy import select

from shared.db import session_scope
from shared.jobs import events
from shared.models import AppConfig
from shared.services.images import CONFIG_KEYS, DEFAULT_WORKFLOW
from tests.e2e.gateway_stack import LLAMA, background_request
from tests.e2e.gateway_stack import fake_ollama, fake_openai, ollama_server, openai_server, stack  # noqa: F401
from tests.fakes.fixtures import (FAKE_A1111_AUTH, FAKE_OPENAI_KEY, automatic1111_server,  # noqa: F401
                                  comfyui_server, fake_automatic1111, fake_comfyui)
from tests.fakes.images import CHECKPOINTS, png_for
from tests.helpers import bearer

COMFYUI_NODES = [
    {"type": "model", "node_ids": ["4"], "key": "ckpt_name"},
    {"type": "prompt", "node_ids": ["6"], "key": "text"},
    {"type": "negative_prompt", "node_ids": ["7"], "key": "text"},
    {"type": "width", "node_ids": ["5"], "key": "width"},
    {"type": "height", "node_ids": ["5"], "key": "height"},
    {"type": "n", "node_ids": ["5"], "key": "batch_size"},
    {"type": "steps", "node_ids": ["3"], "key": "steps"},
    {"type": "seed", "node_ids": ["3"], "key": "seed"},
]


def configure(stack, admin: dict, **fields) -> requests.Response:
    body = {"ENABLE_IMAGE_GENERATION": True, **fields}
    response = requests.post(f"{stack.url}/api/v1/images/config/update", json=body, headers=bearer(admin["token"]),
                             timeout=30)
    assert response.status_code == 200, response.text
    return response


def generate(stack, headers: dict, **body) -> requests.Response:
    return requests.post(f"{stack.url}/api/v1/images/generations", json=body, headers=headers, timeout=60)


def content(stack, headers: dict, image: dict) -> bytes:
    response = requests.get(f"{stack.url}{image['url']}", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def a1111(stack, admin, fake, **fields) -> None:
    configure(stack, admin, **{"IMAGE_GENERATION_ENGINE": "automatic1111", "AUTOMATIC1111_BASE_URL": fake.url,
                               "AUTOMATIC1111_API_AUTH": FAKE_A1111_AUTH, **fields})


def test_automatic1111_generates_images_kept_as_the_users_files(stack, admin, fake_automatic1111):
    headers = bearer(admin["token"])
    a1111(stack, admin, fake_automatic1111, IMAGE_SIZE="48x32", IMAGE_STEPS=4,
          AUTOMATIC1111_PARAMS={"cfg_scale": 7, "sampler_name": "Euler a"})
    fake_automatic1111.steps_delay = 0.3  # the progress poll sees the sampling move
    response = generate(stack, headers, prompt="a red fox", n=2, negative_prompt="blurry")
    assert response.status_code == 200, response.text
    images = response.json()
    assert [(i["content_type"], i["url"]) for i in images] == [("image/png", f"/api/v1/files/{i['id']}/content")
                                                               for i in images]
    assert [content(stack, headers, i) for i in images] == [png_for("a red fox#0", 48, 32), png_for("a red fox#1", 48, 32)]
    sent = fake_automatic1111.received("/sdapi/v1/txt2img")[-1]
    assert sent.headers["Authorization"].startswith("Basic ")
    assert sent.body == {"prompt": "a red fox", "batch_size": 2, "width": 48, "height": 32, "steps": 4,
                         "negative_prompt": "blurry", "cfg_scale": 7, "sampler_name": "Euler a"}
    listed = requests.get(f"{stack.url}/api/v1/files/", headers=headers, timeout=30).json()
    assert {i["id"] for i in images} <= {f["id"] for f in listed["items"]}


def test_the_engines_progress_reaches_the_jobs_events(stack, admin, fake_automatic1111):
    a1111(stack, admin, fake_automatic1111)
    fake_automatic1111.steps_delay = 0.4
    started = requests.post(f"{stack.url}/api/v1/images/generations", json={"prompt": "slow"},
                            headers={**bearer(admin["token"]), "Prefer": "respond-async"}, timeout=30)
    assert started.status_code == 202, started.text
    seen = [e for e in events.iter_events(started.json()["job_id"], keepalive=0.2) if e is not None]
    assert [e.data["status"] for e in seen if e.type == "status"][-1] == "succeeded"
    assert any(e.type == "progress" and 0 < e.data["progress"] < 1 for e in seen)


def test_an_admin_may_switch_automatic1111s_checkpoint_and_list_them(stack, admin, fake_automatic1111):
    headers = bearer(admin["token"])
    a1111(stack, admin, fake_automatic1111)
    models = requests.get(f"{stack.url}/api/v1/images/models", headers=headers, timeout=30)
    assert models.json() == [{"id": c["title"], "name": c["model_name"]} for c in CHECKPOINTS]
    assert generate(stack, headers, prompt="x", model=CHECKPOINTS[1]["title"]).status_code == 200
    assert fake_automatic1111.options["sd_model_checkpoint"] == CHECKPOINTS[1]["title"]


def test_secrets_are_stored_encrypted_and_read_back_by_the_admin(stack, admin, fake_automatic1111):
    a1111(stack, admin, fake_automatic1111)
    config = requests.get(f"{stack.url}/api/v1/images/config", headers=bearer(admin["token"]), timeout=30).json()
    assert config["AUTOMATIC1111_API_AUTH"] == FAKE_A1111_AUTH and config["COMFYUI_WORKFLOW"] == DEFAULT_WORKFLOW
    with session_scope() as session:
        stored = session.scalar(select(AppConfig.value).where(
            AppConfig.key == CONFIG_KEYS["AUTOMATIC1111_API_AUTH"]))
    assert FAKE_A1111_AUTH not in str(stored)


def test_the_config_is_checked_as_open_webui_checks_it(stack, admin):
    headers = bearer(admin["token"])
    for body, detail in (({"IMAGE_SIZE": "big"}, "512x512"), ({"IMAGE_SIZE": "auto"}, "gpt-image"),
                         ({"IMAGE_STEPS": -1}, "e.g., 50"), ({"COMFYUI_WORKFLOW": "{nope"}, "not valid JSON")):
        response = requests.post(f"{stack.url}/api/v1/images/config/update", json=body, headers=headers, timeout=30)
        assert response.status_code == 400 and detail in response.json()["detail"], response.text


def test_verify_reaches_the_server_with_the_key_under_test(stack, admin, fake_automatic1111, fake_comfyui):
    headers = bearer(admin["token"])

    def verify(engine: str, url: str, key: str | None) -> requests.Response:
        return requests.post(f"{stack.url}/api/v1/images/verify", json={"engine": engine, "url": url, "key": key},
                             headers=headers, timeout=30)

    assert verify("automatic1111", fake_automatic1111.url, FAKE_A1111_AUTH).json() is True
    refused = verify("automatic1111", fake_automatic1111.url, "sd:wrong")
    assert refused.status_code == 400 and "The URL you provided is invalid" in refused.json()["detail"]
    assert verify("comfyui", fake_comfyui.url, None).json() is True
    assert verify("gemini", fake_comfyui.url, None).status_code == 400


def test_an_engine_that_refuses_answers_400_with_its_message(stack, admin, fake_automatic1111):
    a1111(stack, admin, fake_automatic1111, AUTOMATIC1111_API_AUTH="sd:wrong")
    response = generate(stack, bearer(admin["token"]), prompt="x")
    assert response.status_code == 400
    assert response.json()["detail"] == "AUTOMATIC1111: Incorrect username or password"
    a1111(stack, admin, fake_automatic1111, AUTOMATIC1111_PARAMS={"steps": "many"})
    invalid = generate(stack, bearer(admin["token"]), prompt="x")
    assert invalid.status_code == 400 and "body.steps: value is not a valid integer" in invalid.json()["detail"]


def test_a_failing_or_silent_engine_is_retried_then_a_clear_5xx(stack, admin, fake_automatic1111):
    a1111(stack, admin, fake_automatic1111)
    fake_automatic1111.behave(status=500, error="CUDA out of memory")
    failed = generate(stack, bearer(admin["token"]), prompt="x")
    assert failed.status_code == 502 and "CUDA out of memory" in failed.json()["detail"]
    assert len(fake_automatic1111.received("/sdapi/v1/txt2img")) == 3  # the first attempt and two retries
    fake_automatic1111.reset()
    fake_automatic1111.behave(hang=True)
    silent = generate(stack, bearer(admin["token"]), prompt="x")
    assert silent.status_code == 504 and "no answer" in silent.json()["detail"]


def test_who_may_generate(stack, admin, make_user, fake_automatic1111):
    a1111(stack, admin, fake_automatic1111)
    user = bearer(make_user()["token"])
    denied = generate(stack, user, prompt="x")
    assert denied.status_code == 403
    permissions = {"features": {"image_generation": True}}
    assert requests.post(f"{stack.url}/api/v1/users/default/permissions", json=permissions,
                         headers=bearer(admin["token"]), timeout=30).ok
    assert generate(stack, user, prompt="x").status_code == 200
    configure(stack, admin, ENABLE_IMAGE_GENERATION=False)
    assert generate(stack, bearer(admin["token"]), prompt="x").status_code == 403


def test_openai_answers_in_base64_or_by_url_and_both_are_kept(stack, admin, fake_openai):
    headers = bearer(admin["token"])
    openai = {"IMAGE_GENERATION_ENGINE": "openai", "IMAGES_OPENAI_API_BASE_URL": fake_openai.url,
              "IMAGES_OPENAI_API_KEY": FAKE_OPENAI_KEY, "IMAGE_SIZE": "1024x1024"}
    configure(stack, admin, **openai, IMAGE_GENERATION_MODEL="gpt-image-1")
    by_value = generate(stack, headers, prompt="a lighthouse")
    assert by_value.status_code == 200, by_value.text
    assert content(stack, headers, by_value.json()[0]) == png_for("a lighthouse#0")
    sent = fake_openai.received("/v1/images/generations")[-1].body
    assert sent == {"model": "gpt-image-1", "prompt": "a lighthouse", "n": 1, "size": "1024x1024"}
    configure(stack, admin, **openai, IMAGE_GENERATION_MODEL="dall-e-2")
    fake_openai.images.clear()
    by_url = generate(stack, headers, prompt="a harbour", n=2)
    assert by_url.status_code == 200, by_url.text
    assert fake_openai.received("/v1/images/generations")[-1].body["response_format"] == "b64_json"
    configure(stack, admin, **openai, IMAGE_GENERATION_MODEL="dall-e-2", IMAGES_OPENAI_API_PARAMS={
        "response_format": "url"})
    by_url = generate(stack, headers, prompt="a harbour")
    assert content(stack, headers, by_url.json()[0]) == png_for("a harbour#0")
    assert len(fake_openai.received("/v1/generated/" + next(iter(fake_openai.images)))) == 1


def test_comfyui_runs_the_admins_workflow_patched_by_the_node_mapping(stack, admin, fake_comfyui):
    headers = bearer(admin["token"])
    configure(stack, admin, IMAGE_GENERATION_ENGINE="comfyui", COMFYUI_BASE_URL=fake_comfyui.url + "/",
              COMFYUI_API_KEY="comfy-key", COMFYUI_WORKFLOW_NODES=COMFYUI_NODES,
              IMAGE_GENERATION_MODEL="v1-5-pruned-emaonly.safetensors", IMAGE_STEPS=3)
    started = requests.post(f"{stack.url}/api/v1/images/generations", json={"prompt": "a castle", "n": 2},
                            headers={**headers, "Prefer": "respond-async"}, timeout=30)
    seen = [e for e in events.iter_events(started.json()["job_id"], keepalive=0.2) if e is not None]
    result = next(e.data["result"] for e in seen if e.type == "result")
    assert [content(stack, headers, i) for i in result] == [png_for("a castle#0"), png_for("a castle#1")]
    assert [e.data["message"] for e in seen if e.type == "progress"] == ["step 1 of 3", "step 2 of 3", "step 3 of 3"]
    graph = fake_comfyui.received("/prompt")[-1].body["prompt"]
    assert graph["6"]["inputs"]["text"] == "a castle" and graph["5"]["inputs"]["batch_size"] == 2
    assert graph["4"]["inputs"]["ckpt_name"] == "v1-5-pruned-emaonly.safetensors" and graph["3"]["inputs"]["steps"] == 3
    assert fake_comfyui.received("/prompt")[-1].headers["Authorization"] == "Bearer comfy-key"
    models = requests.get(f"{stack.url}/api/v1/images/models", headers=headers, timeout=30).json()
    assert [m["id"] for m in models] == [c["filename"].rsplit("/", 1)[-1] for c in CHECKPOINTS]


def test_comfyuis_refusals_and_failures_carry_its_own_message(stack, admin, fake_comfyui):
    headers = bearer(admin["token"])
    configure(stack, admin, IMAGE_GENERATION_ENGINE="comfyui", COMFYUI_BASE_URL=fake_comfyui.url,
              COMFYUI_WORKFLOW_NODES=COMFYUI_NODES, IMAGE_GENERATION_MODEL="missing.safetensors")
    refused = generate(stack, headers, prompt="x")
    assert refused.status_code == 400 and "ckpt_name: 'missing.safetensors' not in" in refused.json()["detail"]
    configure(stack, admin, IMAGE_GENERATION_MODEL="sdxl_base.safetensors")
    fake_comfyui.fail_node = "3"
    failed = generate(stack, headers, prompt="x")
    assert failed.status_code == 400
    assert failed.json()["detail"] == "ComfyUI: node 3 (KSampler) failed: CUDA out of memory"


def edit(stack, headers: dict, **body) -> requests.Response:
    return requests.post(f"{stack.url}/api/v1/images/edit", json=body, headers=headers, timeout=60)


def test_an_image_of_the_users_is_edited_by_automatic1111s_img2img(stack, admin, fake_automatic1111):
    headers = bearer(admin["token"])
    a1111(stack, admin, fake_automatic1111, ENABLE_IMAGE_EDIT=True, IMAGE_EDIT_ENGINE="automatic1111")
    source = generate(stack, headers, prompt="a fox").json()[0]
    edited = edit(stack, headers, prompt="a fox in the snow", image=source["url"])
    assert edited.status_code == 200, edited.text
    assert content(stack, headers, edited.json()[0]) == png_for("a fox in the snow#0", 512, 512)
    sent = fake_automatic1111.received("/sdapi/v1/img2img")[-1].body
    assert base64.b64decode(sent["init_images"][0]) == png_for("a fox#0", 512, 512)


def test_openai_edits_take_the_image_as_multipart(stack, admin, fake_openai):
    headers = bearer(admin["token"])
    configure(stack, admin, ENABLE_IMAGE_EDIT=True, IMAGE_EDIT_ENGINE="openai", IMAGE_EDIT_MODEL="gpt-image-1",
              IMAGES_OPENAI_API_BASE_URL=fake_openai.url, IMAGES_OPENAI_API_KEY=FAKE_OPENAI_KEY)
    image = "data:image/png;base64," + base64.b64encode(png_for("a cat")).decode()
    edited = edit(stack, headers, prompt="a cat wearing a hat", image=image)
    assert edited.status_code == 200, edited.text
    assert content(stack, headers, edited.json()[0]) == png_for("edited: a cat wearing a hat#0")
    sent = fake_openai.received("/v1/images/edits")[-1]
    assert sent.headers["Content-Type"].startswith("multipart/form-data") and "a cat wearing a hat" in sent.body


def test_an_edit_names_no_image_from_elsewhere(stack, admin, fake_automatic1111):
    a1111(stack, admin, fake_automatic1111, ENABLE_IMAGE_EDIT=True, IMAGE_EDIT_ENGINE="automatic1111")
    for image in ("http://169.254.169.254/latest/meta-data", [{"url": "data:image/png;base64,AA=="}], 7, []):
        response = edit(stack, bearer(admin["token"]), prompt="x", image=image)
        assert response.status_code == 400 and "image" in response.json()["detail"], image
    assert not fake_automatic1111.received("/sdapi/v1/img2img")


def chat_turn(stack, admin, prompt: str) -> tuple[list, dict]:
    """A web-app turn asking for an image: the reply job's events and the stored reply."""
    headers = bearer(admin["token"])
    assert requests.get(f"{stack.url}/api/models", headers=headers, timeout=30).ok  # the model registry is filled
    body, reply_id = background_request(LLAMA, "sid-image", prompt, features={"image_generation": True})
    started = requests.post(f"{stack.url}/api/chat/completions", json=body, headers=headers, timeout=30).json()
    seen = [e for e in events.iter_events(started["task_ids"][0], keepalive=0.2) if e is not None]
    chat = requests.get(f"{stack.url}/api/v1/chats/{started['chat_id']}", headers=headers, timeout=30).json()
    return seen, chat["chat"]["history"]["messages"][reply_id]


def test_a_chat_turn_that_asks_for_an_image_shows_it_in_the_reply_and_tells_the_model(
        stack, admin, fake_automatic1111, fake_ollama):
    a1111(stack, admin, fake_automatic1111)
    seen, reply = chat_turn(stack, admin, "a red fox in the snow")
    assert [f["type"] for f in reply["files"]] == ["image"] and reply["done"] is True
    headers = bearer(admin["token"])
    assert content(stack, headers, reply["files"][0]) == png_for("a red fox in the snow#0", 512, 512)
    chunks = [e.data["chunk"] for e in seen if e.type == "delta" and ("status" in e.data["chunk"]
                                                                        or "files" in e.data["chunk"])]
    assert [c.get("status", {}).get("description") for c in chunks] == ["Creating image", "Image created", None]
    told = fake_ollama.received("/api/chat")[-1].body["messages"][0]
    assert told["role"] == "system" and "has been created by the system successfully" in told["content"]


def test_a_chat_turn_tells_the_model_when_images_are_off_or_the_engine_failed(stack, admin, fake_automatic1111,
                                                                               fake_ollama):
    configure(stack, admin, ENABLE_IMAGE_GENERATION=False)
    seen, reply = chat_turn(stack, admin, "a fox")
    assert "files" not in reply and reply["done"] is True
    assert "currently disabled by the administrator" in fake_ollama.received("/api/chat")[-1].body["messages"][0][
        "content"]
    a1111(stack, admin, fake_automatic1111, AUTOMATIC1111_API_AUTH="sd:wrong")
    seen, reply = chat_turn(stack, admin, "a fox")
    told = fake_ollama.received("/api/chat")[-1].body["messages"][0]["content"]
    assert "the following error occurred: AUTOMATIC1111: Incorrect username or password" in told
    assert reply["done"] is True and reply.get("error") is None


def test_a_retried_reply_keeps_the_image_its_first_attempt_made(stack, admin, fake_automatic1111, fake_ollama):
    """The model fails the first attempt after the image was made (503, retried): the retry shows that image
    instead of making another."""
    a1111(stack, admin, fake_automatic1111)
    assert requests.get(f"{stack.url}/api/models", headers=bearer(admin["token"]), timeout=30).ok  # before the 503
    fake_ollama.behave(status=503, error="model is loading", fail_times=1)
    seen, reply = chat_turn(stack, admin, "a lighthouse at night")
    assert any(e.type == "progress" and "Retrying" in e.data.get("message", "") for e in seen)
    assert len(fake_automatic1111.received("/sdapi/v1/txt2img")) == 1
    assert len(reply["files"]) == 1 and reply["done"] is True and reply.get("error") is None
