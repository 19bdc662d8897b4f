"""Symbolic truth with sympy: derivations, exact predictions, code generation.

Never imports :mod:`numerics`: the two are independent routes to the same numbers.
"""
