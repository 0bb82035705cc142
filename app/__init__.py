"""Applications of the engine: the end-to-end checker, batch runs, the HTTP service, the pytest plugin.

The top layer: it may import the facts, the engine and the plugins; nothing below imports it
(tests/test_layers.py keeps it so).
"""
