"""Your own model: a multi-task ``nn.Module``, its data and one loss per task.

:func:`from_model` turns a user's network into a data-driven problem like the shipped
Multi-MNIST: the hypernetwork generates *all* parameters of the module for each preference, and
the objectives are the per-task losses of the generated network on held-out data. Everything
the trainer does for the shipped data problems works on it: K preferences per step sharing one
minibatch (vmap over the K generated networks), ``train.checkpoint = "best"`` when a validation
split is given, a study's outer loop, a study or compare file naming the factory by import
path, Ray workers reached through ``runtime_env``, the gradient baselines of ``hybridmoo
compare`` (PHN, COSMOS, HV-PSL, CPMTL, LS, MGDA-UB, PCGrad, CAGrad, EPO, PMTL, MT2O; DYMU,
PHN-BN and connection strength build networks of their own for the shipped image problems).
A module of 2,000 parameters or more is generated in chunks by default
(``hypernet.head = "auto"``: one shared generator emits the flat parameter vector in
``hypernet.n_chunks`` pieces); ``"tensor"`` or ``"chunked"`` chooses.

**Data.** Each split is a torch ``Dataset`` whose items are ``(x, y)`` (or
``(x, y_1, ..., y_T)``), or tensors ``(X, Y)`` / ``(X, (Y_1, ..., Y_T))`` / ``(X, Y_1, ...,
Y_T)`` with the examples along the first dimension (numpy arrays are converted). A ``Dataset``
is read once, item by item, into tensors held in memory (and on the training device): this
suits the small and medium data sets that fit there, not streaming data.

**Outputs, targets, losses.** With T losses:

- the module returns one tensor, or a tuple/list of T tensors (one per task head);
- the targets are one tensor, or T tensors (one per task);
- loss ``i`` receives ``(output_i, target_i)``: the i-th output and target where there are T of
  them, the whole output / target otherwise (a loss may then slice what it needs). Shapes are
  those of ONE network on a batch of ``b`` examples, ``(b, ...)``; the K generated networks
  are handled by ``torch.func.vmap`` over the loss (a Python loop where vmap fails);
- a loss returns either the **mean loss** (a scalar, e.g. ``F.cross_entropy(o, y)``) or the
  **per-example losses** `(b,)` (e.g. ``reduction="none"``); per-example losses are averaged.
  Either way objective i is the mean of loss i over the examples of a split (a scalar loss is
  assumed to be a mean, so that chunked evaluation adds up exactly).

Everything is checked on a first forward pass when the problem is built (so a study fails
before it starts): the module must accept a batch of ``X``, return one row per example, the
number of losses must match the heads and targets, and each loss must return a finite,
differentiable scalar or `(b,)` tensor. A :class:`~hybridmoo.errors.ShapeError` or
:class:`~hybridmoo.errors.ConfigError` names what was wrong.

**Reference point.** Default: per task, the loss of the module as given (its initial weights) on
the objective split, plus 10 % of its magnitude (:attr:`Problem.ref_point_source` says so): the
HV then counts the networks that improve on the initialisation. Pass ``ref_point`` for numbers
comparable across runs. ``ideal`` defaults to ``None`` (the scalarisations then take the origin,
right for losses ≥ 0; pass it for losses that may be negative).

>>> import torch
>>> from torch import nn
>>> from hybridmoo.problems import from_model
>>> X = torch.randn(64, 3)
>>> Y = torch.stack([X.sum(1), X[:, 0] - X[:, 1]], 1)           # two regression tasks
>>> mse = lambda o, y: (o - y) ** 2                             # per-example (b,) losses
>>> p = from_model(nn.Linear(3, 2), (X, Y), losses=[lambda o, y: mse(o[:, 0], y[:, 0]),
...                                                 lambda o, y: mse(o[:, 1], y[:, 1])],
...                name="two_sums", batch_size=16, ref_point=[5.0, 5.0])
>>> p.n_obj, p.obj_names, p.eval_split
(2, ('loss_1', 'loss_2'), 'train')
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.hypernet import batched_call
from hybridmoo.problems.mtl import DataProblem, _config_value, _eval_batch
from hybridmoo.tasks import DataTask

__all__ = ["ModelProblem", "ModelTask", "Targets", "from_model"]

_REF_MARGIN = 0.1
_CHECK_BATCH = 4  # examples of the first, checking forward pass

Split = tuple[Tensor, tuple[Tensor, ...]]  # inputs (N, ...), targets: 1 or T tensors (N, ...)


# ---------------------------------------------------------------------------- data
def _tensor(v: Any, what: str) -> Tensor:
    if isinstance(v, Tensor):
        return v.detach()
    try:
        return torch.as_tensor(np.asarray(v))
    except (TypeError, ValueError, RuntimeError):
        raise ConfigError(f"{what} is a {type(v).__name__}, expected a tensor or an array of "
                          "numbers.") from None


def _read_dataset(ds: Any, where: str) -> list:
    from torch.utils.data import default_collate

    n = len(ds)
    if n == 0:
        raise ConfigError(f"{where}: the data set is empty; every given split needs examples.")
    try:
        batch = default_collate([ds[i] for i in range(n)])
    except Exception as exc:
        raise ConfigError(f"{where}: reading the Dataset into tensors failed ({type(exc).__name__}"
                          f": {exc}); its items must be (x, y) or (x, y_1, ..., y_T) of tensors "
                          "or numbers with the same shape in every item.") from None
    if not isinstance(batch, (list, tuple)):
        raise ConfigError(f"{where}: the Dataset's items are {type(ds[0]).__name__}, expected "
                          "tuples (x, y) or (x, y_1, ..., y_T).")
    return list(batch)


def _as_split(data: Any, where: str) -> Split | None:
    """``(X, (Y,))`` or ``(X, (Y_1, ..., Y_T))`` from a Dataset or a tuple of tensors."""
    if data is None:
        return None
    if isinstance(data, (tuple, list)):
        parts = list(data)
    elif hasattr(data, "__getitem__") and hasattr(data, "__len__") and \
            not isinstance(data, (str, bytes)):
        parts = _read_dataset(data, where)
    else:
        raise ConfigError(f"{where} is a {type(data).__name__}: expected a torch Dataset of "
                          "(x, y) items or a tuple (X, Y) of tensors (examples first).")
    if len(parts) < 2:
        raise ConfigError(f"{where} has {len(parts)} part(s): expected inputs and targets, "
                          "(X, Y), (X, (Y_1, ..., Y_T)) or (X, Y_1, ..., Y_T).")
    X = _tensor(parts[0], f"{where} inputs")
    ys = parts[1] if len(parts) == 2 and isinstance(parts[1], (tuple, list)) else parts[1:]
    Ys = Targets(_tensor(y, f"{where} targets[{i}]") for i, y in enumerate(ys))
    if X.ndim == 0 or X.shape[0] == 0:
        raise ConfigError(f"{where}: the inputs have shape {tuple(X.shape)}; expected at least "
                          "one example along the first dimension.")
    for i, y in enumerate(Ys):
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ShapeError(f"{where}: targets[{i}] have shape {tuple(y.shape)} for "
                             f"{X.shape[0]} inputs; expected the same number of examples "
                             "along the first dimension.")
    return X, Ys


class Targets(tuple):
    """The targets of a split, one tensor or one per task, indexed like one tensor.

    ``Y[idx]``, ``Y.unsqueeze(0)``, ``Y.expand(K, ...)`` and ``Y.to(...)`` apply to every
    tensor (the first dimension is the examples'; ``expand`` keeps each tensor's own trailing
    shape), so that code written for a single target tensor (the MT2O baseline) takes it.
    ``shape`` is the first tensor's.
    """

    def __getitem__(self, idx):  # noqa: D105
        if isinstance(idx, int):
            return tuple.__getitem__(self, idx)
        return Targets(t[idx] for t in self)

    @property
    def shape(self) -> torch.Size:
        """The first target tensor's shape (its first dimension: the examples)."""
        return tuple.__getitem__(self, 0).shape

    def unsqueeze(self, dim: int) -> Targets:
        """Every tensor unsqueezed at ``dim`` (0: a new leading dimension)."""
        return Targets(t.unsqueeze(dim) for t in self)

    def expand(self, *sizes: int) -> Targets:
        """Every `(1, b, ...)` tensor expanded to `(sizes[0], b, ...)` (its own trailing shape)."""
        return Targets(t.expand(sizes[0], *t.shape[1:]) for t in self)

    def to(self, *args: Any, **kwargs: Any) -> Targets:
        """Every tensor moved (``Tensor.to``'s arguments)."""
        return Targets(t.to(*args, **kwargs) for t in self)


