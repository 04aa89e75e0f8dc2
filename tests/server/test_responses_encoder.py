"""Outputs → Responses events: item order, reasoning and function-call items, final response."""

from __future__ import annotations

from server.responses_encoder import ResponsesEncoder, new_response
from swarm.engine import Delta, ToolCallDelta, Usage


def test_reasoning_text_and_a_call_become_three_items_in_order() -> None:
    enc = ResponsesEncoder(new_response("resp_1", "m", {"instructions": "be brief"}))
    events = enc.start()
    events += enc.delta(Delta(reasoning="think"))
    events += enc.delta(Delta(reasoning="ing"))
    events += enc.delta(Delta(content="Hel"))
    events += enc.delta(Delta(content="lo"))
    events += enc.delta(
        Delta(tool_calls=[ToolCallDelta(0, id="call_a", name="f", arguments='{"x"')])
    )
    events += enc.delta(Delta(tool_calls=[ToolCallDelta(0, arguments=": 1}")]))
    events += enc.delta(Delta(finish_reason="tool_calls"))
    enc.usage(Usage(prompt_tokens=3, completion_tokens=4, reasoning_tokens=2))
    events += enc.finish()

    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    types = [e["type"] for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert (
        types.count("response.output_item.added") == types.count("response.output_item.done") == 3
    )
    assert types.index("response.reasoning_text.done") < types.index("response.output_text.delta")
    assert types[-1] == "response.completed"
    final = events[-1]["response"]
    assert [item["type"] for item in final["output"]] == ["reasoning", "message", "function_call"]
    reasoning, message, call = final["output"]
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "thinking"}]
    assert message["content"][0]["text"] == "Hello" and message["status"] == "completed"
    assert (call["call_id"], call["name"], call["arguments"]) == ("call_a", "f", '{"x": 1}')
    assert final["usage"]["output_tokens_details"] == {"reasoning_tokens": 2}
    assert final["usage"]["total_tokens"] == 7 and final["instructions"] == "be brief"


def test_length_finish_is_incomplete() -> None:
    enc = ResponsesEncoder(new_response("resp_2", "m", {}))
    enc.start()
    enc.delta(Delta(content="abc", finish_reason="length"))
    last = enc.finish()[-1]
    assert last["type"] == "response.incomplete"
    assert last["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
