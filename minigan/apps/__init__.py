"""minigan.apps: the applications on top of the library — the examples' command line
(``cli``: options, setup, run, preflight, failures) and ``python -m minigan.eval``
(``evaluate``). Only scripts import this package; the library below never does.
"""
