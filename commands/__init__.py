"""Command families: one package (or, for a tiny family, one module) per family.

Each ends with a :class:`bot.family.Family` named ``FAMILY``; :mod:`bot.wiring` lists them.
"""