def _pick(parts: tuple | Tensor, i: int) -> Any:
    """Part ``i`` of per-task outputs/targets, or the whole when there is one."""
    if isinstance(parts, Tensor):
        return parts
    return parts[i] if len(parts) > 1 else parts[0]


def _cast(t: Tensor, device, dtype) -> Tensor:
    return t.to(device, dtype) if (dtype is not None and t.is_floating_point()) else t.to(device)


# ---------------------------------------------------------------------------- the task
def _looped(module: nn.Module, params: dict[str, Tensor], x: Tensor,
            buffers: dict[str, Tensor] | None = None) -> Any:
    """:func:`~hybridmoo.hypernet.looped_call` that also stacks tuple outputs."""
    bufs = dict(module.named_buffers()) if buffers is None else buffers
    outs = [functional_call(module, {**{k: v[i] for k, v in params.items()}, **bufs}, (x[i],))
            for i in range(x.shape[0])]
    if isinstance(outs[0], (tuple, list)):
        return tuple(torch.stack([o[j] for o in outs]) for j in range(len(outs[0])))
    return torch.stack(outs)


def _per_network(loss: Callable, out: Tensor, y: Tensor, use_vmap: bool) -> Tensor:
    """`(K,)` mean loss of each of the K networks: ``out`` `(K, b, ...)`, ``y`` `(K, b, ...)`."""
    r = vmap(loss)(out, y) if use_vmap else \
        torch.stack([loss(out[k], y[k]) for k in range(out.shape[0])])
    return r if r.ndim == 1 else r.mean(dim=1)


