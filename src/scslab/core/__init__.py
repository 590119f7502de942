"""The core: the scenario schema, World, the module contract, counters, population, acts,
record layouts."""
