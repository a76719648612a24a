"""OpenAI ⇄ Ollama conversion."""
from __future__ import annotations

from shared.providers import formats as llm_format


def test_chat_request_to_ollama():
    body = {
        "model": "ignored", "stream": True, "temperature": 0.1, "max_tokens": 9, "seed": 3, "stop": ["x"],
        "top_k": 5, "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "look"},
                                         {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}]},
        ],
    }
    assert llm_format.chat_request_to_ollama(body, "llama:1b") == {
        "model": "llama:1b", "stream": True, "format": "json",
        "options": {"temperature": 0.1, "num_predict": 9, "seed": 3, "stop": ["x"], "top_k": 5},
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "look", "images": ["QUJD"]}],
    }


def test_ollama_stream_to_openai_chunks():
    ids = llm_format.CompletionIds("m")
    first = llm_format.ollama_chunk_to_openai(ids, {"message": {"role": "assistant", "content": "Hi"}, "done": False}, True)
    last = llm_format.ollama_chunk_to_openai(ids, {"message": {"content": ""}, "done": True, "done_reason": "length",
                                                   "prompt_eval_count": 4, "eval_count": 2}, False)
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": "Hi"} and first["id"] == last["id"]
    assert last["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "length"}
    assert last["usage"] == {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}


def test_ollama_answer_with_tool_calls():
    answer = {"message": {"role": "assistant", "content": "", "tool_calls": [
        {"function": {"name": "weather", "arguments": {"city": "Oslo"}}}]}, "done": True}
    completion = llm_format.ollama_answer_to_openai(llm_format.CompletionIds("m"), answer)
    choice = completion["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "weather", "arguments": '{"city": "Oslo"}'}


def test_embeddings_round_trip():
    assert llm_format.embed_request_to_ollama({"input": ["a"]}, "e") == {"model": "e", "input": ["a"]}
    out = llm_format.ollama_embed_to_openai({"embeddings": [[0.1], [0.2]], "prompt_eval_count": 2}, "e")
    assert [d["index"] for d in out["data"]] == [0, 1] and out["usage"]["total_tokens"] == 2
