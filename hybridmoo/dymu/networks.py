"""DYMU networks: the anchor net of single-task streams, the edge and weight hypernetworks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hybridmoo.errors import ConfigError, ShapeError


# ---------------------------------------------------------------------------- networks
class _ModBN(nn.Module):
    """Batch norm whose affine parameters can be offset per example: ``(γ + Δγ)x̂ + (β + Δβ)``.

    Without offsets it is a plain batch norm (batch statistics in training mode, running
    statistics in eval mode); with offsets it always normalises with the running statistics.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(channels)  # works on (B, C) and (B, C, L); 4-d reshaped

    def forward(self, x: Tensor, delta: tuple[Tensor, Tensor] | None = None) -> Tensor:
        shape = x.shape
        flat = x.flatten(2) if x.dim() > 2 else x
        if delta is None:
            return self.bn(flat).view(shape)
        bn = self.bn
        xh = F.batch_norm(flat, bn.running_mean, bn.running_var, None, None, False, 0.0,
                          bn.eps)
        dg, db = delta  # (B, C) each
        view = (shape[0], shape[1]) + (1,) * (flat.dim() - 2)
        out = xh * (bn.weight + dg).view(view) + (bn.bias + db).view(view)
        return out.view(shape)


class _Block(nn.Module):
    """conv 3×3 → BN → ReLU → max-pool 2×2 (images) or linear → BN → ReLU (vectors)."""

    def __init__(self, in_ch: int, out_ch: int, image: bool) -> None:
        super().__init__()
        self.image = image
        self.op = nn.Conv2d(in_ch, out_ch, 3, padding=1) if image else nn.Linear(in_ch, out_ch)
        self.norm = _ModBN(out_ch)

    def forward(self, x: Tensor, delta: tuple[Tensor, Tensor] | None = None) -> Tensor:
        y = torch.relu(self.norm(self.op(x), delta))
        return F.max_pool2d(y, 2) if self.image else y


