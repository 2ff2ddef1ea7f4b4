"""The crawler: a sans-I/O core (``core``), thin engines (``engines``), storage and outputs
(``store``), the run that wires them (``runner``), and reports of its records (``report``).

Importing this package loads nothing: ``import spindle.crawl.core`` costs only the core.
"""