def _task_losses(losses: Sequence[Callable], use_vmap: Sequence[bool], out: Any,
                 ys: tuple[Tensor, ...]) -> Tensor:
    """`(K, T)`: loss i of each of the K networks on (output_i, target_i), see the module doc."""
    return torch.stack([_per_network(f, _pick(out, i), _pick(ys, i), v)
                        for i, (f, v) in enumerate(zip(losses, use_vmap, strict=True))], dim=1)


class ModelTask(DataTask):
    """The :class:`~hybridmoo.tasks.DataTask` of a :class:`ModelProblem`.

    Differs from its base in three ways: targets are a tuple (one tensor, or one per task), the
    module may return a tuple of per-task outputs, and the objectives are the user's losses
    (applied per network, see the module docstring).

    Args:
        module: the target template. train, evaluation, selection: :data:`Split` s.
        losses: T loss callables. use_vmap: per loss, whether vmap applies it.
        module_vmap: whether the module runs under vmap (else a loop over the K networks).
        **kwargs: as for :class:`~hybridmoo.tasks.DataTask`.
    """

    def __init__(self, module: nn.Module, train: Split, evaluation: Split,
                 losses: Sequence[Callable], *, use_vmap: Sequence[bool], module_vmap: bool,
                 selection: Split | None = None, **kwargs: Any) -> None:
        super().__init__(module, (train[0], train[1][0]), (evaluation[0], evaluation[1][0]),
                         self._loss, len(losses),
                         selection=None if selection is None else
                         (selection[0], selection[1][0]), **kwargs)
        self.Y, self.Ye = train[1], evaluation[1]
        if selection is not None:
            self.Ys = selection[1]
        self.losses = tuple(losses)
        self.use_vmap = tuple(use_vmap)
        self.module_vmap = bool(module_vmap)

    def _loss(self, out: Any, ys: tuple[Tensor, ...]) -> Tensor:
        """`(K, T)` mean losses of K networks' outputs `(K, b, ...)` against ``ys``."""
        return _task_losses(self.losses, self.use_vmap, out, ys)

    def call_for(self, per_network: int) -> Callable[..., Any]:
        """vmap (:func:`~hybridmoo.hypernet.batched_call`) or a loop that stacks tuples."""
        if not self.module_vmap:
            return _looped
        fn = super().call_for(per_network)
        return fn if fn is batched_call else _looped

    def _mean_losses(self, params: dict[str, Tensor], X: Tensor, Y: tuple[Tensor, ...]) -> Tensor:
        K = next(iter(params.values())).shape[0]
        N = X.shape[0]
        total = None
        for s in range(0, N, self.eval_batch_size):
            xb = X[s: s + self.eval_batch_size]
            x = xb.unsqueeze(0).expand(K, *xb.shape)
            ys = tuple(y[s: s + self.eval_batch_size].unsqueeze(0).expand(K, xb.shape[0],
                                                                           *y.shape[1:])
                       for y in Y)
            part = self._loss(self.call(self.module, params, x, self.target.buffers), ys)
            part = part * xb.shape[0]
            total = part if total is None else total + part
        return total / N

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> ModelTask:
        """Move data and template to ``device`` (floating tensors to ``dtype``)."""
        from hybridmoo.hypernet import ModuleTarget

        self.X, self.Xe = _cast(self.X, device, dtype), _cast(self.Xe, device, dtype)
        self.Y = Targets(_cast(y, device, dtype) for y in self.Y)
        self.Ye = Targets(_cast(y, device, dtype) for y in self.Ye)
        if self.has_selection:
            self.Xs = _cast(self.Xs, device, dtype)
            self.Ys = Targets(_cast(y, device, dtype) for y in self.Ys)
        self.module.to(device=device, dtype=dtype)
        self.target = ModuleTarget(self.module)
        return self


