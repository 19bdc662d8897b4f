"""Classical and derived facts the suite relies on: Gram identities, gradients, monotone loss
(``foundation.*``, docs/math.md §2–3, §8) and the symbolic derivations of :mod:`theory` checked
numerically (``theory.*``, §4–6, §8). One claim per file; ``_*.py`` hold what several share."""
