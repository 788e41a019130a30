"""Design-space tools: scale a config, sample a sweep, analyze it."""
