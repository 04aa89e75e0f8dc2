"""Agent frameworks against the embedded SmolLM2 (real engine): Agents SDK, LangChain, LiteLLM."""

from __future__ import annotations

import os

import openai
import pytest
from agents import (
    Agent,
    ModelSettings,
    OpenAIChatCompletionsModel,
    RunConfig,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from agents.models.openai_provider import OpenAIProvider
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from tests.servers import ServerProcess

pytestmark = pytest.mark.engine
MODEL = "smollm2"
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch at import
set_tracing_disabled(True)  # traces would be exported to a remote service


def weather_agent(cities: list[str], model: object = MODEL) -> Agent:
    @function_tool(strict_mode=True)
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        cities.append(city)
        return "Sunny, 22 C"

    # `required` makes the small model call the tool; the SDK resets it to auto afterwards.
    settings = ModelSettings(tool_choice="required", max_tokens=60, temperature=0)
    return Agent(
        name="weather", instructions="Answer briefly.", tools=[get_weather],
        model=model, model_settings=settings,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize("api", ["responses", "chat"])
async def test_agents_sdk_tool_round_trip(smol_server: ServerProcess, api: str) -> None:
    client = openai.AsyncOpenAI(base_url=smol_server.base_url, api_key="x", max_retries=0)
    cities: list[str] = []
    if api == "responses":  # the SDK's default model kind
        provider = OpenAIProvider(openai_client=client, use_responses=True)
        result = await Runner.run(
            weather_agent(cities), "What is the weather in Paris?",
            run_config=RunConfig(model_provider=provider),
        )  # fmt: skip
    else:
        model = OpenAIChatCompletionsModel(model=MODEL, openai_client=client)
        result = await Runner.run(weather_agent(cities, model), "What is the weather in Paris?")
    assert len(cities) == 1 and cities[0].strip()
    assert isinstance(result.final_output, str) and result.final_output.strip()
    await client.close()


@pytest.mark.parametrize("responses_api", [False, True])
def test_langchain_bind_tools(smol_server: ServerProcess, responses_api: bool) -> None:
    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return "Sunny, 22 C"

    llm = ChatOpenAI(
        model=MODEL, base_url=smol_server.base_url, api_key="x",  # type: ignore[arg-type]
        max_retries=0, temperature=0, max_tokens=60, use_responses_api=responses_api,
    )  # fmt: skip
    history: list = [HumanMessage("What is the weather in Paris?")]
    # A strict schema and `required` are what vLLM constrains (the 135M model then always calls).
    first = llm.bind_tools([get_weather], tool_choice="required", strict=True).invoke(history)
    (call,) = first.tool_calls  # type: ignore[attr-defined]
    assert call["name"] == "get_weather" and isinstance(call["args"]["city"], str)
    history += [first, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])]
    second = llm.bind_tools([get_weather]).invoke(history)
    assert second.text.strip()
    chunks = list(llm.stream("Say hello."))
    assert len(chunks) > 1 and "".join(c.text for c in chunks).strip()


async def test_litellm_openai_provider(smol_server: ServerProcess) -> None:
    import litellm

    common = {"model": f"openai/{MODEL}", "api_base": smol_server.base_url, "api_key": "x"}
    question = "What is the capital of France? Answer in one sentence."
    r = litellm.completion(
        messages=[{"role": "user", "content": question}], max_tokens=40, temperature=0, **common
    )
    assert "Paris" in r.choices[0].message.content  # type: ignore[union-attr]
    stream = await litellm.acompletion(
        messages=[{"role": "user", "content": "Say hello."}], max_tokens=10, stream=True, **common
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream])  # type: ignore[union-attr]
    assert text.strip()
    text_completion = litellm.text_completion(prompt="The sky is", max_tokens=4, **common)
    assert text_completion.choices[0].text.strip()  # type: ignore[union-attr]
