"""PyTorch's `torch.distributed` calling conventions: in-place collectives, torch names,
in-place collectives under @jit, DistributedDataParallel's keywords, and a PyTorch DDP
script that runs here with only its imports changed.

Like tests/test_distributed.py, the multi-rank tests start `mpiexec` on this very file
(`python tests/test_distributed_torch_style.py <scenario>`); each rank checks its own
results and prints "ok <scenario> rank <r>".
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

import eager
import eager.distributed as dist
from eager.distributed.launch import clean_environment, find_mpiexec, mpiexec_command

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The "Getting started with DDP" toy example, on the CPU, written against PyTorch. The
# test runs it with the imports swapped to eager (and, where torch is installed, as is).
TORCH_DDP_SCRIPT = '''
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.optim as optim
from torch.nn.parallel import DistributedDataParallel as DDP


class ToyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.net1 = nn.Linear(10, 10)
        self.relu = nn.ReLU()
        self.net2 = nn.Linear(10, 5)
        self.spare = nn.Linear(10, 5)       # not used by forward

    def forward(self, x):
        return self.net2(self.relu(self.net1(x)))


def main():
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(rank)                 # DDP starts every rank from rank 0's weights
    model = ToyModel()
    ddp_model = DDP(model, find_unused_parameters=True)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(ddp_model.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(100 + rank)
    for _ in range(3):
        optimizer.zero_grad()
        outputs = ddp_model(torch.randn(20, 10, generator=g))
        labels = torch.randn(20, 5, generator=g)
        loss = loss_fn(outputs, labels)
        loss.backward()
        optimizer.step()
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    gathered = [torch.zeros_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat)
    assert all(torch.allclose(gathered[0], t, rtol=0, atol=0) for t in gathered)
    t = torch.ones(3) * (rank + 1)
    assert dist.all_reduce(t, op=dist.ReduceOp.SUM) is None
    assert t.tolist() == [world * (world + 1) / 2] * 3
    loss = loss.detach()
    work = dist.all_reduce(loss, op=dist.ReduceOp.AVG, async_op=True)
    work.wait()
    dist.barrier()
    if rank == 0:
        print(f"mean loss {loss.item():.4f}")
    print(f"ok {sys.argv[1]} rank {rank}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''

# DDP(find_unused_parameters=True) with a parameter used by one rank and one used by
# none, over three steps; each rank prints its .grad values. Run on PyTorch (gloo) and
# here, the lines must be the same.
UNUSED_PARAMETERS_SCRIPT = '''
import json
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP


class ThreeParts(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.ones(2))
        self.b = nn.Parameter(torch.ones(2))
        self.c = nn.Parameter(torch.ones(2))

    def forward(self, x, use_b):
        y = (self.a * x).sum()
        return y + (self.b * x * 3).sum() if use_b else y


def main():
    os.environ.setdefault("RANK", os.environ.get("PMI_RANK", "0"))
    os.environ.setdefault("WORLD_SIZE", os.environ.get("PMI_SIZE", "1"))
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    model = DDP(ThreeParts(), find_unused_parameters=True)
    x = torch.ones(2) * (rank + 1)

    def report(step):
        grads = {name: None if p.grad is None else [round(v, 5) for v in p.grad.tolist()]
                 for name, p in model.module.named_parameters()}
        print(f"grads rank {rank} step {step} {json.dumps(grads, sort_keys=True)}",
              flush=True)

    model(x, rank == 0).backward()
    report(1)
    if rank == 0:
        model.module.c.grad = torch.ones(2) * 5
    model(x, False).backward()
    report(2)
    model.zero_grad()
    model(x, rank == world - 1).backward()
    report(3)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''

EAGER_IMPORTS = {
    "import torch\n": "import eager as torch\n",
    "import torch.distributed as dist\n": "import eager.distributed as dist\n",
    "import torch.nn as nn\n": "import eager.nn as nn\n",
    "import torch.optim as optim\n": "import eager.optim as optim\n",
    "from torch.nn.parallel import": "from eager.nn.parallel import",
}


def _mpi_missing() -> str | None:
    try:
        import mpi4py  # noqa: F401

        find_mpiexec()
    except Exception as exc:  # noqa: BLE001
        return f"MPI is not installed ({exc}); pip install -e .[mpi]"
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def _run(n: int, argv: list[str], timeout: float = 90) -> subprocess.CompletedProcess:
    env = dict(clean_environment(), EAGER_DEVICE="cpu")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(mpiexec_command(n, argv), capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT, check=False)


def _assert_ok(proc, n: int, scenario: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for r in range(n):
        assert f"ok {scenario} rank {r}" in proc.stdout, out


# ---- multi-rank tests -------------------------------------------------------------------
@needs_mpi
def test_in_place_collectives_match_numpy_and_replay_under_jit_on_three_ranks():
    proc = _run(3, [os.path.abspath(__file__), "inplace"])
    _assert_ok(proc, 3, "inplace")


@needs_mpi
def test_ddp_keywords_on_two_ranks():
    proc = _run(2, [os.path.abspath(__file__), "ddp_keywords"])
    _assert_ok(proc, 2, "ddp_keywords")


@needs_mpi
def test_a_pytorch_ddp_script_runs_with_only_its_imports_changed(tmp_path):
    source = TORCH_DDP_SCRIPT
    for theirs, ours in EAGER_IMPORTS.items():
        assert theirs in source
        source = source.replace(theirs, ours)
    assert not re.search(r"^(import|from) torch", source, re.MULTILINE)   # only ours left
    script = tmp_path / "ddp_script.py"
    script.write_text(source)
    proc = _run(2, [str(script), "torch_script"])
    _assert_ok(proc, 2, "torch_script")
    assert proc.stdout.count("mean loss") == 1


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_unused_parameters_give_the_gradients_torch_ddp_gives(tmp_path, n):
    pytest.importorskip("torch")
    theirs = tmp_path / "torch_unused.py"
    theirs.write_text(UNUSED_PARAMETERS_SCRIPT)
    ours = tmp_path / "eager_unused.py"
    source = UNUSED_PARAMETERS_SCRIPT
    for torch_import, eager_import in EAGER_IMPORTS.items():
        source = source.replace(torch_import, eager_import)
    ours.write_text(source)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(clean_environment(), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
               PYTHONPATH=os.environ.get("PYTHONPATH", ""))
    torch_run = subprocess.run(mpiexec_command(n, [str(theirs)]), capture_output=True,
                               text=True, timeout=120, env=env, check=False)
    assert torch_run.returncode == 0, torch_run.stdout + torch_run.stderr
    eager_run = _run(n, [str(ours)])
    assert eager_run.returncode == 0, eager_run.stdout + eager_run.stderr

    def lines(proc):
        # mpiexec may join lines of different ranks: find the reports, not the lines
        return sorted(re.findall(r"grads rank \d+ step \d \{[^}]*\}", proc.stdout))

    assert len(lines(torch_run)) == 3 * n
    assert lines(eager_run) == lines(torch_run)


def test_the_ddp_script_is_a_real_pytorch_script(tmp_path):
    """The same text runs on PyTorch itself (one gloo rank), so the swap test above
    really runs PyTorch code."""
    pytest.importorskip("torch")
    script = tmp_path / "ddp_script.py"
    script.write_text(TORCH_DDP_SCRIPT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(clean_environment(), RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(port), PYTHONPATH=os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(script), "torch"], capture_output=True,
                          text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0 and "ok torch rank 0" in proc.stdout, proc.stderr


# ---- one rank, in this process ----------------------------------------------------------
@needs_mpi
def test_torch_names_and_their_errors():
    from kernels.errors import ArgumentError, ShapeError

    dist.init_process_group("gloo")
    assert dist.is_initialized() and dist.is_available()
    assert (dist.get_rank(), dist.get_world_size()) == (dist.rank(), dist.world_size())
    assert (dist.ReduceOp.SUM, dist.ReduceOp.AVG) == ("sum", "mean")
    with pytest.raises(ArgumentError, match="backend must be one of .*got 'ucc'"):
        dist.init_process_group("ucc")
    with pytest.raises(dist.DistributedError, match="world_size=7 but mpiexec started"):
        dist.init_process_group("gloo", world_size=7)
    with pytest.raises(ArgumentError, match="all_reduce: only the default group"):
        dist.all_reduce(eager.ones(2), group="subgroup")
    with pytest.raises(ShapeError, match="tensor_list must hold world_size"):
        dist.all_gather([eager.zeros(3)] * dist.get_world_size(), eager.ones(2))
    with pytest.raises(ShapeError, match="output_tensor must have shape"):
        dist.all_gather_into_tensor(eager.zeros(5), eager.ones(2))


@needs_mpi
def test_in_place_all_reduce_writes_the_tensors_memory_and_bumps_its_version():
    from kernels.errors import AutogradError

    dist.init()
    x = eager.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    loss = (y * y).sum()                      # backward needs y as it is now
    before = y._data.ctypes.data
    with eager.no_grad():
        dist.all_reduce(y, op=dist.ReduceOp.MAX)
    assert y._data.ctypes.data == before      # reduced in place, no new buffer
    with pytest.raises(AutogradError, match="modified by an in-place operation"):
        loss.backward()
    with pytest.raises(AutogradError, match="leaf tensor .* in-place"):
        dist.all_reduce(x)


@needs_mpi
def test_ddp_refuses_device_ids_that_are_not_the_modules_device():
    from eager import nn
    from eager.nn.errors import ArgumentError
    from eager.nn.parallel import DistributedDataParallel

    dist.init()
    assert DistributedDataParallel(nn.Linear(2, 2), device_ids=None).static_graph is False
    with pytest.raises(ArgumentError, match="device_ids=\\[0\\].*on \\['cpu'\\]"):
        DistributedDataParallel(nn.Linear(2, 2), device_ids=[0])


# ---- the worker: what each rank runs -----------------------------------------------------
def _data(r: int, shape) -> np.ndarray:
    return np.random.default_rng(200 + r).standard_normal(shape).astype(np.float32)


def scenario_inplace() -> None:
    from jit import jit

    dist.init_process_group("gloo")
    r, n = dist.get_rank(), dist.get_world_size()
    every = np.stack([_data(k, (4, 6)) for k in range(n)])
    for op, expected in ((dist.ReduceOp.SUM, every.sum(0)), (dist.ReduceOp.AVG, every.mean(0)),
                         (dist.ReduceOp.MAX, every.max(0)), (dist.ReduceOp.MIN, every.min(0))):
        t = eager.tensor(_data(r, (4, 6)))
        assert dist.all_reduce(t, op=op) is None
        np.testing.assert_allclose(t.numpy(), expected, rtol=1e-5)
    t = eager.tensor(_data(r, (4, 6)))
    work = dist.all_reduce(t, async_op=True)
    assert work.wait() is True and work.is_completed()
    np.testing.assert_allclose(t.numpy(), every.sum(0), rtol=1e-5)

    # through views: a contiguous row block and a strided column slice write their base
    base = eager.tensor(_data(r, (4, 6)))
    dist.all_reduce(base[1:3])
    dist.all_reduce(base[:, ::2], op=dist.ReduceOp.MAX)
    after_rows = every.copy()                 # every rank's base after the first call
    after_rows[:, 1:3] = every[:, 1:3].sum(0)
    expected = after_rows[r].copy()
    expected[:, ::2] = after_rows[:, :, ::2].max(0)
    np.testing.assert_allclose(base.numpy(), expected, rtol=1e-5)

    t = eager.tensor(_data(r, (4, 6)))
    dist.broadcast(t, src=n - 1)
    np.testing.assert_array_equal(t.numpy(), every[n - 1])
    outs = [eager.zeros(4, 6) for _ in range(n)]
    dist.all_gather(outs, eager.tensor(_data(r, (4, 6))))
    for k in range(n):
        np.testing.assert_array_equal(outs[k].numpy(), every[k])
    cat, stacked = eager.zeros(4 * n, 6), eager.zeros(n, 4, 6)
    dist.all_gather_into_tensor(cat, eager.tensor(_data(r, (4, 6))))
    dist.all_gather_into_tensor(stacked, eager.tensor(_data(r, (4, 6))), async_op=True).wait()
    np.testing.assert_array_equal(cat.numpy(), every.reshape(4 * n, 6))
    np.testing.assert_array_equal(stacked.numpy(), every)
    rows = np.stack([_data(k, (2 * n, 3)) for k in range(n)])
    out = eager.zeros(2, 3)
    dist.reduce_scatter_tensor(out, eager.tensor(rows[r]), op=dist.ReduceOp.AVG)
    np.testing.assert_allclose(out.numpy(), rows.mean(0)[2 * r:2 * r + 2], rtol=1e-5)

    # an in-place all_reduce(sum) inside autograd: the gradient is summed over ranks too
    x = eager.tensor(_data(r, (3,)), requires_grad=True)
    y = x * 2.0
    dist.all_reduce(y)
    xs = np.stack([_data(k, (3,)) for k in range(n)])
    np.testing.assert_allclose(y.detach().numpy(), 2 * xs.sum(0), rtol=1e-5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 2.0 * n))

    # under @jit: the op and its write-back replay in order, on an argument, an
    # intermediate and a closure tensor, with the same effects as eager
    def make_step(state):
        def step(x):
            dist.broadcast(x, src=0)                        # writes the caller's x
            y = x * 2.0
            work = dist.all_reduce(y, async_op=True)
            work.wait()
            state.add_(y + float(r))
            dist.all_reduce(state, op=dist.ReduceOp.MAX)    # writes the closure tensor
            return y + 1.0
        return step

    eager_state, jit_state = eager.zeros(5), eager.zeros(5)
    eager_step, jit_step = make_step(eager_state), jit(make_step(jit_state))
    for i in range(4):
        xe, xj = (eager.tensor(_data(r + 10 * i, (5,))) for _ in range(2))
        ye, yj = eager_step(xe), jit_step(xj)
        np.testing.assert_allclose(yj.numpy(), ye.numpy(), rtol=1e-6)
        np.testing.assert_allclose(xj.numpy(), xe.numpy(), rtol=1e-6)
        np.testing.assert_array_equal(xe.numpy(), _data(10 * i, (5,)))
        np.testing.assert_allclose(jit_state.numpy(), eager_state.numpy(), rtol=1e-6)
    info = jit_step.cache_info()
    assert (info.hits, info.misses) == (3, 1), info
    graph = jit_step.graph_for(eager.zeros(5))
    names = [node.op.name for node in graph.nodes]
    assert (names.count("broadcast"), names.count("all_reduce")) == (1, 2), names
    print(f"ok inplace rank {r}", flush=True)


def _two_headed(seed: int):
    from eager import nn

    class TwoHeaded(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(4, 4)
            self.head_a = nn.Linear(4, 2)
            self.head_b = nn.Linear(4, 2)

        def forward(self, x, head):
            return (self.head_a if head == "a" else self.head_b)(self.body(x).tanh())

    eager.manual_seed(seed)
    return TwoHeaded()


def scenario_ddp_keywords() -> None:
    import eager.nn.functional as F
    from eager.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo")
    r, n = dist.get_rank(), dist.get_world_size()
    x = eager.tensor(_data(r, (3, 4)))
    y = eager.tensor([0, 1, 1])
    every = [eager.tensor(_data(k, (3, 4))) for k in range(n)]

    # without the flag: a named error once the exchange is done (peers do not hang)
    strict = DistributedDataParallel(_two_headed(0))
    try:
        F.cross_entropy(strict(x, "a"), y).backward()
    except dist.UnusedParametersError as exc:
        assert "head_b.weight, head_b.bias" in str(exc) and "find_unused_parameters" in str(exc)
    else:
        raise AssertionError("an unused parameter went unnoticed")
    dist.barrier()

    # with it: rank 0 uses head a, the others head b; each head's gradient is the mean
    # over all ranks of what the ranks that used it computed (zeros from the others)
    model = DistributedDataParallel(_two_headed(0), find_unused_parameters=True,
                                    broadcast_buffers=False, static_graph=True)
    head = "a" if r == 0 else "b"
    F.cross_entropy(model(x, head), y).backward()
    sums = {"a": 0, "b": 0}
    for k in range(n):
        alone = _two_headed(0)
        F.cross_entropy(alone(every[k], "a" if k == 0 else "b"), y).backward()
        used = "a" if k == 0 else "b"
        sums[used] = sums[used] + getattr(alone, f"head_{used}").weight.grad.numpy()
    for name, total in sums.items():
        np.testing.assert_allclose(getattr(model.module, f"head_{name}").weight.grad.numpy(),
                                   total / n, atol=1e-6)

    # gradient_as_bucket_view: .grad is a view of the bucket, rewritten by the next
    # backward; by default each .grad keeps memory of its own
    for as_view in (False, True):
        model = DistributedDataParallel(_two_headed(1), find_unused_parameters=True,
                                        gradient_as_bucket_view=as_view)
        F.cross_entropy(model(x, "a"), y).backward()
        first = model.module.body.weight.grad
        kept = first.numpy().copy()
        model.module.zero_grad()
        F.cross_entropy(model(x * 2.0, "a"), y).backward()
        assert (not np.array_equal(first.numpy(), kept)) == as_view, as_view
    print(f"ok ddp_keywords rank {r}", flush=True)


if __name__ == "__main__":
    globals()[f"scenario_{sys.argv[1]}"]()
