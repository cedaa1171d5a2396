"""Methods: what turns (problem, configuration, budget, seed) into a result.

A study's trials are run by a :class:`TrialMethod` looked up by name (:func:`get`): the
hypernetwork trainer (:mod:`hybridmoo.methods.hypernet`) or DYMU
(:mod:`hybridmoo.methods.dymu`); :mod:`hybridmoo.methods.base` states the protocol. A backend
runs :func:`hybridmoo.methods.trial.run_trial` as ``fn(payload, cache)`` without knowing which
method a payload names. The baselines of ``hybridmoo compare`` are registered in
:mod:`hybridmoo.baselines`.
"""

from hybridmoo.methods.base import TrialMethod, get, names, register

__all__ = ["TrialMethod", "get", "names", "register"]
