"""Multi-task learning problems: Multi-MNIST and its kin, a synthetic regression, a tabular one.

These problems have no decision vectors: the hypernetwork generates the weights of a target
network, and the objectives are the network's per-task losses on held-out data. The trainer
builds the training task with :meth:`DataProblem.make_task` (see :mod:`hybridmoo.tasks`); the data
are loaded on the first call and cached on the problem object, never when the problem is built,
so ``hybridmoo problems`` lists them without touching the data.

Problems (family ``"MTL"``):

- ``multi_mnist``, ``multi_fashion``, ``multi_fashion_mnist``: two 10-class tasks (left and right
  item of an overlay image, see :mod:`hybridmoo.data`), target
  :class:`~hybridmoo.targets.MultiLeNet`, objectives the two test cross-entropies. The HV
  reference point is ``(2, 2)``, the convention of Pareto HyperNetworks (Navon et al., ICLR 2021)
  and COSMOS (Ruchte and Grabocka, ICDM 2021) for these data sets; Chen and Kwok (NeurIPS 2022)
  report HVs of about 2.79–2.95 for PHN-LS, PHN-EPO and COSMOS on the full MNIST training set.
  :meth:`ClassifierTask.eval_extra` adds the per-task accuracies of every evaluation preference.
  Evaluation runs each of the ``n_eval`` generated networks over the whole evaluation split
  (1,000 images with ``source = "t10k"``): keep ``n_eval`` small for these problems (11–25).
- ``mtl_regression``: the synthetic multi-task regression of GradNorm (Chen et al., ICML 2018)
  with a knob for the conflict between tasks; trains in seconds.
- ``tabular_sparsity``: a classifier on a data set bundled with scikit-learn (breast cancer by
  default), cross-entropy against the L1 magnitude of the first-layer weights.

All objectives are losses ≥ 0, so the ideal point is 0 (used by Tchebycheff scalarisations).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from hybridmoo import data as _data
from hybridmoo.errors import ConfigError
from hybridmoo.hypernet import looped_call
from hybridmoo.problems.base import Problem
from hybridmoo.problems.registry import register
from hybridmoo.targets import MultiHeadMLP, MultiLeNet
from hybridmoo.tasks import DataTask, multitask_cross_entropy

__all__ = [
    "ClassifierTask",
    "DataProblem",
    "MTLRegression",
    "MultiFashion",
    "MultiFashionMNIST",
    "MultiMNIST",
    "TabularSparsity",
]


# ---------------------------------------------------------------------------- helpers
def _opt_int(name: str, value, low: int = 1) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(f"{name} = {value!r} is invalid: expected an integer ≥ {low} or None")
    return int(value)


def _choice(name: str, value, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ConfigError(f"{name} = {value!r} is not allowed; allowed: {', '.join(allowed)}")
    return value


def _config_value(config, key: str, default):
    return getattr(config, key, default) if config is not None else default


def _eval_batch(config, per_example: int) -> int:
    """Examples per evaluation pass, so that n_eval × batch stays near ``per_example`` rows."""
    n_eval = int(_config_value(config, "n_eval", 11))
    return max(16, per_example // max(n_eval, 1))


class DataProblem(Problem):
    """Base of data-driven problems: no decision vectors, a training task instead.

    Subclasses call :meth:`_setup` with ``n_var = 0`` and implement :meth:`make_task`.
    """

    def make_task(self, config, dtype: torch.dtype = torch.float32,
                  device: torch.device | str = "cpu") -> DataTask:  # pragma: no cover
        """The training task (target module, data on ``device``) for a trainer ``config``."""
        raise NotImplementedError

    #: whether the task has a validation split (``train.checkpoint = "best"``)
    has_validation_split: bool = False
    #: a data problem's objectives are minibatch losses: no function evaluations to count
    n_evals = None

    def evaluate(self, x: Tensor) -> Tensor:
        """Not available: a data problem's objectives are losses of generated networks."""
        raise NotImplementedError(
            f"{self.name} is a data-driven problem: its objectives are the losses of a generated "
            "network, not a function of decision vectors. Train it with hybridmoo.train() or "
            "`hybridmoo train`."
        )

    def _evaluate(self, x: Tensor) -> Tensor:  # pragma: no cover - evaluate() raises first
        return self.evaluate(x)

    def describe(self) -> dict:
        """JSON-serialisable description (adds ``kind = "data"`` and the ideal point)."""
        d = super().describe()
        d["kind"] = "data"
        d["ideal"] = None if self.ideal is None else self.ideal.tolist()
        return d


