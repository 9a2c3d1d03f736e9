"""The MCP tools, one module per subject; each has `register(server)`."""