class _Head(nn.Module):
    """flatten → linear → BN → ReLU → linear: one task's output layer."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, hidden)
        self.norm = _ModBN(hidden)
        self.out = nn.Linear(hidden, out_dim)

    def forward(self, x: Tensor, delta: tuple[Tensor, Tensor] | None = None) -> Tensor:
        return self.out(torch.relu(self.norm(self.fc(x.flatten(1)), delta)))


class AnchorNet(nn.Module):
    """The anchor net F: N single-task streams of L blocks and a head each.

    Args:
        n_tasks: N. input_shape: one example's shape, `(C, H, W)` or `(d,)`.
        widths: per-block widths (L = ``len(widths)``). head_hidden: head hidden units.
        out_dim: outputs per task. input_pool: average-pooling factor applied to images first.

    Shapes: :meth:`forward` maps `(B, *input_shape)` and a per-example tree to
    `(B, N, out_dim)`; :meth:`forward_stream` runs one stream alone.
    """

    def __init__(self, n_tasks: int, input_shape: Sequence[int], widths: Sequence[int],
                 head_hidden: int, out_dim: int, input_pool: int = 1) -> None:
        super().__init__()
        self.n_tasks = int(n_tasks)
        self.input_shape = tuple(int(s) for s in input_shape)
        self.widths = tuple(int(w) for w in widths)
        self.n_layers = len(self.widths)
        image = len(self.input_shape) == 3
        if not image and len(self.input_shape) != 1:
            raise ShapeError(f"input_shape must be (C, H, W) or (d,), got {self.input_shape}")
        self.input_pool = int(input_pool) if image else 1
        if image:
            side_h, side_w = (s // self.input_pool for s in self.input_shape[1:])
            for _ in self.widths:
                side_h, side_w = side_h // 2, side_w // 2
            if side_h < 1 or side_w < 1:
                raise ConfigError(f"{len(self.widths)} pooled blocks shrink a "
                                  f"{self.input_shape[1:]} image to nothing; use fewer blocks")
            head_in = self.widths[-1] * side_h * side_w
        else:
            head_in = self.widths[-1]
        dims = [self.input_shape[0], *self.widths]
        self.streams = nn.ModuleList()
        for _ in range(self.n_tasks):
            s = nn.Module()
            s.blocks = nn.ModuleList(_Block(a, b, image) for a, b in zip(dims[:-1], dims[1:],
                                                                          strict=True))
            s.head = _Head(head_in, head_hidden, out_dim)
            self.streams.append(s)
        # BN layout: block (l, j) for l < L, then head j; offsets [Δγ | Δβ] per layer
        self._bn: list[tuple[int, int, int]] = [(lay, j, self.widths[lay])
                                                for lay in range(self.n_layers)
                                                for j in range(self.n_tasks)]
        self._bn += [(self.n_layers, j, head_hidden) for j in range(self.n_tasks)]

    @property
    def n_deltas(self) -> int:
        """Length of the offset vector: 2 × all batch-norm channels (Δγ and Δβ)."""
        return 2 * sum(ch for _, _, ch in self._bn)

    def split_deltas(self, deltas: Tensor) -> dict[tuple[int, int], tuple[Tensor, Tensor]]:
        """`(B, n_deltas)` → ``{(layer, node): (Δγ (B, C), Δβ (B, C))}`` (layer L: heads)."""
        if deltas.dim() != 2 or deltas.shape[1] != self.n_deltas:
            raise ShapeError(f"deltas must be (B, {self.n_deltas}), got {tuple(deltas.shape)}")
        out, o = {}, 0
        for lay, j, ch in self._bn:
            out[(lay, j)] = (deltas[:, o:o + ch], deltas[:, o + ch:o + 2 * ch])
            o += 2 * ch
        return out

    def node_params(self) -> Tensor:
        """`(L + 1, N)` int64 parameter counts of the nodes (row L: the heads)."""
        rows = [[sum(p.numel() for p in s.blocks[lay].parameters()) for s in self.streams]
                for lay in range(self.n_layers)]
        rows.append([sum(p.numel() for p in s.head.parameters()) for s in self.streams])
        return torch.tensor(rows, dtype=torch.int64)

    @torch.no_grad()
    def node_flops(self) -> Tensor:
        """`(L + 1, N)` int64 FLOPs per example of the nodes (row L: the heads).

        Counted by ``torch.utils.flop_counter.FlopCounterMode`` on one example: the
        convolutions and matrix products (a multiply-add is 2 FLOPs); batch norms, ReLUs,
        pooling and the routing between streams are not counted.
        """
        from torch.utils.flop_counter import FlopCounterMode

        was = self.training
        self.eval()
        try:
            x = self._stem(torch.zeros((1, *self.input_shape)))
            rows = []
            for lay in range(self.n_layers + 1):
                row, y = [], None
                for s in self.streams:
                    node = s.blocks[lay] if lay < self.n_layers else s.head
                    with FlopCounterMode(display=False) as counter:
                        y = node(x)
                    row.append(int(counter.get_total_flops()))
                rows.append(row)
                x = y
        finally:
            self.train(was)
        return torch.tensor(rows, dtype=torch.int64)

    def _stem(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(x, self.input_pool) if self.input_pool > 1 else x

    def forward_stream(self, i: int, x: Tensor, features: bool = False):
        """Stream i alone on `(B, ...)`: its task output `(B, out_dim)` (and block outputs)."""
        s = self.streams[i]
        x = self._stem(x)
        feats = []
        for block in s.blocks:
            x = block(x)
            feats.append(x)
        out = s.head(x)
        return (out, feats) if features else out

    def forward(self, x: Tensor, mix: Tensor, deltas: Tensor | None = None) -> Tensor:
        """Run the tree(s) ``mix`` on ``x``.

        Args:
            x: `(B, *input_shape)`.
            mix: `(B, L, N, N)` per-example parent weights (one-hot rows for a hard tree,
                Gumbel-softmax samples in stage 1): the input of node ``(l + 1, j)`` is
                ``Σ_i mix[b, l, j, i]·y_i^l``.
            deltas: `(B, n_deltas)` batch-norm offsets, or ``None`` (plain anchor batch norms).

        Returns:
            `(B, N, out_dim)` task outputs.
        """
        B, N, L = x.shape[0], self.n_tasks, self.n_layers
        if mix.shape != (B, L, N, N):
            raise ShapeError(f"mix must be ({B}, {L}, {N}, {N}), got {tuple(mix.shape)}")
        d = None if deltas is None else self.split_deltas(deltas)
        x = self._stem(x)
        need = self._needed(mix)

        def delta(lay: int, j: int):
            return None if d is None else d[(lay, j)]

        def layer(lay: int, inputs) -> list[Tensor]:
            ys: list[Tensor | None] = [s.blocks[lay](inputs(j), delta(lay, j)) if need[lay][j]
                                       else None for j, s in enumerate(self.streams)]
            done = next(y for y in ys if y is not None)
            return [torch.zeros_like(done) if y is None else y for y in ys]

        ys = layer(0, lambda j: x)
        for lay in range(1, L + 1):
            Y = torch.stack(ys, dim=1)  # (B, N, ...)
            X = torch.einsum("bji,bi...->bj...", mix[:, lay - 1].to(Y.dtype), Y)
            if lay < L:
                ys = layer(lay, lambda j, X=X: X[:, j])
            else:
                outs = [s.head(X[:, j], delta(L, j)) for j, s in enumerate(self.streams)]
        return torch.stack(outs, dim=1)

    def _needed(self, mix: Tensor) -> list[list[bool]]:
        """Which blocks any example's tree reads: ``need[l][i]`` for l < L.

        Without a gradient through ``mix`` a block no child reads is skipped (its output would
        be multiplied by 0): a frugal tree then costs fewer FLOPs to run. With one (stage 1's
        straight-through samples) every block runs, since ∂loss/∂mix needs every output.
        """
        L, N = self.n_layers, self.n_tasks
        if mix.requires_grad:
            return [[True] * N for _ in range(L)]
        reads = (mix != 0).any(dim=0).tolist()  # (L, N, N): child j reads parent i
        need = [[True] * N]  # the heads
        for lay in range(L - 1, -1, -1):
            child = need[0]
            need.insert(0, [any(child[j] and reads[lay][j][i] for j in range(N))
                            for i in range(N)])
        return need[:L]


class _Embed(nn.Module):
    """Preference embedding ``Σ_i r_i e_i + c·e_c`` followed by an MLP with ReLU."""

    def __init__(self, n_tasks: int, embed_dim: int, width: int, depth: int) -> None:
        super().__init__()
        self.embed = nn.Linear(n_tasks + 1, embed_dim, bias=False)  # columns: e_1 … e_N, e_c
        layers: list[nn.Module] = []
        a = embed_dim
        for _ in range(depth):
            layers += [nn.Linear(a, width), nn.ReLU()]
            a = width
        self.mlp = nn.Sequential(*layers)
        self.out_dim = a

    def forward(self, r: Tensor, c: Tensor) -> Tensor:
        return self.mlp(self.embed(torch.cat([r, c.unsqueeze(-1)], dim=-1)))


class EdgeHypernet(nn.Module):
    """Edge hypernet h(r, c): embedding, MLP, L linear heads of N×N parent logits.

    Args:
        n_tasks: N. n_layers: L (choice layers). embed_dim, width, depth: embedding size and
            MLP shape (paper: 32, 100, 2).

    Shapes: ``r`` `(K, N)`, ``c`` `(K,)` → logits `(K, L, N, N)` (row j: node ``(l + 1, j)``).
    """

    def __init__(self, n_tasks: int, n_layers: int, embed_dim: int = 32, width: int = 100,
                 depth: int = 2) -> None:
        super().__init__()
        self.n_tasks, self.n_layers = n_tasks, n_layers
        self.body = _Embed(n_tasks, embed_dim, width, depth)
        self.heads = nn.ModuleList(nn.Linear(self.body.out_dim, n_tasks * n_tasks)
                                   for _ in range(n_layers))

    def forward(self, r: Tensor, c: Tensor) -> Tensor:
        h = self.body(r, c)
        N = self.n_tasks
        return torch.stack([head(h).view(-1, N, N) for head in self.heads], dim=1)


class WeightHypernet(nn.Module):
    """Weight hypernet h̄(r, c): embedding, MLP, one linear layer to all Δγ, Δβ.

    The output layer starts at zero, so training starts from the anchor's batch norms.

    Args:
        n_tasks: N. n_deltas: offsets to predict. embed_dim, width, depth: as for
            :class:`EdgeHypernet` (paper: 32, 100, 3).

    Shapes: ``r`` `(K, N)`, ``c`` `(K,)` → `(K, n_deltas)`.
    """

    def __init__(self, n_tasks: int, n_deltas: int, embed_dim: int = 32, width: int = 100,
                 depth: int = 3) -> None:
        super().__init__()
        self.body = _Embed(n_tasks, embed_dim, width, depth)
        self.out = nn.Linear(self.body.out_dim, n_deltas)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, r: Tensor, c: Tensor) -> Tensor:
        return self.out(self.body(r, c))


class SharedTree(nn.Module):
    """The fixed tree of ``tree = "shared"``: logits that make every node read stream 0.

    Shapes: ``r`` `(K, N)`, ``c`` `(K,)` → logits `(K, L, N, N)` (inputs ignored).
    """

    def __init__(self, n_tasks: int, n_layers: int) -> None:
        super().__init__()
        logits = torch.zeros(n_layers, n_tasks, n_tasks)
        logits[..., 0] = 1.0
        self.register_buffer("logits", logits)

    def forward(self, r: Tensor, c: Tensor) -> Tensor:
        return self.logits.expand(r.shape[0], -1, -1, -1)
