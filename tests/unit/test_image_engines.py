"""The image engines' pure parts: ComfyUI's workflow patching, image decoding, the engines' error bodies."""
from __future__ import annotations

import base64

import pytest

from shared.errors import UpstreamError
from shared.providers import automatic1111, comfyui
from shared.providers.images import decode, sniff

WORKFLOW = {"4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "a.safetensors"}},
            "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "Prompt"}},
            "3": {"class_type": "KSampler", "inputs": {"seed": 0, "steps": 20, "cfg": 8}}}


def test_the_node_mapping_sets_each_mapped_input_and_a_fresh_seed():
    nodes = [{"type": "model", "node_ids": ["4"], "key": "ckpt_name"}, {"type": "prompt", "node_ids": ["6"]},
             {"type": "width", "node_ids": ["5"]}, {"type": "n", "node_ids": ["5"]},
             {"type": "seed", "node_ids": ["3"], "key": "seed"}, {"node_ids": ["3"], "key": "cfg", "value": 4}]
    values = {"model": "b.safetensors", "prompt": "a fox", "width": 768, "n": 2}
    patched = comfyui.patch_workflow({k: {**v, "inputs": dict(v["inputs"])} for k, v in WORKFLOW.items()}, nodes, values)
    assert patched["4"]["inputs"]["ckpt_name"] == "b.safetensors" and patched["6"]["inputs"]["text"] == "a fox"
    assert patched["5"]["inputs"] == {"width": 768, "height": 512, "batch_size": 2}
    assert patched["3"]["inputs"]["cfg"] == 4 and 0 <= patched["3"]["inputs"]["seed"] <= comfyui.MAX_SEED


def test_a_mapping_to_a_node_the_workflow_lacks_is_a_clear_400():
    with pytest.raises(UpstreamError, match="no node 99") as raised:
        comfyui.patch_workflow(dict(WORKFLOW), [{"type": "prompt", "node_ids": ["99"]}], {"prompt": "x"})
    assert raised.value.status == 400


def test_images_are_decoded_with_or_without_a_data_prefix_and_their_type_sniffed():
    png, jpeg = b"\x89PNG\r\n\x1a\n" + b"rest", b"\xff\xd8\xff\xe0rest"
    assert decode(base64.b64encode(png).decode()).content_type == "image/png"
    assert decode("data:image/webp;base64," + base64.b64encode(b"RIFF....WEBPVP8 ").decode()).content_type == "image/webp"
    assert (decode(base64.b64encode(jpeg).decode()).data, sniff(jpeg)) == (jpeg, "image/jpeg")


def test_the_engines_error_bodies_become_one_message():
    validation = {"detail": [{"loc": ["body", "steps"], "msg": "value is not a valid integer", "type": "x"}]}
    assert automatic1111._error_message(validation) == "body.steps: value is not a valid integer"
    assert automatic1111._error_message({"error": "RuntimeError", "errors": "CUDA out of memory"}) == "CUDA out of memory"
    refused = {"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed validation",
                         "details": ""},
               "node_errors": {"4": {"errors": [{"message": "Value not in list", "details": "ckpt_name: 'x'"}],
                                     "class_type": "CheckpointLoaderSimple"}}}
    assert comfyui._error_message(refused) == ("Prompt outputs failed validation; node 4 (CheckpointLoaderSimple): "
                                               "Value not in list ckpt_name: 'x'")


def test_basic_auth_is_built_from_user_and_password():
    assert automatic1111.basic_auth("sd:pw") == {"Authorization": "Basic " + base64.b64encode(b"sd:pw").decode()}
    assert automatic1111.basic_auth("") == {}
