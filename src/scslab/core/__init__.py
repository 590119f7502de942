"""The core: engine, World, the module contract, counters, population, acts, record layouts."""
