"""LangChain's ChatOpenAI (chat and Responses APIs) and LiteLLM against the swarm (scripted engine)."""

from __future__ import annotations

import os

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from tests.clients.scripted_app import RESEARCH, SWARM_MODEL

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch at import


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return "sunny"


@pytest.mark.parametrize("responses_api", [False, True])
def test_langchain_bind_tools_round_trip(scripted_url: str, responses_api: bool) -> None:
    llm = ChatOpenAI(
        model=SWARM_MODEL,
        base_url=scripted_url,
        api_key="x",  # type: ignore[arg-type]
        max_retries=0,
        use_responses_api=responses_api,
    ).bind_tools([get_weather])
    history: list = [HumanMessage("Weather in Paris?")]
    first = llm.invoke(history)
    assert [c["name"] for c in first.tool_calls] == ["get_weather"]  # type: ignore[attr-defined]
    assert first.tool_calls[0]["args"] == {"city": "Paris"}  # type: ignore[attr-defined]
    call = first.tool_calls[0]  # type: ignore[attr-defined]
    history += [first, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])]
    second = llm.invoke(history)
    assert second.text == f"Final answer: {RESEARCH} | sunny"


@pytest.mark.parametrize("responses_api", [False, True])
def test_langchain_stream(scripted_url: str, responses_api: bool) -> None:
    llm = ChatOpenAI(
        model=SWARM_MODEL,
        base_url=scripted_url,
        api_key="x",  # type: ignore[arg-type]
        max_retries=0,
        use_responses_api=responses_api,
    )
    chunks = list(llm.stream("What is the answer?"))
    assert len(chunks) > 1
    assert "".join(c.text for c in chunks) == f"Final answer: {RESEARCH}"


def test_litellm_openai_provider(scripted_url: str) -> None:
    import litellm

    common = {"model": f"openai/{SWARM_MODEL}", "api_base": scripted_url, "api_key": "x"}
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    messages: list = [{"role": "user", "content": "Weather in Paris?"}]
    first = litellm.completion(messages=messages, tools=tools, **common)
    message = first.choices[0].message  # type: ignore[union-attr]
    (call,) = message.tool_calls
    assert call.function.name == "get_weather"
    messages += [
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    second = litellm.completion(messages=messages, tools=tools, **common)
    assert second.choices[0].message.content == f"Final answer: {RESEARCH} | sunny"  # type: ignore[union-attr]
    streamed = litellm.completion(
        messages=[{"role": "user", "content": "question"}], stream=True, **common
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in streamed)  # type: ignore[union-attr]
    assert text == f"Final answer: {RESEARCH}"


async def test_litellm_async_responses(scripted_url: str) -> None:
    import litellm

    response = await litellm.aresponses(
        model=f"openai/{SWARM_MODEL}", api_base=scripted_url, api_key="x", input="question"
    )
    texts = [
        part.text
        for item in response.output
        if getattr(item, "type", None) == "message"
        for part in item.content  # type: ignore[union-attr]
    ]
    assert texts == [f"Final answer: {RESEARCH}"]
