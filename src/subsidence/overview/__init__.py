"""Cross-domain read models: the plan's core numbers (above the domains, below the reports)."""
