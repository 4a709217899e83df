"""Demo data for example charts and the sandbox: a three-team config, synthetic feedback, and a seeded history."""
