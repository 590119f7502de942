"""Running scenarios: runner, results, output folders, provenance, memory."""
