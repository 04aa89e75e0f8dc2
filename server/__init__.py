"""HTTP edge: FastAPI app, OpenAI wire models, SSE, auth, errors, engines, media."""

__version__ = "0.1.0"
