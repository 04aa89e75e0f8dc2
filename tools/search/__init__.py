"""Search providers for the `web_search` tool: offline BM25 over local documents, SearXNG, Brave."""
