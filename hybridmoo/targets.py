"""Target networks: ordinary ``nn.Module`` templates whose weights a hypernetwork generates.

Any ``nn.Module`` can be a target: the hypernetwork generates one tensor per entry of
``module.named_parameters()`` and the module runs on them through
``torch.func.functional_call``. Buffers (e.g. batch-norm statistics) are taken from the template.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["MLP", "MultiLeNet", "MultiHeadMLP"]


class MLP(nn.Module):
    """A plain multi-layer perceptron ``in_dim → hidden… → out_dim`` with ReLU.

    Args:
        in_dim: input features. hidden: widths of the hidden layers. out_dim: outputs.

    Shapes: input `(B, in_dim)` → output `(B, out_dim)`.
    """

    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int) -> None:
        super().__init__()
        dims = [in_dim, *hidden, out_dim]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """`(B, in_dim)` → `(B, out_dim)`."""
        return self.net(x)


class MultiHeadMLP(nn.Module):
    """Shared MLP trunk with one linear head per task; returns `(B, n_tasks, out_dim)`.

    Args:
        in_dim: input features. hidden: trunk widths. n_tasks: number of heads.
        out_dim: outputs per head.
    """

    def __init__(self, in_dim: int, hidden: Sequence[int], n_tasks: int, out_dim: int = 1) -> None:
        super().__init__()
        dims = [in_dim, *hidden]
        trunk: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            trunk += [nn.Linear(a, b), nn.ReLU()]
        self.trunk = nn.Sequential(*trunk)
        self.heads = nn.ModuleList(nn.Linear(dims[-1], out_dim) for _ in range(n_tasks))

    def forward(self, x: Tensor) -> Tensor:
        """`(B, in_dim)` → `(B, n_tasks, out_dim)`."""
        h = self.trunk(x)
        return torch.stack([head(h) for head in self.heads], dim=1)


class MultiLeNet(nn.Module):
    """The LeNet-style multi-task network of Pareto MTL and Pareto HyperNetworks (Multi-MNIST).

    Two convolutions (1→10 channels, 9×9; 10→20, 5×5) each followed by ReLU and 2×2 max-pooling,
    a shared fully connected layer (500 → 50) and one 10-class linear head per task: 31,910
    parameters for two tasks. Layout as in Navon et al., "Learning the Pareto Front with
    Hypernetworks", ICLR 2021 (github.com/AvivNavon/pareto-hypernetworks, multimnist target net)
    and Lin et al., "Pareto Multi-Task Learning", NeurIPS 2019.

    Args:
        n_tasks: number of heads (2 for Multi-MNIST). n_classes: classes per task.
        in_channels: image channels. image_size: side of the square input (36 for Multi-MNIST).

    Shapes: input `(B, in_channels, image_size, image_size)` → logits `(B, n_tasks, n_classes)`.
    """

    def __init__(
        self, n_tasks: int = 2, n_classes: int = 10, in_channels: int = 1, image_size: int = 36
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 10, kernel_size=9)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        side = ((image_size - 8) // 2 - 4) // 2
        self.fc = nn.Linear(20 * side * side, 50)
        self.heads = nn.ModuleList(nn.Linear(50, n_classes) for _ in range(n_tasks))

    def forward(self, x: Tensor) -> Tensor:
        """`(B, C, H, W)` → `(B, n_tasks, n_classes)`."""
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc(x.flatten(1)))
        return torch.stack([head(x) for head in self.heads], dim=1)