# ---------------------------------------------------------------------------- the problem
class ModelProblem(DataProblem):
    """A user's module, data and losses as a data-driven problem (built by :func:`from_model`).

    Attributes:
        eval_split: the split behind the objectives (``"test"``, ``"val"`` or ``"train"``).
        n_target_params: parameters the hypernetwork generates per preference.
        module_vmap: whether the module runs under vmap (``False``: a loop over the networks,
            because vmap failed on the first pass; :attr:`vmap_note` says why).
    """

    def __init__(self, module: nn.Module, train: Any, val: Any, test: Any,
                 losses: Sequence[Callable], *, name: str, obj_names: Sequence[str] | None,
                 batch_size: int | None, ref_point: Sequence[float] | None,
                 ideal: Sequence[float] | None, nadir: Sequence[float] | None,
                 eval_split: str | None, reinit: bool) -> None:
        where = f"from_model({name!r})"
        if not isinstance(module, nn.Module):
            raise ConfigError(f"{where}: module is a {type(module).__name__}, expected a "
                              "torch.nn.Module whose parameters the hypernetwork generates.")
        n_params = sum(p.numel() for p in module.parameters())
        if n_params == 0:
            raise ConfigError(f"{where}: the module {type(module).__name__} has no parameters "
                              "to generate.")
        if callable(losses) or not isinstance(losses, Sequence) or \
                not all(callable(f) for f in losses):
            raise ConfigError(f"{where}: losses must be a list of callables, one per task "
                              f"((output, target) -> loss); got {losses!r}.")
        T = len(losses)
        if T < 2:
            raise ConfigError(f"{where}: {T} loss given; a multi-objective problem needs one "
                              "loss per task, at least 2 (losses=[loss_task1, loss_task2]).")
        if batch_size is not None and (isinstance(batch_size, bool) or
                                       not isinstance(batch_size, (int, np.integer)) or
                                       batch_size < 1):
            raise ConfigError(f"{where}: batch_size = {batch_size!r}: expected an integer ≥ 1 "
                              "or None (use train.batch_size).")
        splits = {"train": _as_split(train, f"{where}: train"),
                  "val": _as_split(val, f"{where}: val"),
                  "test": _as_split(test, f"{where}: test")}
        tr = splits["train"]
        if tr is None:
            raise ConfigError(f"{where}: train is None; the training split is required.")
        for s, sp in splits.items():
            if sp is None:
                continue
            if len(sp[1]) not in (1, T):
                raise ShapeError(f"{where}: the {s} split has {len(sp[1])} targets for {T} "
                                 "losses; give one target tensor (every loss gets it) or one "
                                 "per loss.")
            if s != "train" and (sp[0].shape[1:] != tr[0].shape[1:] or
                                 [y.shape[1:] for y in sp[1]] != [y.shape[1:] for y in tr[1]]):
                raise ShapeError(f"{where}: the {s} split's shapes (inputs {tuple(sp[0].shape)}"
                                 f", targets {[tuple(y.shape) for y in sp[1]]}) differ from the "
                                 f"train split's (inputs {tuple(tr[0].shape)}, targets "
                                 f"{[tuple(y.shape) for y in tr[1]]}) beyond the first "
                                 "dimension.")
        allowed = [s for s in ("test", "val", "train") if splits[s] is not None]
        if eval_split is None:
            eval_split = allowed[0]
        elif eval_split not in allowed:
            raise ConfigError(f"{where}: eval_split = {eval_split!r}: expected one of the given "
                              f"splits ({', '.join(allowed)}).")
        names = [f"loss_{i + 1}" for i in range(T)] if obj_names is None else list(obj_names)
        if len(names) != T:
            raise ConfigError(f"{where}: {len(names)} obj_names for {T} losses; give one name "
                              "per loss.")
        self._module, self._losses, self._splits = module, tuple(losses), splits
        self._batch_size = None if batch_size is None else int(batch_size)
        self._reinit = bool(reinit)
        self.eval_split = eval_split
        self.n_target_params = int(n_params)
        self.has_validation_split = splits["val"] is not None
        self.use_vmap, self.module_vmap, self.vmap_note = self._first_pass(where, names)
        init = self._initial_losses()
        if not np.isfinite(init).all():
            raise ShapeError(f"{where}: the module's initial weights give non-finite losses "
                             f"{init.tolist()} on the {eval_split} split; check the data and "
                             "losses (or pass ref_point).")
        ref = init + _REF_MARGIN * np.abs(init) + 1e-12 if ref_point is None else ref_point
        self._setup(name=name, n_var=0, n_obj=T, lower=0.0, upper=1.0, ref_point=ref,
                    ref_point_source=(f"estimated: the losses of the module's initial weights on "
                                      f"the {eval_split} split plus 10 %") if ref_point is None
                    else "user-given",
                    ideal=ideal, nadir=nadir, obj_names=names, options={})

    # ------------------------------------------------------------------ checks
    def _first_pass(self, where: str, names: list[str]) -> tuple[list[bool], bool, str]:
        """Run module and losses on a few examples; return (vmap per loss, module vmap, note)."""
        X, Ys = self._splits["train"]
        b = min(_CHECK_BATCH, X.shape[0])
        xb, ys = X[:b], tuple(y[:b] for y in Ys)
        mod = self._module
        try:
            out = mod(xb)
        except Exception as exc:
            raise ShapeError(f"{where}: the module failed on a batch of inputs of shape "
                             f"{tuple(xb.shape)} ({type(exc).__name__}: {exc}); it must take a "
                             "batch shaped like the training inputs, examples first.") from None
        T = len(self._losses)
        outs = self._check_outputs(out, b, T, where)
        grads = any(p.requires_grad for p in mod.parameters())
        for i, f in enumerate(self._losses):
            o, y = _pick(outs, i), _pick(ys, i)
            what = f"loss {i + 1} ({names[i]})"
            try:
                r = f(o, y)
            except Exception as exc:
                raise ShapeError(f"{where}: {what} failed on output {tuple(o.shape)} and target "
                                 f"{tuple(y.shape)} ({type(exc).__name__}: {exc}).") from None
            if not isinstance(r, Tensor) or not r.is_floating_point():
                raise ShapeError(f"{where}: {what} returned {type(r).__name__} "
                                 f"{getattr(r, 'dtype', '')}; expected a floating torch tensor: "
                                 f"the mean loss (a scalar) or per-example losses ({b},).")
            if tuple(r.shape) not in ((), (b,)):
                raise ShapeError(f"{where}: {what} returned shape {tuple(r.shape)} for a batch of "
                                 f"{b}; expected a scalar (the mean loss) or ({b},) "
                                 "(one loss per example).")
            if not torch.isfinite(r).all():
                raise ShapeError(f"{where}: {what} returned a non-finite value ({r.tolist()}) at "
                                 "the module's initial weights; check the loss and the data.")
            if grads and not r.requires_grad:
                raise ShapeError(f"{where}: {what} is not differentiable in the module's output "
                                 "(it returned a tensor without gradient: computed in numpy, "
                                 "detached or through .item()?); write it with torch operations.")
        return self._vmap_checks(xb, ys, T)

    @staticmethod
    def _check_outputs(out: Any, b: int, T: int, where: str) -> Tensor | tuple[Tensor, ...]:
        if isinstance(out, (tuple, list)):
            if len(out) != T:
                raise ShapeError(f"{where}: the module returned {len(out)} outputs for {T} "
                                 "losses; return one tensor per task head (or a single tensor "
                                 "every loss receives).")
            outs = tuple(out)
        else:
            outs = out
        for k, o in enumerate(outs if isinstance(outs, tuple) else (outs,)):
            if not isinstance(o, Tensor):
                raise ShapeError(f"{where}: the module returned {type(o).__name__} (output "
                                 f"{k}); expected tensors.")
            if o.ndim == 0 or o.shape[0] != b:
                raise ShapeError(f"{where}: the module's output {k} has shape "
                                 f"{tuple(o.shape)} for a batch of {b}; expected one row per "
                                 f"example, ({b}, ...).")
        return outs

    def _vmap_checks(self, xb: Tensor, ys: tuple[Tensor, ...],
                     T: int) -> tuple[list[bool], bool, str]:
        """Whether vmap runs the module and each loss (else loops, same values)."""
        mod = self._module
        params = {k: torch.stack([v.detach(), v.detach()]) for k, v in mod.named_parameters()}
        x2 = xb.unsqueeze(0).expand(2, *xb.shape)
        note = ""
        with torch.no_grad():
            ref_out = _looped(mod, params, x2)
            try:
                batched_call(mod, params, x2)
                module_vmap = True
            except Exception as exc:
                module_vmap = False
                note = f"the module does not run under vmap ({type(exc).__name__}: {exc})"
            ys2 = tuple(y.unsqueeze(0).expand(2, *y.shape) for y in ys)
            use = []
            for i, f in enumerate(self._losses):
                o, y = _pick(ref_out, i), _pick(ys2, i)
                want = _per_network(f, o, y, False)
                try:
                    ok = torch.allclose(_per_network(f, o, y, True), want, rtol=1e-4, atol=1e-6)
                except Exception:
                    ok = False
                use.append(ok)
        return use, module_vmap, note

    @torch.no_grad()
    def _initial_losses(self) -> np.ndarray:
        """`(T,)` losses of the module's own weights on the objective split."""
        X, Ys = self._splits[self.eval_split]
        params = {k: v.detach().unsqueeze(0) for k, v in self._module.named_parameters()}
        loop = [False] * len(self._losses)
        total, n = 0.0, X.shape[0]
        for s in range(0, n, 1024):
            xb = X[s: s + 1024].unsqueeze(0)
            out = _looped(self._module, params, xb)
            ys = tuple(y[s: s + 1024].unsqueeze(0) for y in Ys)
            total = total + _task_losses(self._losses, loop, out, ys)[0].double().numpy() \
                * xb.shape[1]
        return np.asarray(total / n, dtype=np.float64)

    # ------------------------------------------------------------------ the trainer's side
    def make_task(self, config=None, dtype: torch.dtype = torch.float32,
                  device: torch.device | str = "cpu") -> ModelTask:
        """The training task: a copy of the module (re-initialised under the trainer's seed
        unless ``reinit=False``), the splits on ``device``, the losses."""
        module = copy.deepcopy(self._module)
        if self._reinit:
            for sub in module.modules():
                if callable(getattr(sub, "reset_parameters", None)):
                    sub.reset_parameters()
        bs = self._batch_size if self._batch_size is not None else \
            int(_config_value(config, "batch_size", 256))
        task = ModelTask(
            module, self._splits["train"], self._splits[self.eval_split], self._losses,
            use_vmap=self.use_vmap, module_vmap=self.module_vmap,
            selection=self._splits["val"], batch_size=bs,
            n_prefs=int(_config_value(config, "n_prefs", 8)),
            split_batch=bool(_config_value(config, "split_batch", True)),
            batched=_config_value(config, "batched", "auto"),
            eval_batch_size=_eval_batch(config, 1 << 16),
        )
        return task.to(device, dtype)

    def split(self, name: str) -> Split:
        """The ``"train"``, ``"val"`` or ``"test"`` split as ``(X, (Y, ...))`` (CPU tensors)."""
        if self._splits.get(name) is None:
            given = [s for s, v in self._splits.items() if v is not None]
            raise ConfigError(f"{self.name}: no {name!r} split; given: {', '.join(given)}")
        return self._splits[name]

    def network(self, result, preference: Sequence[float]) -> nn.Module:
        """The trained network of one preference: a copy of the module with generated weights.

        Args:
            result: a :class:`~hybridmoo.record.TrialResult` of this problem with its weights
                (``train(..., keep_weights=True)``, the default).
            preference: `(T,)` non-negative weights of the tasks (summing to 1 for the usual
                simplex-sampled training).

        Returns:
            the module (``eval()`` mode, CPU, float32 unless trained in float64), ready to call
            on new inputs.
        """
        from hybridmoo import preferences
        from hybridmoo.hypernet import HypernetConfig, Hypernetwork, ModuleTarget

        if not getattr(result, "state_dict", None):
            raise ConfigError("network(): the result has no weights; train with "
                              "keep_weights=True")
        p = np.asarray(preference, dtype=np.float64).reshape(-1)
        if p.size != self.n_obj or (p < 0).any() or not np.isfinite(p).all():
            raise ShapeError(f"network(): preference {p.tolist()} must have {self.n_obj} finite "
                             f"components ≥ 0 (one per task: {', '.join(self.obj_names)}).")
        train_cfg = dict(result.train)
        dtype = torch.float64 if train_cfg.get("dtype") == "float64" else torch.float32
        module = copy.deepcopy(self._module).to(dtype=dtype)
        net = Hypernetwork(self.n_obj, ModuleTarget(module),
                           HypernetConfig.from_stored(
                               result.hypernet, (result.extra or {}).get("hypernet_built"))
                           ).to(dtype=dtype)
        net.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in
                             result.state_dict.items()})
        sampler = preferences.from_dict({**dict(train_cfg.get("sampler") or {}),
                                         "n_obj": self.n_obj})
        if not sampler.on_simplex:
            p = p / max(np.linalg.norm(p), 1e-12)
        with torch.no_grad():
            params = net(torch.as_tensor(p[None, :], dtype=dtype))
            for k, v in module.named_parameters():
                v.copy_(params[k][0])
        return module.eval()

    def describe(self) -> dict:
        """JSON description: adds the module's class, generated parameters and split sizes."""
        d = super().describe()
        d.update({"module": type(self._module).__name__, "n_target_params": self.n_target_params,
                  "split_sizes": {s: int(v[0].shape[0]) for s, v in self._splits.items()
                                  if v is not None},
                  "eval_split": self.eval_split})
        return d


