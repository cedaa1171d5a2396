"""The default trial method: a preference-conditioned hypernetwork trained by
:class:`~hybridmoo.train.Trainer` (configuration tables ``[fixed.hypernet]`` and
``[fixed.train]``, searched paths ``hypernet.…`` and ``train.…``)."""

from __future__ import annotations

import json

from hybridmoo.errors import ConfigError
from hybridmoo.methods.base import TrialMethod
from hybridmoo.space import (
    SearchSpace,
    Variable,
    check_fixed_table,
    check_search_path,
    flatten_search,
    probe_space,
)

__all__ = ["HYPERNET", "HypernetMethod"]


class HypernetMethod(TrialMethod):
    """A hypernetwork trial: its front, n_params and generation latency."""

    name = "hypernet"
    summary = "a preference-conditioned hypernetwork (Pareto set learning)"
    noun = "hypernetwork"
    tables = ("hypernet", "train")
    default_objectives = ("hv", "n_params")
    hypernetwork = True

    def build_space(self, doc: dict, budget: dict, problem, where: str = "<study file>"
                    ) -> SearchSpace:
        from hybridmoo import preferences
        from hybridmoo.hypernet import HypernetConfig
        from hybridmoo.train import TrainConfig

        fixed = doc.get("fixed", {})
        fixed = {"hypernet": check_fixed_table("hypernet", fixed.get("hypernet", {}),
                                               HypernetConfig, where),
                 "train": check_fixed_table("train", fixed.get("train", {}), TrainConfig, where)}
        for k in ("steps", "seconds", "epochs"):
            if k in fixed["train"]:
                raise ConfigError(f"fixed.train.{k} in {where}: a trial's budget is set by "
                                  f"[budget]; move {k} there")
            fixed["train"][k] = None
        defaults = TrainConfig()  # searched paths such as train.sampler.alpha apply over these
        fixed["train"].setdefault("sampler", dict(defaults.sampler))
        fixed["train"].setdefault("scalarization", dict(defaults.scalarization))
        for k, v in budget.items():
            fixed["train"][k] = v
        variables = []
        classes = {"hypernet": HypernetConfig, "train": TrainConfig}
        for vpath, spec in flatten_search(doc["search"]).items():
            head = vpath.split(".", 1)[0]
            if head not in ("hypernet", "train") or "." not in vpath:
                raise ConfigError(
                    f"search.{vpath}: a searched path starts with 'hypernet.' or 'train.' "
                    "(e.g. \"hypernet.width\", \"train.lr\", \"train.sampler.alpha\")"
                )
            check_search_path(vpath, classes[head], head, where)
            if vpath.split(".")[1] in ("steps", "seconds", "epochs"):
                raise ConfigError(f"search.{vpath} in {where}: a trial's budget is set by [budget] "
                                  "and is the same for every trial; it cannot be searched")
            variables.append(Variable.from_spec(vpath, spec))
        space = SearchSpace(variables, fixed)

        def check(cfg: dict) -> None:
            HypernetConfig.from_dict(cfg["hypernet"])
            train = TrainConfig.from_dict(cfg["train"])
            sampler = dict(train.sampler)
            sampler.setdefault("n_obj", problem.n_obj)  # checks the sampler's own parameters
            preferences.from_dict(sampler)
            if train.checkpoint == "best" and not getattr(problem, "has_validation_split", False):
                raise ConfigError(
                    f"train.checkpoint = 'best' chooses each trial's evaluation by its validation "
                    f"HV but problem {problem.name!r} has no validation split; use 'last' (or the "
                    "Multi-MNIST family, tabular_sparsity)")

        probe_space(space, where, check)
        return space

    def trial_payload(self, spec, config: dict, seed: int,
                      warm: tuple[int, dict] | None = None) -> dict:
        train = dict(config["train"])
        if spec.gpus_per_trial > 0 and "device" not in train:
            train["device"] = "auto"
        if spec.threads_per_trial is not None:
            train.setdefault("threads", spec.threads_per_trial)
        job = {"method": self.name, "problem": spec.problem,
               "problem_options": spec.problem_options, "hypernet": config["hypernet"],
               "train": train, "seed": seed}
        if warm is not None:
            job["warm_start_from"], job["init_state"] = warm
        return job

    def cap_seconds(self, payload: dict, seconds: float) -> dict:
        train = dict(payload["train"])
        train["seconds"] = float(seconds)  # (the study's share: its budget, less or more)
        return {**payload, "train": train}

    def run(self, payload: dict, cache: dict):
        from hybridmoo.methods.trial import _run_hypernet_trial

        return _run_hypernet_trial(payload, cache)

    def default_config(self) -> dict:
        from hybridmoo.hypernet import HypernetConfig
        from hybridmoo.train import TrainConfig

        return {"hypernet": HypernetConfig().to_dict(), "train": TrainConfig().to_dict()}

    def architecture_key(self, config: dict) -> str:
        from hybridmoo.hypernet import HypernetConfig

        d = HypernetConfig.from_dict(config["hypernet"]).to_dict()
        d.pop("activation"), d.pop("out_scale")
        return json.dumps(d, sort_keys=True)


#: the registered instance
HYPERNET = HypernetMethod()
