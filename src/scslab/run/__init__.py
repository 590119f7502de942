"""Running scenarios: the engine (Sim), runner, results, output folders, provenance, memory."""
