"""The ways in: tool calls (OpenAI, Anthropic), MCP (stdio and Streamable HTTP), the Gradio web
app and the command line. Thin: each passes its caller's request to the public API and its result
back, and adds no limit or default of its own."""
