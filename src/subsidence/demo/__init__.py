"""The illustrative demo county (Ejin Horo Banner): deterministic, seeded, labelled illustrative everywhere."""
