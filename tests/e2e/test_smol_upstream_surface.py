"""The raw endpoints through `--upstream`: a second kimi-swarm in front of the embedded SmolLM2."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.servers import ServerProcess, start_server

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def proxy(smol_server: ServerProcess) -> Iterator[ServerProcess]:
    server = start_server(["--upstream", smol_server.base_url, "--served-model-name", "proxied"])
    yield server
    server.stop()


def test_completions_and_tokenizer_pass_through(proxy: ServerProcess) -> None:
    client = openai.OpenAI(base_url=proxy.base_url, api_key="x", max_retries=0)
    r = client.completions.create(model="proxied", prompt="The sky is", max_tokens=4)
    assert r.choices[0].text and r.usage is not None and r.usage.completion_tokens <= 4
    chunks = list(
        client.completions.create(model="proxied", prompt="Hi", max_tokens=3, stream=True)
    )
    assert len(chunks) > 1
    tokens = httpx.post(f"{proxy.url}/tokenize", json={"model": "proxied", "prompt": "Hello"})
    assert tokens.status_code == 200
    text = httpx.post(f"{proxy.url}/detokenize", json={"tokens": tokens.json()["tokens"]})
    assert text.json()["prompt"] == "Hello"
    with pytest.raises(openai.BadRequestError) as err:  # the upstream's 400, passed on
        client.completions.create(model="proxied", prompt="x", max_tokens=-1)
    assert err.value.body["param"] == "max_tokens"  # type: ignore[index]


def test_responses_stream_and_previous_response_id(proxy: ServerProcess) -> None:
    client = openai.OpenAI(base_url=proxy.base_url, api_key="x", max_retries=0)
    first = client.responses.create(
        model="proxied", instructions="Answer in one sentence.",
        input="What is the capital of France?", max_output_tokens=30, temperature=0,
    )  # fmt: skip
    assert "Paris" in first.output_text
    assert client.responses.retrieve(first.id).output_text == first.output_text  # our store
    events = list(
        client.responses.create(
            model="proxied", input="And what is the capital of Germany?",
            previous_response_id=first.id,
            max_output_tokens=30, temperature=0, stream=True,
        )
    )  # fmt: skip
    final = events[-1]
    assert final.type == "response.completed"
    assert "Berlin" in final.response.output_text  # type: ignore[union-attr]
    assert final.response.previous_response_id == first.id  # type: ignore[union-attr]