def from_model(module: nn.Module, train: Any, val: Any = None, test: Any = None,
               losses: Sequence[Callable[[Tensor, Tensor], Tensor]] = (), *,
               name: str = "model", obj_names: Sequence[str] | None = None,
               batch_size: int | None = None, ref_point: Sequence[float] | None = None,
               ideal: Sequence[float] | None = None, nadir: Sequence[float] | None = None,
               eval_split: str | None = None, reinit: bool = True) -> ModelProblem:
    """A problem whose objectives are the per-task losses of your own ``nn.Module``.

    The hypernetwork generates every parameter of ``module`` from a preference over the T
    tasks; training minimises the scalarised losses on minibatches of ``train``; the objectives
    (HV, fronts) are the mean losses on ``eval_split``. See the module docstring for the data,
    output and loss conventions.

    Args:
        module: the network (e.g. a shared trunk and T heads returning a tuple of T outputs).
            Its parameters give the names and shapes the hypernetwork generates; its buffers are
            used as they are (no BatchNorm running statistics: use LayerNorm or GroupNorm).
        train: training split: a ``Dataset`` of ``(x, y)`` items or tensors ``(X, Y)``,
            ``(X, (Y_1, ..., Y_T))``; X `(N, ...)`, each Y `(N, ...)`.
        val: validation split (same forms) or ``None``; needed by ``train.checkpoint = "best"``.
        test: test split or ``None``.
        losses: T callables ``loss_i(output_i (b, ...), target_i (b, ...))`` returning the mean
            loss (scalar) or per-example losses `(b,)`, differentiable in the output.
        name: the problem's name in results. obj_names: one name per loss (default
            ``loss_1``, ...).
        batch_size: examples per training step (divided among the K preferences); ``None``
            (default) uses ``train.batch_size`` (so a study may search it).
        ref_point: `(T,)` HV reference point; default estimated (see the module docstring).
        ideal, nadir: `(T,)` ideal and nadir points, if known (normalisation, Tchebycheff).
        eval_split: the split behind the objectives: default ``"test"`` if given, else
            ``"val"``, else ``"train"``.
        reinit: re-initialise the module (``reset_parameters`` of each submodule) under each
            run's seed, as the shipped problems do (default); ``False`` keeps the given weights
            as the hypernetwork's starting point (fine-tuning a trained model).

    Returns:
        a :class:`ModelProblem` for :func:`hybridmoo.train`, a study or a comparison.

    Raises:
        ConfigError: bad arguments (no losses, a single loss, a wrong split or batch size).
        ShapeError: the first forward pass failed: the module rejects the inputs, returns the
            wrong number of outputs or rows, or a loss fails, returns a wrong shape, NaN, or a
            tensor without gradient.
    """
    return ModelProblem(module, train, val, test, losses, name=name, obj_names=obj_names,
                        batch_size=batch_size, ref_point=ref_point, ideal=ideal, nadir=nadir,
                        eval_split=eval_split, reinit=reinit)
