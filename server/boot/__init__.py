"""Start-up: flags, configuration, the embedded default model, wiring and graceful shutdown."""
