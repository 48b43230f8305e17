"""pfctl's command modules: each parses one command group's arguments, delegates, prints."""
