"""Exact float64 NumPy references for the catalog's operations.

``oracle.registry.OPS`` maps each implemented catalog id to its oracle function; it is
assembled from the explicit ``ORACLE`` dict at the bottom of each family module.
"""
