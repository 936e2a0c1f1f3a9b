"""The service layer: the rules of the plan, shared by the CLI and the API (no HTTP, no printing)."""
