"""Paper 1: "Beyond Lazy Training for Over-parameterized Tensor Decomposition" (Wang, Wu, Lee, Ma, Ge,
NeurIPS 2020). The lazy (NTK) regime needs ``m = Ω(d^{l-1})`` components (``lazy.*``, docs/math.md §4,
§9); a variant of gradient descent succeeds with ``m = O*(r^{2.5l} log d)`` (``beyond.*``, §5, §10).
One claim per file; ``_*.py`` hold what several of them share."""
