"""The OpenAI Agents SDK against the swarm on the scripted engine: both model kinds, a tool round trip."""

from __future__ import annotations

import pytest
from agents import (
    Agent,
    OpenAIChatCompletionsModel,
    RunConfig,
    Runner,
    function_tool,
    set_tracing_disabled,
)
from agents.models.openai_provider import OpenAIProvider
from openai import AsyncOpenAI

from tests.clients.scripted_app import RESEARCH, SWARM_MODEL

set_tracing_disabled(True)  # traces would be exported to a remote service


def weather_agent(calls: list[str], model: object = SWARM_MODEL) -> Agent:
    @function_tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        calls.append(city)
        return "sunny"

    return Agent(name="assistant", instructions="Be brief.", tools=[get_weather], model=model)  # type: ignore[arg-type]


@pytest.mark.parametrize("streamed", [False, True])
async def test_default_responses_model_with_a_tool_round_trip(
    scripted_url: str, streamed: bool
) -> None:
    client = AsyncOpenAI(base_url=scripted_url, api_key="x", max_retries=0)
    config = RunConfig(model_provider=OpenAIProvider(openai_client=client, use_responses=True))
    calls: list[str] = []
    agent = weather_agent(calls)
    if streamed:
        run = Runner.run_streamed(agent, "Weather in Paris?", run_config=config)
        kinds = [event.type async for event in run.stream_events()]
        assert "raw_response_event" in kinds
        output = run.final_output
    else:
        output = (await Runner.run(agent, "Weather in Paris?", run_config=config)).final_output
    assert calls == ["Paris"]
    assert output == f"Final answer: {RESEARCH} | sunny"
    await client.close()


async def test_chat_completions_model_with_a_tool_round_trip(scripted_url: str) -> None:
    client = AsyncOpenAI(base_url=scripted_url, api_key="x", max_retries=0)
    calls: list[str] = []
    model = OpenAIChatCompletionsModel(model=SWARM_MODEL, openai_client=client)
    result = await Runner.run(weather_agent(calls, model), "Weather in Paris?")
    assert calls == ["Paris"]
    assert result.final_output == f"Final answer: {RESEARCH} | sunny"
    await client.close()