class ClassifierTask(DataTask):
    """A :class:`DataTask` for classifiers: per-task cross-entropy, accuracies, penalties.

    The target returns logits `(B, T, C)`; labels are `(N, T)` integers. Objectives are the T
    per-task cross-entropies followed by the columns of ``penalty(params)`` (for example a weight
    norm), if given. :meth:`eval_losses` also computes the per-task accuracies that
    :meth:`eval_extra` returns (one forward pass serves both).

    Args:
        module, train, evaluation, batch_size, n_prefs, split_batch, batched, eval_batch_size:
            as for :class:`DataTask`.
        penalty: ``params {name: (K, ...)} -> (K, e)`` extra objectives, or ``None``.
        n_penalty: number of columns ``e`` of ``penalty``.
        task_names: names of the T tasks (keys of the accuracy table).
        eval_split: name of the evaluation split, reported by :meth:`eval_extra`.
    """

    def __init__(self, module: nn.Module, train: tuple[Tensor, Tensor],
                 evaluation: tuple[Tensor, Tensor], *, penalty: Callable | None = None,
                 n_penalty: int = 1, task_names: Sequence[str] = (), eval_split: str = "test",
                 **kwargs) -> None:
        T = int(train[1].shape[1])
        n_pen = 0 if penalty is None else int(n_penalty)
        super().__init__(module, train, evaluation, multitask_cross_entropy, T + n_pen, **kwargs)
        self.penalty = penalty
        self.task_names = tuple(task_names) or tuple(f"task{i + 1}" for i in range(T))
        self.eval_split = eval_split
        self._last: tuple[dict, Tensor] | None = None

    def train_losses(self, params: dict[str, Tensor], generator: torch.Generator) -> Tensor:
        """`(K, m)`: per-task cross-entropy on the next minibatch, then the penalties."""
        ce = super().train_losses(params, generator)
        return ce if self.penalty is None else torch.cat([ce, self.penalty(params)], dim=1)

    @torch.no_grad()
    def _eval(self, params: dict[str, Tensor], X: Tensor | None = None,
              Y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Mean losses and accuracies `(K, T)` on ``(X, Y)`` (default the evaluation split)."""
        X, Y = (self.Xe, self.Ye) if X is None else (X, Y)
        K = next(iter(params.values())).shape[0]
        N = X.shape[0]
        # On the CPU a loop over the K networks is about twice as fast as vmap for convolutions
        # (vmap turns them into grouped convolutions); without gradients it costs no memory.
        call = looped_call if X.device.type == "cpu" else self.call
        loss = acc = None
        for s in range(0, N, self.eval_batch_size):
            xb = X[s: s + self.eval_batch_size]
            yb = Y[s: s + self.eval_batch_size]
            x = xb.unsqueeze(0).expand(K, *xb.shape)
            y = yb.unsqueeze(0).expand(K, *yb.shape)
            logits = call(self.module, params, x, self.target.buffers)  # (K, b, T, C)
            part = multitask_cross_entropy(logits, y) * xb.shape[0]
            hits = (logits.argmax(-1) == y).sum(dim=1).to(torch.float64)  # (K, T)
            loss = part if loss is None else loss + part
            acc = hits if acc is None else acc + hits
        return loss / N, acc / N

    @torch.no_grad()
    def eval_losses(self, params: dict[str, Tensor]) -> Tensor:
        """Held-out `(K, m)`: per-task cross-entropy on the evaluation split, then penalties."""
        loss, acc = self._eval(params)
        self._last = (params, acc)
        return loss if self.penalty is None else torch.cat([loss, self.penalty(params)], dim=1)

    @torch.no_grad()
    def select_losses(self, params: dict[str, Tensor]) -> Tensor:
        """Validation `(K, m)` (the checkpoint choice): cross-entropies, then penalties."""
        if not self.has_selection:
            raise ConfigError("this task has no validation split to choose a checkpoint on")
        loss = self._eval(params, self.Xs, self.Ys)[0]
        return loss if self.penalty is None else torch.cat([loss, self.penalty(params)], dim=1)

    @torch.no_grad()
    def eval_extra(self, params: dict[str, Tensor]) -> dict:
        """Per-task accuracies of each generated network on the evaluation split.

        Returns:
            ``{"accuracy": (K, T) nested list, "tasks": [...], "eval_split": ...}``
            (JSON-serialisable; reuses the pass of the last :meth:`eval_losses` on ``params``).
        """
        if self._last is not None and self._last[0] is params:
            acc = self._last[1]
        else:
            acc = self._eval(params)[1]
        return {
            "accuracy": acc.detach().to(torch.float64).cpu().numpy().tolist(),
            "tasks": list(self.task_names),
            "eval_split": self.eval_split,
        }


def _nonempty(split: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor] | None:
    """The split, or ``None`` when it has no examples (no checkpoint choice possible)."""
    return split if split[0].shape[0] > 0 else None


# ---------------------------------------------------------------------------- Multi-MNIST
_PHN_REF = (
    "(2, 2): the reference point of Pareto HyperNetworks (Navon et al. 2021) and COSMOS "
    "(Ruchte & Grabocka 2021) for the HV of the two test cross-entropies on Multi-MNIST, "
    "Multi-Fashion and Multi-(Fashion+MNIST)"
)
_SPLIT_SIZES = {"t10k": dict(zip(("train", "val", "test"), _data.T10K_SPLIT, strict=True)),
                "full": {"train": 60000 - _data.FULL_VAL, "val": _data.FULL_VAL, "test": 10000}}


class _MultiOverlay(DataProblem):
    """Two 10-class tasks on 36×36 overlay images (see :mod:`hybridmoo.data`).

    Options:
        data_dir: data root or the directory of the IDX files; default ``$HYBRIDMOO_DATA``, else
            ``../shared/data`` next to the repository, else ``~/.cache/hybridmoo/data``.
        source: ``"t10k"`` (the 10,000 test images, split 8,000 / 1,000 / 1,000 into train /
            validation / test) or ``"full"`` (training + test files, 54,000 / 6,000 / 10,000).
        n_train, n_val, n_test: keep only the first examples of each split (``None``: all).
        seed: fixes the split, the pairing and the offsets of the construction.
        max_shift: random offset of each item, 0–4 pixels (default 2).
        eval_split: the split behind the objectives, ``"test"`` (default) or ``"val"``.
        ref_point: HV reference point, default ``(2, 2)`` (PHN, COSMOS).

    The trainer's ``batch_size``, ``n_prefs``, ``split_batch`` and ``batched`` settings shape
    the training task; objectives are the per-task mean cross-entropies on ``eval_split``.
    """

    kind = "mnist"
    title = "Multi-MNIST"
    tasks = ("left", "right")
    name_ = "multi_mnist"

    has_validation_split = True

    def __init__(self, *, data_dir: str | None = None, source: str = "t10k",
                 n_train: int | None = None, n_val: int | None = None,
                 n_test: int | None = None, seed: int = 0, max_shift: int = 2,
                 eval_split: str = "test", ref_point: Sequence[float] = (2.0, 2.0)) -> None:
        _choice(f"{self.name_}.source", source, ("t10k", "full"))
        _choice(f"{self.name_}.eval_split", eval_split, ("test", "val"))
        caps = {"train": _opt_int("n_train", n_train), "val": _opt_int("n_val", n_val),
                "test": _opt_int("n_test", n_test)}
        for split, cap in caps.items():
            avail = _SPLIT_SIZES[source][split]
            if cap is not None and cap > avail:
                raise ConfigError(
                    f"{self.name_}: n_{split} = {cap} exceeds the {avail} {split} examples of "
                    f"source {source!r}"
                )
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or \
                not 0 <= max_shift <= 4:
            raise ConfigError(f"{self.name_}.max_shift = {max_shift!r}: expected an integer 0–4")
        self._setup(
            name=self.name_, n_var=0, n_obj=2, lower=0.0, upper=1.0,
            ref_point=ref_point, ref_point_source=_PHN_REF, ideal=(0.0, 0.0),
            obj_names=tuple(f"ce_{t}" for t in self.tasks),
            options={"data_dir": None if data_dir is None else str(data_dir), "source": source,
                     "n_train": n_train, "n_val": n_val, "n_test": n_test, "seed": int(seed),
                     "max_shift": max_shift, "eval_split": eval_split,
                     "ref_point": [float(v) for v in ref_point]},
        )
        self._caps = caps
        self._data: _data.MultiDataset | None = None

    def data(self) -> _data.MultiDataset:
        """The data set (built on the first call, then cached), caps applied.

        Raises:
            DataError: if an IDX file is missing or fails its checksum.
        """
        if self._data is None:
            o = self.options
            ds = _data.make_multi(self.kind, data_dir=o["data_dir"], source=o["source"],
                                  rng=np.random.default_rng(o["seed"]),
                                  max_shift=o["max_shift"])
            for split, cap in self._caps.items():
                if cap is not None:
                    X, Y = ds.splits[split]
                    ds.splits[split] = (X[:cap], Y[:cap])
            ds.info["sizes"] = ds.sizes()
            self._data = ds
        return self._data

    def tensors(self, split: str, dtype: torch.dtype = torch.float32,
                device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
        """One split as tensors on ``device``: images `(N, 1, 36, 36)` in [0, 1], labels `(N, 2)`.

        The uint8 images travel to the device first and are converted there (4× less copying).
        """
        X, Y = self.data().splits[split]
        x = torch.from_numpy(X).to(device).unsqueeze(1).to(dtype).div_(255.0)
        return x, torch.from_numpy(Y).to(device)

    def make_task(self, config=None, dtype: torch.dtype = torch.float32,
                  device: torch.device | str = "cpu") -> ClassifierTask:
        """The training task: :class:`MultiLeNet` on the train split, evaluated on eval_split.

        Uses ``config.batch_size`` (default 256), ``n_prefs`` (8), ``split_batch`` (True),
        ``batched`` ("auto") and ``n_eval`` (to size evaluation passes).
        """
        train = self.tensors("train", dtype, device)
        evaluation = self.tensors(self.options["eval_split"], dtype, device)
        module = MultiLeNet(n_tasks=2, n_classes=10, in_channels=1, image_size=_data.CANVAS)
        task = ClassifierTask(
            module, train, evaluation, task_names=self.tasks,
            selection=_nonempty(self.tensors("val", dtype, device)),
            eval_split=self.options["eval_split"],
            batch_size=int(_config_value(config, "batch_size", 256)),
            n_prefs=int(_config_value(config, "n_prefs", 8)),
            split_batch=bool(_config_value(config, "split_batch", True)),
            batched=_config_value(config, "batched", "auto"),
            eval_batch_size=_eval_batch(config, 4096),
        )
        return task.to(device, dtype)

    def describe(self) -> dict:
        """Description with the data set's title, tasks and split sizes (without loading)."""
        d = super().describe()
        sizes = dict(_SPLIT_SIZES[self.options["source"]])
        for split, cap in self._caps.items():
            if cap is not None:
                sizes[split] = cap
        d.update({"title": self.title, "tasks": list(self.tasks), "split_sizes": sizes,
                  "target": "MultiLeNet"})
        return d


@register("multi_mnist", "MTL", "Multi-MNIST: left and right digit of a 36×36 overlay (PHN)")
class MultiMNIST(_MultiOverlay):
    """Multi-MNIST: classify the top-left and the bottom-right digit of an overlay image.

    Two MNIST digits on a 36×36 canvas (:func:`hybridmoo.data.overlay`); objectives the two test
    cross-entropies of a :class:`~hybridmoo.targets.MultiLeNet`; HV reference ``(2, 2)``.
    Options as documented on the base class (data_dir, source, n_train, n_val, n_test, seed,
    max_shift, eval_split, ref_point).

    >>> p = MultiMNIST()  # builds instantly; data load on the first make_task
    >>> p.n_obj, p.ref_point.tolist()
    (2, [2.0, 2.0])
    """

    kind = "mnist"
    title = "Multi-MNIST"
    tasks = ("left", "right")
    name_ = "multi_mnist"


@register("multi_fashion", "MTL", "Multi-Fashion: two Fashion-MNIST items on a 36×36 overlay")
class MultiFashion(_MultiOverlay):
    """Multi-Fashion: the Multi-MNIST construction applied to Fashion-MNIST (needs its files)."""

    kind = "fashion"
    title = "Multi-Fashion"
    tasks = ("left", "right")
    name_ = "multi_fashion"


@register("multi_fashion_mnist", "MTL",
          "Multi-(Fashion+MNIST): MNIST digit top-left, Fashion item bottom-right")
class MultiFashionMNIST(_MultiOverlay):
    """Multi-(Fashion+MNIST): an MNIST digit top-left, a Fashion-MNIST item bottom-right."""

    kind = "fashion_mnist"
    title = "Multi-(Fashion+MNIST)"
    tasks = ("digit", "fashion")
    name_ = "multi_fashion_mnist"


# ---------------------------------------------------------------------------- regression
def _gauss_hermite_tanh2(scale: np.ndarray, n: int = 80) -> np.ndarray:
    """E[tanh(s·z)²] for z ~ N(0, 1), elementwise in ``scale`` (Gauss–Hermite quadrature)."""
    t, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / w.sum()
    return (np.tanh(np.multiply.outer(scale, t)) ** 2) @ w


@register("mtl_regression", "MTL",
          "GradNorm's synthetic multi-task regression, tasks f_i = σ_i tanh(W_i x)")
class MTLRegression(DataProblem):
    """Synthetic multi-task regression with controllable conflict (the GradNorm toy problem).

    Chen, Badrinarayanan, Lee and Rabinovich, "GradNorm: Gradient Normalization for Adaptive
    Loss Balancing in Deep Multitask Networks", ICML 2018, §4: T regression tasks
    ``f_i(x) = σ_i · tanh((B + ε_i) x)`` with a shared matrix ``B`` and task-specific
    perturbations ``ε_i`` (elements drawn from N(0, 10) and N(0, 3.5)); ``σ_i`` sets the scale
    of task i.

    Here ``W_i = sqrt(gain / in_dim) · (sqrt(1 − conflict) · B + sqrt(conflict) · E_i)`` with
    ``B`` and ``E_i`` standard normal, and inputs ``x ~ N(0, I)``: ``conflict`` is the share of
    each task's weight variance that is its own (0: the tasks are the same function up to
    scale, 1: independent tasks; GradNorm's variances give 3.5 / 13.5 ≈ 0.26, the default).
    The ``1 / in_dim`` factor keeps the pre-activations at variance ``gain`` so that tanh is not
    saturated (GradNorm does not state its input distribution). Targets are noise-free.

    Objectives: the per-task mean squared error on the test set (averaged over the outputs).
    Reference point: per task, the expected MSE of the zero predictor,
    ``σ_i² · mean_j E[tanh(‖w_ij‖ z)²]`` (Gauss–Hermite quadrature), so the HV counts models
    better than predicting 0. Target: :class:`~hybridmoo.targets.MultiHeadMLP`
    (``in_dim → hidden → T heads of out_dim``).

    Options:
        n_tasks: number of tasks T (≥ 2). in_dim: input size (250 as in GradNorm).
        out_dim: outputs per task (GradNorm: 100; default 10 to train in seconds).
        conflict: task-specific share of the weight variance, in [0, 1].
        scales: ``σ_i`` per task (default all 1; unequal scales unbalance the losses).
        gain: variance of the pre-activations. hidden: trunk widths of the target.
        n_train, n_test: examples. seed: draws W and the data.
        ref_point: override the reference point.
    """

    def __init__(self, *, n_tasks: int = 2, in_dim: int = 250, out_dim: int = 10,
                 conflict: float = 3.5 / 13.5, scales: Sequence[float] | None = None,
                 gain: float = 1.0, hidden: Sequence[int] = (32,), n_train: int = 2000,
                 n_test: int = 1000, seed: int = 0,
                 ref_point: Sequence[float] | None = None) -> None:
        n_tasks = _opt_int("mtl_regression.n_tasks", n_tasks, 2)
        in_dim = _opt_int("mtl_regression.in_dim", in_dim)
        out_dim = _opt_int("mtl_regression.out_dim", out_dim)
        n_train = _opt_int("mtl_regression.n_train", n_train)
        n_test = _opt_int("mtl_regression.n_test", n_test)
        if not 0.0 <= float(conflict) <= 1.0:
            raise ConfigError(f"mtl_regression.conflict = {conflict!r}: expected a number in "
                              "[0, 1]")
        if not float(gain) > 0:
            raise ConfigError(f"mtl_regression.gain = {gain!r}: expected a number > 0")
        sig = np.ones(n_tasks) if scales is None else np.asarray(scales, dtype=np.float64)
        if sig.shape != (n_tasks,) or not (sig > 0).all():
            raise ConfigError(
                f"mtl_regression.scales = {scales!r}: expected {n_tasks} positive numbers"
            )
        hidden = tuple(int(h) for h in hidden)
        if not hidden or min(hidden) < 1:
            raise ConfigError(f"mtl_regression.hidden = {hidden!r}: expected widths ≥ 1")
        rng = np.random.default_rng(seed)
        B = rng.standard_normal((out_dim, in_dim))
        E = rng.standard_normal((n_tasks, out_dim, in_dim))
        self._W = math.sqrt(gain / in_dim) * (math.sqrt(1 - conflict) * B
                                              + math.sqrt(conflict) * E)  # (T, out, in)
        self._sigma = sig
        self._rng_state = rng.bit_generator.state
        row_norm = np.linalg.norm(self._W, axis=2)  # (T, out): std of w_ij · x
        zero_mse = sig**2 * _gauss_hermite_tanh2(row_norm).mean(axis=1)
        ref = zero_mse if ref_point is None else ref_point
        self._setup(
            name="mtl_regression", n_var=0, n_obj=n_tasks, lower=0.0, upper=1.0,
            ref_point=ref,
            ref_point_source="per task, the expected MSE of the zero predictor (σ_i² E[tanh²])"
            if ref_point is None else "user-given",
            ideal=np.zeros(n_tasks), obj_names=tuple(f"mse_{i + 1}" for i in range(n_tasks)),
            options={"n_tasks": n_tasks, "in_dim": in_dim, "out_dim": out_dim,
                     "conflict": float(conflict), "scales": sig.tolist(), "gain": float(gain),
                     "hidden": list(hidden), "n_train": n_train, "n_test": n_test,
                     "seed": int(seed),
                     "ref_point": None if ref_point is None else [float(v) for v in ref_point]},
        )
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] | None = None

    def data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{"train", "test": (X (N, in_dim), Y (N, T, out_dim))}`` float64, cached."""
        if self._data is None:
            rng = np.random.default_rng()
            rng.bit_generator.state = self._rng_state
            out = {}
            for split in ("train", "test"):
                n = self.options[f"n_{split}"]
                X = rng.standard_normal((n, self.options["in_dim"]))
                Y = self._sigma[None, :, None] * np.tanh(np.einsum("toi,ni->nto", self._W, X))
                out[split] = (X, Y)
            self._data = out
        return self._data

    def make_task(self, config=None, dtype: torch.dtype = torch.float32,
                  device: torch.device | str = "cpu") -> DataTask:
        """Training task: :class:`MultiHeadMLP`, per-task MSE, the test split as evaluation."""
        o = self.options
        d = self.data()

        def tens(split: str) -> tuple[Tensor, Tensor]:
            X, Y = d[split]
            return (torch.as_tensor(X, dtype=dtype, device=device),
                    torch.as_tensor(Y, dtype=dtype, device=device))

        module = MultiHeadMLP(o["in_dim"], o["hidden"], o["n_tasks"], o["out_dim"])
        task = DataTask(
            module, tens("train"), tens("test"), _multitask_mse, o["n_tasks"],
            batch_size=int(_config_value(config, "batch_size", 256)),
            n_prefs=int(_config_value(config, "n_prefs", 8)),
            split_batch=bool(_config_value(config, "split_batch", True)),
            batched=_config_value(config, "batched", "auto"),
            eval_batch_size=_eval_batch(config, 1 << 16),
        )
        return task.to(device, dtype)


def _multitask_mse(out: Tensor, y: Tensor) -> Tensor:
    """`(K, b, T, o)` predictions and targets → `(K, T)` mean squared error per task."""
    return ((out - y) ** 2).mean(dim=(1, 3))


# ---------------------------------------------------------------------------- tabular
_TABULAR = ("breast_cancer", "wine", "digits")


def _load_sklearn(name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn import datasets
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        raise ImportError(
            "tabular_sparsity needs scikit-learn for its bundled data sets: "
            "pip install 'scikit-learn>=1.3'"
        ) from None
    loader = getattr(datasets, f"load_{name}")
    X, y = loader(return_X_y=True)
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


@register("tabular_sparsity", "MTL",
          "scikit-learn tabular classifier: cross-entropy vs first-layer L1 (breast cancer)")
class TabularSparsity(DataProblem):
    """Accuracy against sparsity of a small classifier on a scikit-learn bundled data set.

    Objectives (both minimised, both ≥ 0):

    1. ``ce``: the mean cross-entropy on the evaluation split (test by default);
    2. ``l1``: the mean absolute value of the first-layer weights ``W_1`` (`(hidden, d)`),
       times ``sqrt(d)``, i.e. in units of the bound ``1 / sqrt(d)`` of PyTorch's default
       initialisation (a freshly initialised layer scores 0.5). Small values mean a sparse,
       feature-selecting first layer (the L1 penalty of the lasso, Tibshirani 1996, turned into
       an objective of its own).

    The trade-off is genuine: the classifier needs some input weights to predict, and the L1
    objective is 0 only for a network that ignores every feature. Reference point:
    ``(ln C, 1)``: the cross-entropy of a uniform prediction over the ``C`` classes and twice the
    L1 of a fresh initialisation.

    Data: ``breast_cancer`` (569 × 30, 2 classes, Wolberg et al. 1995; default), ``wine``
    (178 × 13, 3 classes) or ``digits`` (1,797 × 64, 10 classes), split 60 / 20 / 20 into train /
    validation / test with a seeded permutation; features standardised with the training mean
    and standard deviation. Target: :class:`~hybridmoo.targets.MultiHeadMLP` with one head
    (``d → hidden → C``). ``wine`` has only 106 training examples: set ``train.batch_size`` to
    at most that.
    """

    has_validation_split = True  # 20 % of the examples

    def __init__(self, *, dataset: str = "breast_cancer", hidden: Sequence[int] = (16,),
                 seed: int = 0, eval_split: str = "test",
                 ref_point: Sequence[float] | None = None) -> None:
        _choice("tabular_sparsity.dataset", dataset, _TABULAR)
        _choice("tabular_sparsity.eval_split", eval_split, ("test", "val"))
        hidden = tuple(int(h) for h in hidden)
        if not hidden or min(hidden) < 1:
            raise ConfigError(f"tabular_sparsity.hidden = {hidden!r}: expected widths ≥ 1")
        n_classes = {"breast_cancer": 2, "wine": 3, "digits": 10}[dataset]
        self._n_classes = n_classes
        ref = (math.log(n_classes), 1.0) if ref_point is None else ref_point
        self._setup(
            name="tabular_sparsity", n_var=0, n_obj=2, lower=0.0, upper=1.0, ref_point=ref,
            ref_point_source="(ln C, 1): uniform-prediction cross-entropy and twice the L1 of "
            "PyTorch's default initialisation" if ref_point is None else "user-given",
            ideal=(0.0, 0.0), obj_names=("ce", "l1"),
            options={"dataset": dataset, "hidden": list(hidden), "seed": int(seed),
                     "eval_split": eval_split,
                     "ref_point": None if ref_point is None else [float(v) for v in ref_point]},
        )
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] | None = None

    def data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{"train" | "val" | "test": (X (N, d) standardised, y (N,))}``, cached."""
        if self._data is None:
            X, y = _load_sklearn(self.options["dataset"])
            perm = np.random.default_rng(self.options["seed"]).permutation(len(y))
            n_tr, n_va = int(0.6 * len(y)), int(0.2 * len(y))
            idx = {"train": perm[:n_tr], "val": perm[n_tr:n_tr + n_va],
                   "test": perm[n_tr + n_va:]}
            mu = X[idx["train"]].mean(0)
            sd = X[idx["train"]].std(0)
            sd[sd == 0] = 1.0
            self._data = {k: ((X[v] - mu) / sd, y[v]) for k, v in idx.items()}
        return self._data

    def make_task(self, config=None, dtype: torch.dtype = torch.float32,
                  device: torch.device | str = "cpu") -> ClassifierTask:
        """Training task: one-head :class:`MultiHeadMLP`, cross-entropy and the L1 penalty."""
        d = self.data()
        split = self.options["eval_split"]

        def tens(s: str) -> tuple[Tensor, Tensor]:
            X, y = d[s]
            return (torch.as_tensor(X, dtype=dtype, device=device),
                    torch.as_tensor(y, device=device).unsqueeze(1))

        in_dim = d["train"][0].shape[1]
        module = MultiHeadMLP(in_dim, self.options["hidden"], 1, self._n_classes)
        scale = math.sqrt(in_dim)

        def l1(params: dict[str, Tensor]) -> Tensor:
            w = params["trunk.0.weight"]  # (K, hidden, d)
            return w.abs().mean(dim=(1, 2)).unsqueeze(1) * scale

        task = ClassifierTask(
            module, tens("train"), tens(split), penalty=l1, n_penalty=1,
            task_names=("class",), eval_split=split, selection=_nonempty(tens("val")),
            batch_size=int(_config_value(config, "batch_size", 256)),
            n_prefs=int(_config_value(config, "n_prefs", 8)),
            split_batch=bool(_config_value(config, "split_batch", True)),
            batched=_config_value(config, "batched", "auto"),
            eval_batch_size=_eval_batch(config, 1 << 16),
        )
        return task.to(device, dtype)
