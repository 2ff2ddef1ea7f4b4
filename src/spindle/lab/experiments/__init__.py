"""The experiments, one module each; every module declares a single ``EXPERIMENT``.

See :mod:`spindle.lab.registry` for what an experiment declares.
"""
