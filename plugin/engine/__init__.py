"""The engine: models, weights, image intake and classification. It returns data (dicts an agent
could read) and writes no file; everything above it (architecture, render, doors) builds on it."""
