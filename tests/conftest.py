"""Shared test configuration: Hypothesis profiles.

* ``ci`` — Hypothesis's built-in profile, loaded automatically when ``CI`` is set (derandomized,
  no deadline); we re-register it with a bounded example count so the fast env stays under 5 minutes.
* ``dev`` — the default locally: few examples, no deadline (shared 2-core machine).
* ``thorough`` — ``tox -e verify``: many examples.

``HYPOTHESIS_PROFILE`` selects one explicitly.
"""

import os

from hypothesis import HealthCheck, settings

_common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=25, derandomize=True, print_blob=True, **_common)
settings.register_profile("dev", max_examples=25, **_common)
settings.register_profile("thorough", max_examples=300, **_common)

_profile = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(_profile)
