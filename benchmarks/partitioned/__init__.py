"""A simulation split by region over Dask workers: the partitioned prototype of issue #21."""
