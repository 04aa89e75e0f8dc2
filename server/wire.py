"""OpenAI wire models for `/v1/chat/completions` requests (validation only; no torch or vLLM)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextPart(_Model):
    type: Literal["text"]
    text: str


class MediaPart(_Model):
    """Image, video, audio or file parts; their payload is checked by the media layer."""

    type: Literal["image_url", "video_url", "input_audio", "file", "image_pil"]


ContentPart = TextPart | MediaPart


class ToolCallFunction(_Model):
    name: str
    arguments: str | dict[str, Any]


class ToolCall(_Model):
    id: str
    type: Literal["function"] = "function"
    function: ToolCallFunction


class Message(_Model):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _check_role_fields(self) -> Message:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a 'tool' message needs 'tool_call_id'")
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError(f"a '{self.role}' message needs 'content'")
        return self


class FunctionDef(_Model):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None

    @field_validator("name")
    @classmethod
    def _check_name(cls, v: str) -> str:
        if not _TOOL_NAME.match(v):
            raise ValueError("function names must match ^[a-zA-Z0-9_-]{1,64}$")
        return v

    @field_validator("parameters")
    @classmethod
    def _check_schema(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            check_json_schema(v)
        return v


class Tool(_Model):
    type: Literal["function"]
    function: FunctionDef


class NamedToolChoice(_Model):
    type: Literal["function"]
    function: dict[str, str]

    @field_validator("function")
    @classmethod
    def _check_fn(cls, v: dict[str, str]) -> dict[str, str]:
        if not isinstance(v.get("name"), str):
            raise ValueError("tool_choice.function needs a 'name'")
        return v


class JsonSchemaFormat(_Model):
    name: str = "response"
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Model):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _check(self) -> ResponseFormat:
        if self.type == "json_schema":
            if self.json_schema is None or self.json_schema.schema_ is None:
                raise ValueError("response_format json_schema needs 'json_schema.schema'")
            check_json_schema(self.json_schema.schema_)
        return self


class StreamOptions(_Model):
    include_usage: bool | None = None
    include_swarm_events: bool | None = None


class ChatCompletionIn(_Model):
    """The request body; unknown fields pass through to the engine (vLLM extensions)."""

    model: str
    messages: list[Message] = Field(min_length=1)
    tools: list[Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=128)
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    response_format: ResponseFormat | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    chat_template_kwargs: dict[str, Any] | None = None
    user: str | None = None
    swarm: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _check_cross_fields(self) -> ChatCompletionIn:
        if self.stream_options is not None and not self.stream:
            raise _param_error(
                "stream_options", "'stream_options' is only allowed when 'stream' is true"
            )
        if self.top_logprobs and not self.logprobs:
            raise _param_error("top_logprobs", "'top_logprobs' needs 'logprobs': true")
        if isinstance(self.stop, list) and len(self.stop) > 4:
            raise _param_error("stop", "'stop' takes at most 4 sequences")
        self._check_tool_choice()
        return self

    def _check_tool_choice(self) -> None:
        names = [t.function.name for t in self.tools or []]
        if len(set(names)) != len(names):
            raise _param_error("tools", "tool function names must be unique")
        choice = self.tool_choice
        if choice in ("required",) and not names:
            raise _param_error("tool_choice", "tool_choice 'required' needs 'tools'")
        if isinstance(choice, NamedToolChoice) and choice.function["name"] not in names:
            raise _param_error(
                "tool_choice",
                f"tool_choice names function {choice.function['name']!r}, "
                f"which is not in 'tools' ({', '.join(names) or 'none given'})",
            )


class ParamError(ValueError):
    """A cross-field validation failure that knows which parameter to blame."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


def _param_error(param: str, message: str) -> ParamError:
    return ParamError(param, message)


def check_json_schema(schema: dict[str, Any]) -> None:
    """Raise ValueError unless `schema` is a valid JSON Schema document."""
    from jsonschema import exceptions, validators

    try:
        validators.validator_for(schema).check_schema(schema)
    except exceptions.SchemaError as exc:
        raise ValueError(f"invalid JSON schema: {exc.message}") from exc
