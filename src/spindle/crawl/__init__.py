"""The crawler: a sans-I/O core (``core``), thin engines (``engines``), storage and outputs
(``store``), and the run that wires them (``runner``).

Importing this package loads nothing: ``import spindle.crawl.core`` costs only the core.
"""
