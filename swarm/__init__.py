"""Agent Swarm scheduler: orchestrator loop, sub-agent runs, budgets, events, run store."""
