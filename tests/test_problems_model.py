"""from_model: a user's nn.Module, data and per-task losses as a data-driven problem."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

from hybridmoo.errors import ConfigError, ShapeError
from hybridmoo.problems import from_model
from hybridmoo.train import TrainConfig, Trainer, train

# two examples, two regression tasks: y1 = column 0 of Y, y2 = column 1
X2 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
Y2 = torch.tensor([[1.0, 2.0], [3.0, 4.0]])


def _col(i, per_example=True):
    def loss(o, y):
        e = (o[:, i] - y[:, i]) ** 2
        return e if per_example else e.mean()
    return loss


def _linear(weight, bias=0.0):
    m = nn.Linear(2, 2)
    with torch.no_grad():
        m.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        m.bias.fill_(bias)
    return m


@pytest.mark.parametrize("per_example", [True, False])
def test_linear_model_losses_by_hand(per_example):
    """Zero weights predict 0: MSEs (1+9)/2 = 5 and (4+16)/2 = 10; the identity predicts the
    input: (0+9)/2 = 4.5 and (4+9)/2 = 6.5. Per-example and mean losses agree."""
    p = from_model(_linear(np.zeros((2, 2))), (X2, Y2),
                   losses=[_col(0, per_example), _col(1, per_example)], batch_size=2,
                   reinit=False)
    assert p.eval_split == "train" and not p.has_validation_split
    assert p.ref_point.tolist() == pytest.approx([5.5, 11.0])  # initial losses + 10 %
    task = p.make_task(TrainConfig(n_prefs=2, n_eval=2), dtype=torch.float64)
    params = {"weight": torch.stack([torch.zeros(2, 2), torch.eye(2)]).double(),
              "bias": torch.zeros(2, 2, dtype=torch.float64)}
    np.testing.assert_allclose(task.eval_losses(params).numpy(), [[5.0, 10.0], [4.5, 6.5]])
    # training losses: K = 2 networks, each on its own 1 of the 2 examples
    L = task.train_losses(params, torch.Generator().manual_seed(0))
    assert L.shape == (2, 2) and torch.isfinite(L).all()


def test_tuple_heads_and_targets_and_datasets():
    """A module returning one output per head, one target per task, a Dataset split: loss i
    gets (output_i, target_i); cross-entropy by hand on a 2-class head."""
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 1)
            self.b = nn.Linear(2, 2)

        def forward(self, x):
            return self.a(x).squeeze(-1), self.b(x)

    net = TwoHeads()
    with torch.no_grad():
        for q in net.parameters():
            q.zero_()
    y1 = torch.tensor([1.0, -1.0])
    y2 = torch.tensor([0, 1])
    ds = TensorDataset(X2, y1, y2)  # items (x, y1, y2)
    p = from_model(net, ds, test=(X2, (y1, y2)),
                   losses=[lambda o, y: F.mse_loss(o, y), F.cross_entropy],
                   obj_names=["mse", "ce"], batch_size=2, reinit=False)
    assert p.eval_split == "test" and p.obj_names == ("mse", "ce")
    # zero weights: MSE = 1, cross-entropy of uniform logits over 2 classes = ln 2
    assert (p.ref_point.numpy() / 1.1).tolist() == pytest.approx([1.0, np.log(2)])
    assert p.use_vmap == [True, True] and p.module_vmap
    d = p.describe()
    assert d["kind"] == "data" and d["split_sizes"] == {"train": 2, "test": 2}
    assert d["n_target_params"] == 3 + 6 and d["options"] == {}


@pytest.mark.parametrize("kwargs, error, words", [
    ({"losses": [_col(0)]}, ConfigError, "at least 2"),
    ({"losses": _col(0)}, ConfigError, "list of callables"),
    ({"losses": [_col(0), _col(1), _col(0)], "train": (X2, (Y2, Y2))}, ShapeError,
     "2 targets for 3 losses"),
    ({"losses": [_col(0), lambda o, y: (o - y) ** 2]}, ShapeError,
     r"loss 2 \(loss_2\) returned shape \(2, 2\)"),
    ({"losses": [_col(0), lambda o, y: (o[:, 0] * float("nan")).mean()]}, ShapeError,
     "non-finite"),
    ({"losses": [_col(0), lambda o, y: torch.tensor(float(np.mean(o.detach().numpy())))]},
     ShapeError, "not differentiable"),
    ({"losses": [_col(0), lambda o, y: o[:, 5].mean()]}, ShapeError, "loss 2 .* failed"),
    ({"module": nn.Linear(3, 2)}, ShapeError, r"module failed on a batch of inputs of shape"),
    ({"module": nn.Flatten(0)}, ConfigError, "no parameters"),
    ({"train": (X2, Y2[:1])}, ShapeError, "same number of examples"),
    ({"test": (torch.ones(2, 3), Y2)}, ShapeError, "differ from the train split"),
    ({"eval_split": "val"}, ConfigError, "eval_split = 'val'"),
    ({"obj_names": ["a"]}, ConfigError, "1 obj_names for 2 losses"),
    ({"batch_size": 0}, ConfigError, "batch_size = 0"),
    ({"train": "data.csv"}, ConfigError, "expected a torch Dataset"),
])
def test_first_pass_errors_name_what_was_wrong(kwargs, error, words):
    args = {"module": nn.Linear(2, 2), "train": (X2, Y2), "losses": [_col(0), _col(1)],
            **kwargs}
    with pytest.raises(error, match=words):
        from_model(args.pop("module"), args.pop("train"), **args)


def test_module_with_the_wrong_number_of_heads():
    class Three(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)

        def forward(self, x):
            z = self.lin(x)
            return z, z, z

    with pytest.raises(ShapeError, match="returned 3 outputs for 2 losses"):
        from_model(Three(), (X2, Y2), losses=[_col(0), _col(1)])


def test_a_loss_vmap_cannot_run_falls_back_to_a_loop():
    """A loss with a data-dependent Python branch fails under vmap: it runs in a loop."""
    def branchy(o, y):
        e = ((o[:, 1] - y[:, 1]) ** 2).mean()
        return e * 2 if float(e.detach()) > 1e9 else e  # .item()-style control flow

    p = from_model(_linear(np.zeros((2, 2))), (X2, Y2), losses=[_col(0), branchy],
                   batch_size=2, reinit=False)
    assert p.use_vmap == [True, False]
    task = p.make_task(TrainConfig(n_prefs=2), dtype=torch.float64)
    params = {"weight": torch.zeros(2, 2, 2, dtype=torch.float64),
              "bias": torch.zeros(2, 2, dtype=torch.float64)}
    np.testing.assert_allclose(task.eval_losses(params).numpy(), [[5.0, 10.0], [5.0, 10.0]])


def _two_task_data(n=600, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 4, generator=g)
    y1 = X[:, 0] - 2 * X[:, 1]  # regression
    y2 = (X[:, 2] + X[:, 3] > 0).long()  # classification
    cut = (n * 3 // 5, n * 4 // 5)
    return [(X[a:b], (y1[a:b], y2[a:b])) for a, b in ((0, cut[0]), cut, (cut[1], n))]


class Trunk2(nn.Module):
    """Shared trunk, a regression head and a 2-class head."""

    def __init__(self, hidden=16):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(4, hidden), nn.Tanh())
        self.reg = nn.Linear(hidden, 1)
        self.cls = nn.Linear(hidden, 2)

    def forward(self, x):
        z = self.trunk(x)
        return self.reg(z).squeeze(-1), self.cls(z)


def _problem(**kw):
    tr, va, te = _two_task_data()
    return from_model(Trunk2(), tr, va, te, losses=[F.mse_loss, F.cross_entropy],
                      obj_names=["mse", "ce"], batch_size=40, **kw)


def test_training_reduces_both_losses_and_keeps_the_best_checkpoint():
    p = _problem()
    assert p.has_validation_split
    init = p.ref_point.numpy() / 1.1
    r = train(p, steps=150, n_prefs=8, n_eval=5, eval_every=25, lr=3e-3, threads=1, seed=0,
              checkpoint="best")
    assert r.ok, r.error
    assert r.F.shape == (5, 2)
    # every loss falls well below its initial value somewhere on the front
    assert (r.F.min(axis=0) < 0.5 * init).all(), (r.F, init)
    assert r.trace["hv"][-1] > r.trace["hv"][0]
    val, hv, steps = r.trace["val_hv"], r.trace["hv"], r.trace["steps"]
    j = int(np.argmax(val))
    assert r.hv == hv[j] and r.extra["checkpoint_step"] == steps[j]
    # the trade-off is steerable: the preference for task 1 fits task 1 better
    assert r.prefs[0].tolist() == [1.0, 0.0] and r.F[0, 0] < r.F[-1, 0]
    assert r.F[-1, 1] < r.F[0, 1]
    # network(): the generated module for a preference reproduces the front's objectives
    net = p.network(r, [1.0, 0.0])
    Xt, (y1, y2) = p.split("test")
    with torch.no_grad():
        o1, o2 = net(Xt)
    assert [F.mse_loss(o1, y1).item(), F.cross_entropy(o2, y2).item()] == \
        pytest.approx(r.F[0].tolist(), rel=1e-4)


def test_checkpoint_best_needs_val_and_batches_are_checked():
    tr, _, te = _two_task_data()
    p = from_model(Trunk2(), tr, test=te, losses=[F.mse_loss, F.cross_entropy], batch_size=40)
    with pytest.raises(ConfigError, match="no validation split"):
        Trainer(p, config={"steps": 5, "checkpoint": "best"})
    with pytest.raises(ConfigError, match="not divisible by n_prefs"):
        Trainer(p, config={"steps": 5, "n_prefs": 7})
    big = from_model(Trunk2(), tr, test=te, losses=[F.mse_loss, F.cross_entropy])
    with pytest.raises(ConfigError, match="batch_size = 4096 exceeds the 360 training"):
        Trainer(big, config={"steps": 5, "batch_size": 4096})


def test_seeds_reinitialise_the_module_and_repeat():
    """reinit: same seed, same run; another seed, another start (as for shipped problems)."""
    p = _problem()
    cfg = dict(steps=20, n_prefs=4, n_eval=3, eval_every=20, threads=1)
    a, b, c = (train(p, seed=s, **cfg) for s in (1, 1, 2))
    np.testing.assert_allclose(a.F, b.F)
    assert not np.allclose(a.F, c.F)


def test_chunked_head_generates_the_module():
    r = train(_problem(), steps=30, n_prefs=4, n_eval=3, eval_every=30, threads=1, seed=0,
              hypernet={"head": "chunked", "n_chunks": 4, "width": 16})
    assert r.ok and np.isfinite(r.F).all() and r.n_target_params == 4 * 16 + 16 + 17 + 34


def test_float64_and_shared_batches():
    r = train(_problem(), steps=10, n_prefs=4, n_eval=3, eval_every=10, threads=1,
              dtype="float64", split_batch=False)
    assert r.ok and np.isfinite(r.F).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_trains_on_cuda():
    """Data, targets (one per task) and the template move to the device with the task."""
    r = train(_problem(), steps=20, n_prefs=4, n_eval=3, eval_every=20, device="cuda",
              checkpoint="best")
    assert r.ok and np.isfinite(r.F).all() and r.device.startswith("cuda")


def test_targets_index_like_one_tensor():
    """Targets (one tensor per task) take the indexing code written for a single tensor."""
    from hybridmoo.problems.model import Targets

    y = Targets((torch.arange(6.0), torch.arange(12).reshape(6, 2)))
    idx = torch.tensor([[0, 1], [4, 5]])  # K = 2 networks, 2 examples each
    sub = y[idx]
    assert isinstance(sub, Targets) and sub[0].tolist() == [[0.0, 1.0], [4.0, 5.0]]
    assert sub[1].shape == (2, 2, 2) and y.shape == (6,)
    e = y[torch.tensor([2, 3])].unsqueeze(0).expand(3, 2)
    assert e[0].shape == (3, 2) and e[1].shape == (3, 2, 2) and e[1][2].tolist() == [[4, 5],
                                                                                      [6, 7]]


def test_dataset_items_with_a_tuple_of_targets():
    """Dataset items (x, (y1, y2)) read into X and two target tensors."""
    class Items(torch.utils.data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return X2[i], (Y2[i, 0], Y2[i, 1])

    def first(o, y):
        return (o[:, 0] - y) ** 2

    def second(o, y):
        return (o[:, 1] - y) ** 2

    p = from_model(_linear(np.zeros((2, 2))), Items(), losses=[first, second],
                   batch_size=2, reinit=False)
    X, (y1, y2) = p.split("train")
    assert X.tolist() == X2.tolist() and y1.tolist() == [1.0, 3.0] and y2.tolist() == [2.0, 4.0]
    assert (p.ref_point.numpy() / 1.1).tolist() == pytest.approx([5.0, 10.0])
    with pytest.raises(ConfigError, match="no 'val' split; given: train"):
        p.split("val")
