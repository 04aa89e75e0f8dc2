"""Engine implementations: in-process vLLM and an upstream OpenAI-compatible server."""
