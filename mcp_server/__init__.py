"""GLP Sync's MCP server (`glp mcp`): read-only inventory tools for AI assistants."""
