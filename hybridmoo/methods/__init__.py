"""Methods: what turns (problem, configuration, budget, seed) into a result.

:mod:`hybridmoo.methods.trial` holds the trial functions of a study (the hypernetwork trainer
and DYMU); the baselines of ``hybridmoo compare`` are registered in :mod:`hybridmoo.baselines`.
A backend runs any of them as ``fn(payload, cache)`` without knowing which.
"""
