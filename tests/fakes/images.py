"""Fake image engines on loopback, speaking their real wire formats: AUTOMATIC1111 (``--api``) and ComfyUI
(HTTP and its websocket). OpenAI's images API is part of :class:`tests.fakes.openai.FakeOpenAI`.

Every image is a real PNG whose colour is derived from the prompt (``png_for``), so a test can tell which
request made which file.
"""
from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
import zlib

from tests.fakes.server import FakeUpstream, Received, Reply

CHECKPOINTS = [
    {"title": "v1-5-pruned-emaonly.safetensors [6ce0161689]", "model_name": "v1-5-pruned-emaonly",
     "hash": "6ce0161689", "sha256": "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa",
     "filename": "/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors", "config": None},
    {"title": "sdxl_base.safetensors [31e35c80fc]", "model_name": "sdxl_base", "hash": "31e35c80fc",
     "sha256": "31e35c80fc4829d14f90153f4c74cd59c90b779f6afe05a74cd6ffb9a8ef5c9f",
     "filename": "/models/Stable-diffusion/sdxl_base.safetensors", "config": None},
]

DEFAULT_OPTIONS = {"sd_model_checkpoint": CHECKPOINTS[0]["title"], "samples_format": "png"}


def png_for(prompt: str, width: int = 8, height: int = 8) -> bytes:
    """A valid PNG of one colour chosen by the prompt (kept small: at most 64x64)."""
    width, height = max(1, min(int(width), 64)), max(1, min(int(height), 64))
    red, green, blue = hashlib.sha256(prompt.encode()).digest()[:3]
    rows = b"".join(b"\x00" + bytes((red, green, blue)) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class FakeAutomatic1111(FakeUpstream):
    """stable-diffusion-webui's API: options, sd-models, txt2img, img2img, progress; optional Basic auth."""

    def __init__(self, auth: str | None = None) -> None:
        super().__init__()
        self.auth = auth
        self.options = dict(DEFAULT_OPTIONS)
        self.progress = 0.0
        self.steps_delay = 0.0
        """Seconds each of 4 sampling steps takes (so a progress poll sees the work move)."""

        @self.route("GET", "/sdapi/v1/options")
        def get_options(_request: Received, reply: Reply) -> None:
            reply.json(self.options)

        @self.route("POST", "/sdapi/v1/options")
        def set_options(request: Received, reply: Reply) -> None:
            unknown = request.body.get("sd_model_checkpoint") not in [c["title"] for c in CHECKPOINTS]
            if unknown:
                reply.json({"error": "RuntimeError", "detail": "", "body": "",
                            "errors": f"model {request.body.get('sd_model_checkpoint')!r} not found"}, 500)
                return
            self.options.update(request.body)
            reply.json(None)

        @self.route("GET", "/sdapi/v1/sd-models")
        def sd_models(_request: Received, reply: Reply) -> None:
            reply.json(CHECKPOINTS)

        @self.route("GET", "/sdapi/v1/progress")
        def progress(_request: Received, reply: Reply) -> None:
            reply.json({"progress": self.progress, "eta_relative": 1.0, "state": {"sampling_step": 0},
                        "current_image": None, "textinfo": None})

        @self.route("POST", "/sdapi/v1/txt2img")
        def txt2img(request: Received, reply: Reply) -> None:
            self._generate(request, reply)

        @self.route("POST", "/sdapi/v1/img2img")
        def img2img(request: Received, reply: Reply) -> None:
            if not request.body.get("init_images"):
                reply.json({"detail": [{"loc": ["body", "init_images"], "msg": "field required",
                                        "type": "value_error.missing"}]}, 422)
                return
            self._generate(request, reply)

    def reset(self) -> None:
        super().reset()
        self.options = dict(DEFAULT_OPTIONS)
        self.steps_delay = 0.0

    def _generate(self, request: Received, reply: Reply) -> None:
        body = request.body
        invalid = [name for name in ("width", "height", "batch_size", "steps")
                   if name in body and not isinstance(body[name], int)]
        if not isinstance(body.get("prompt"), str) or invalid:
            reply.json({"detail": [{"loc": ["body", name], "msg": "value is not a valid integer",
                                    "type": "type_error.integer"} for name in invalid or ["prompt"]]}, 422)
            return
        for step in range(4):
            self.progress = step / 4
            time.sleep(self.steps_delay)
        self.progress = 0.0
        count = body.get("batch_size", 1) * body.get("n_iter", 1)
        images = [base64.b64encode(png_for(f"{body['prompt']}#{index}", body.get("width", 512),
                                           body.get("height", 512))).decode() for index in range(count)]
        info = {"prompt": body["prompt"], "seed": 1234, "all_seeds": [1234 + i for i in range(count)],
                "sd_model_name": self.options["sd_model_checkpoint"]}
        reply.json({"images": images, "parameters": body, "info": json.dumps(info)})

    def error(self, reply: Reply, status: int, message: str) -> None:
        reply.json({"error": "HTTPException", "detail": message, "body": "", "errors": message}, status)

    def _dispatch(self, handler) -> None:
        expected = "Basic " + base64.b64encode(self.auth.encode()).decode() if self.auth else None
        if expected and handler.headers.get("Authorization") != expected:
            self.refused(handler).json({"detail": "Incorrect username or password"}, 401)
            return
        super()._dispatch(handler)


class FakeComfyUI(FakeUpstream):
    """ComfyUI's server: ``/object_info``, ``/prompt``, ``/history/{id}``, ``/view``, ``/upload/image`` and the
    websocket ``/ws?clientId=`` with its ``status``, ``execution_start``, ``progress``, ``executing`` frames."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        self.sockets: dict[str, socket.socket] = {}
        self.fail_node: str | None = None
        """A node id whose execution fails (an ``execution_error`` frame, as a crashing node sends)."""
        self.lock = threading.Lock()

        @self.route("GET", "/object_info")
        def object_info(_request: Received, reply: Reply) -> None:
            names = [c["filename"].rsplit("/", 1)[-1] for c in CHECKPOINTS]
            reply.json({"CheckpointLoaderSimple": {"input": {"required": {"ckpt_name": [names, {}]}},
                                                   "output": ["MODEL", "CLIP", "VAE"]},
                        "KSampler": {"input": {"required": {"seed": ["INT", {}], "steps": ["INT", {}]}}}})

        @self.route("POST", "/prompt")
        def prompt(request: Received, reply: Reply) -> None:
            self._queue(request, reply)

        @self.route("GET", r"/history/(?P<id>[\w-]+)")
        def history(request: Received, reply: Reply) -> None:
            prompt_id = request.path.rsplit("/", 1)[-1]
            reply.json({prompt_id: self.history[prompt_id]} if prompt_id in self.history else {})

        @self.route("GET", "/view")
        def view(request: Received, reply: Reply) -> None:
            data = self.files.get(request.params.get("filename", ""))
            if data is None:
                reply.body(b"404: Not Found", "text/plain; charset=utf-8", 404)
                return
            reply.body(data, "image/png")

        @self.route("POST", "/upload/image")
        def upload(_request: Received, reply: Reply) -> None:
            name = f"upload-{uuid.uuid4().hex[:8]}.png"
            self.files[name] = b""
            reply.json({"name": name, "subfolder": "", "type": "input"})

    def error(self, reply: Reply, status: int, message: str) -> None:
        reply.json({"error": {"type": "server_error", "message": message, "details": "", "extra_info": {}},
                    "node_errors": {}}, status)

    def _queue(self, request: Received, reply: Reply) -> None:
        graph = (request.body or {}).get("prompt") or {}
        unknown = {node_id: node for node_id, node in graph.items()
                   if node.get("class_type") not in ("CheckpointLoaderSimple", "KSampler", "EmptyLatentImage",
                                                      "CLIPTextEncode", "VAEDecode", "SaveImage", "LoadImage")}
        if unknown:
            node_id, node = next(iter(unknown.items()))
            reply.json({"error": {"type": "invalid_prompt", "message": f"Cannot execute because node "
                                  f"{node.get('class_type')} does not exist.", "details": f"Node ID '#{node_id}'",
                                  "extra_info": {}}, "node_errors": {}}, 400)
            return
        names = [c["filename"].rsplit("/", 1)[-1] for c in CHECKPOINTS]
        bad = {node_id: node for node_id, node in graph.items() if node["class_type"] == "CheckpointLoaderSimple"
               and node["inputs"].get("ckpt_name") not in names}
        if bad:
            node_id, node = next(iter(bad.items()))
            reply.json({"error": {"type": "prompt_outputs_failed_validation", "message": "Prompt outputs failed "
                                  "validation", "details": "", "extra_info": {}},
                        "node_errors": {node_id: {"errors": [{"type": "value_not_in_list", "message": "Value not "
                                                  "in list", "details": f"ckpt_name: '{node['inputs']['ckpt_name']}' "
                                                  f"not in {names}", "extra_info": {}}], "dependent_outputs": ["9"],
                                                  "class_type": "CheckpointLoaderSimple"}}}, 400)
            return
        prompt_id = str(uuid.uuid4())
        reply.json({"prompt_id": prompt_id, "number": 0, "node_errors": {}})
        threading.Thread(target=self._execute, args=(prompt_id, request.body.get("client_id"), graph),
                         daemon=True).start()

    def _execute(self, prompt_id: str, client_id: str | None, graph: dict) -> None:
        """Run the graph as ComfyUI reports it on the client's websocket, then record its history."""
        send = (lambda kind, data: self._frame(client_id, {"type": kind, "data": data}))
        send("execution_start", {"prompt_id": prompt_id, "timestamp": int(time.time() * 1000)})
        outputs = {}
        for node_id, node in graph.items():
            send("executing", {"node": node_id, "display_node": node_id, "prompt_id": prompt_id})
            if node_id == self.fail_node:
                send("execution_error", {"prompt_id": prompt_id, "node_id": node_id, "node_type": node["class_type"],
                                         "executed": [], "exception_message": "CUDA out of memory\n",
                                         "exception_type": "torch.OutOfMemoryError", "traceback": []})
                self.history[prompt_id] = {"prompt": [], "outputs": {}, "status": {"status_str": "error",
                                                                                   "completed": False}}
                return
            if node["class_type"] == "KSampler":
                steps = int(node["inputs"].get("steps") or 1)
                for step in range(1, min(steps, 5) + 1):
                    send("progress", {"value": step, "max": min(steps, 5), "prompt_id": prompt_id, "node": node_id})
            if node["class_type"] == "SaveImage":
                prompt, batch = self._prompt_of(graph)
                images = []
                for index in range(batch):
                    name = f"ComfyUI_{uuid.uuid4().hex[:8]}_.png"
                    self.files[name] = png_for(f"{prompt}#{index}")
                    images.append({"filename": name, "subfolder": "", "type": "output"})
                outputs[node_id] = {"images": images}
        self.history[prompt_id] = {"prompt": [0, prompt_id, graph, {}, list(outputs)], "outputs": outputs,
                                   "status": {"status_str": "success", "completed": True, "messages": []}}
        send("executing", {"node": None, "prompt_id": prompt_id})

    @staticmethod
    def _prompt_of(graph: dict) -> tuple[str, int]:
        texts = [n["inputs"].get("text", "") for n in graph.values() if n["class_type"] == "CLIPTextEncode"]
        sizes = [n["inputs"].get("batch_size", 1) for n in graph.values() if n["class_type"] == "EmptyLatentImage"]
        return (texts[0] if texts else ""), int(sizes[0] if sizes else 1)

    # -- the websocket ------------------------------------------------------------------------------
    def _frame(self, client_id: str | None, message: dict) -> None:
        with self.lock:
            sock = self.sockets.get(client_id or "")
        if sock is None:
            return
        payload = json.dumps(message).encode()
        header = bytes([0x81]) + (bytes([len(payload)]) if len(payload) < 126
                                  else bytes([126]) + struct.pack(">H", len(payload)))
        try:
            sock.sendall(header + payload)
        except OSError:
            pass

    def _dispatch(self, handler) -> None:
        path, _, query = handler.path.partition("?")
        if path != "/ws":
            super()._dispatch(handler)
            return
        params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        self.requests.append(Received("GET", "/ws", dict(handler.headers.items()), None, params))
        key = handler.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        client_id = params.get("clientId", "")
        with self.lock:  # before the handshake's answer: the client may queue its prompt right after it
            self.sockets[client_id] = handler.connection
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept.decode())
        handler.end_headers()
        handler.wfile.flush()
        self._frame(client_id, {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 0}},
                                                           "sid": client_id}})
        handler.connection.settimeout(0.2)
        while not self._stopping.is_set():  # hold the socket until the client closes it
            try:
                if handler.connection.recv(1024) == b"":
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        with self.lock:
            self.sockets.pop(client_id, None)
        handler.close_connection = True

    def reset(self) -> None:
        super().reset()
        self.fail_node = None
