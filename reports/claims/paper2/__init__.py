"""Paper 2: "Understanding Deflation Process in Over-parametrized Tensor Decomposition" (Ge, Ren, Wang,
Zhou, NeurIPS 2021). Gradient flow from small initialisation fits the larger components first, like
tensor deflation; a modified flow (Algorithm 1) recovers every component of an orthogonal tensor
(``deflation.*``, docs/math.md §6, §11, §12). One claim per file; ``_*.py`` hold what several share."""
