"""Agent tools: the swarm tools' schemas, web search, fetch, python sandbox, image ops, MCP."""
