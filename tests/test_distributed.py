"""eager.distributed and DistributedDataParallel, on 2 and 3 MPI ranks of this machine.

The multi-rank tests start `mpiexec` themselves, running this very file as the worker
(`python tests/test_distributed.py <scenario>`); each rank checks its own results and
prints one "ok <scenario> rank <r>" line. The in-process tests use a world of one rank.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from eager.distributed import functional as fc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _mpi_available() -> str | None:
    try:
        import mpi4py  # noqa: F401

        from eager.distributed.launch import find_mpiexec

        find_mpiexec()
    except Exception as exc:  # noqa: BLE001
        return f"MPI is not installed ({exc}); pip install -e .[mpi]"
    return None


needs_mpi = pytest.mark.skipif(_mpi_available() is not None,
                               reason=str(_mpi_available()))


def launch(n: int, scenario: str, *, timeout: float = 60, keep_going: bool = False):
    from eager.distributed.launch import clean_environment, mpiexec_command

    env = clean_environment()
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["EAGER_DEVICE"] = "cpu"
    cmd = mpiexec_command(n, [os.path.abspath(__file__), scenario], keep_going=keep_going)
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=ROOT, check=False)
    return proc, time.monotonic() - start


def assert_all_ranks_ok(proc, n: int, scenario: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for r in range(n):
        assert f"ok {scenario} rank {r}" in proc.stdout, out


# ---- multi-rank tests -------------------------------------------------------------------
@needs_mpi
def test_collectives_match_numpy_on_three_ranks():
    proc, _ = launch(3, "collectives")
    assert_all_ranks_ok(proc, 3, "collectives")


@needs_mpi
def test_ddp_keeps_ranks_identical_and_equals_single_process_training():
    proc, _ = launch(2, "ddp")
    assert_all_ranks_ok(proc, 2, "ddp")


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_unused_parameters_follow_torch_ddp(n):
    # What torch 2.13 DDP(find_unused_parameters=True) over gloo gives for the same
    # model and steps (run under mpiexec with 2 and 3 processes).
    proc, _ = launch(n, "unused")
    assert_all_ranks_ok(proc, n, "unused")


@needs_mpi
def test_a_rank_that_dies_makes_the_others_fail_within_the_timeout():
    proc, seconds = launch(2, "dead_peer", keep_going=True, timeout=50)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "CollectiveTimeoutError" in out and "did not complete within 2 s" in out, out
    assert "all_reduce" in out
    assert seconds < 40


@needs_mpi
def test_demo_on_two_ranks_reaches_the_one_process_accuracy(tmp_path, capsys):
    import re

    from eager.distributed.launch import clean_environment, mpiexec_command
    from jit import demo

    flags = ["--epochs", "2", "--quiet", "--no-jit", "--seed", "3"]
    env = dict(clean_environment(), PYTHONPATH=ROOT, EAGER_DEVICE="cpu")
    cmd = mpiexec_command(2, ["-m", "jit.demo", "--distributed", "--out",
                              str(tmp_path / "two"), *flags])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env,
                          cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("digits: ") == 1               # rank 0 alone prints
    assert "data-parallel over 2 ranks" in proc.stdout
    two = float(re.search(r"eager: .* test accuracy ([0-9.]+)%", proc.stdout).group(1))
    one = demo.main(["--out", str(tmp_path / "one"), *flags])["eager"].accuracy * 100
    assert abs(one - two) <= 100 / 359 + 1e-9, (one, two)   # at most one test image apart
    assert os.path.exists(tmp_path / "two" / "digits_mlp.eager")


def _gpus() -> int:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001
        return 0


@pytest.mark.gpu
@needs_mpi
def test_nccl_collectives_and_ddp_on_gpu_tensors():
    proc, _ = launch(1, "nccl", timeout=180)
    assert_all_ranks_ok(proc, 1, "nccl")


@pytest.mark.gpu
@needs_mpi
@pytest.mark.skipif(_gpus() < 2, reason="NCCL needs one GPU per rank: two ranks need two GPUs")
def test_nccl_collectives_and_ddp_on_two_gpus():
    proc, _ = launch(2, "nccl", timeout=180)
    assert_all_ranks_ok(proc, 2, "nccl")


# ---- one rank, in this process ----------------------------------------------------------
def test_missing_mpi_names_the_extra_to_install(monkeypatch):
    import eager.distributed as dist

    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setattr(dist.state, "_state", dict(dist.state._state, host=None))
    with pytest.raises(dist.BackendUnavailableError, match=r"pip install eager-jit\[mpi\]"):
        dist.init("mpi")


def test_collectives_before_init_and_bad_arguments_raise_named_errors(monkeypatch):
    import eager
    import eager.distributed as dist
    from kernels.errors import ArgumentError

    monkeypatch.setattr(dist.state, "_state", dict(dist.state._state, host=None))
    with pytest.raises(dist.NotInitializedError, match="init"):
        fc.all_reduce(eager.ones(2))
    with pytest.raises(ArgumentError, match="backend must be one of"):
        dist.init("gloo")


@needs_mpi
def test_bad_ops_and_dtypes_are_refused_before_any_exchange():
    import eager
    import eager.distributed as dist
    from kernels.errors import ArgumentError, DTypeError, ShapeError

    dist.init("mpi")
    with pytest.raises(DTypeError, match="op must be one of sum, mean, max, min, got 'prod'"):
        fc.all_reduce(eager.ones(2), op="prod")
    with pytest.raises(DTypeError, match="op='mean' needs a floating tensor, got int64"):
        fc.all_reduce(eager.tensor([1, 2]), op="mean")
    with pytest.raises(ShapeError, match="divisible by the world size"):
        fc.reduce_scatter(eager.ones(dist.world_size() + 1) if dist.world_size() > 1
                            else eager.ones(()))
    with pytest.raises(ArgumentError, match="all_reduce: tensor must be a Tensor"):
        fc.all_reduce([1.0, 2.0])


@needs_mpi
def test_one_rank_ddp_gives_the_plain_gradients():
    import eager
    import eager.distributed as dist
    import eager.nn.functional as F
    from eager.nn.parallel import DistributedDataParallel

    dist.init("mpi")
    x, y = eager.tensor(_rank_data(0, (5, 8))), eager.tensor([0, 1, 2, 0, 1])
    plain = _mlp(seed=4)
    F.cross_entropy(plain(x), y).backward()
    model = DistributedDataParallel(_mlp(seed=4), bucket_cap_mb=0.001)
    F.cross_entropy(model(x), y).backward()
    for p, q in zip(model.parameters(), plain.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6)


def test_grad_ready_hook_fires_once_with_the_final_gradient():
    import eager
    from eager.autograd.engine import register_backward_end_hook, register_grad_ready_hook

    w = eager.tensor([1.0, 2.0], requires_grad=True)
    b = eager.tensor([0.5, 0.5], requires_grad=True)
    events = []
    handles = [register_grad_ready_hook(t, lambda t, name=name: events.append(
        (name, t.grad.tolist()))) for t, name in ((w, "w"), (b, "b"))]
    handles.append(register_backward_end_hook(lambda: events.append(("end", None))))
    ((w * w).sum() + (w * b).sum() + w.exp().sum()).backward()   # w feeds three nodes
    for h in handles:
        h.remove()
    assert [e[0] for e in events].count("w") == 1 and events[-1] == ("end", None)
    np.testing.assert_allclose(dict(events[:-1])["w"], 2 * w.detach().numpy() + 0.5 + np.exp(
        w.detach().numpy()), rtol=1e-6)
    (w * 2).sum().backward()
    assert len(events) == 3                                         # removed: no more calls


def test_buckets_follow_the_cap_and_keep_dtypes_apart():
    import eager
    from eager.distributed.buckets import plan_buckets

    ps = [eager.zeros(100), eager.zeros(100), eager.zeros(300), eager.zeros(10),
          eager.zeros(10, dtype=eager.float64)]
    assert [len(b.params) for b in plan_buckets(ps, cap_bytes=800)] == [2, 1, 1, 1]
    assert [len(b.params) for b in plan_buckets(ps, cap_bytes=1 << 20)] == [4, 1]


def test_sampler_shards_are_disjoint_cover_the_data_and_reshuffle_per_epoch():
    from eager.distributed import DistributedSampler

    def shards(epoch, **kw):
        out = []
        for r in range(3):
            s = DistributedSampler(11, num_replicas=3, rank=r, seed=5, **kw)
            s.set_epoch(epoch)
            out.append(list(s))
        return out

    first = shards(0, drop_last=True)
    assert all(len(s) == 3 for s in first)
    assert len({i for s in first for i in s}) == 9
    assert {i for s in shards(0) for i in s} == set(range(11))
    assert all(len(s) == 4 for s in shards(0))
    assert shards(0) == shards(0) and shards(0) != shards(1)
    assert list(DistributedSampler(4, 2, 1, shuffle=False)) == [1, 3]


# ---- the worker: what each rank runs -----------------------------------------------------
def _rank_data(r: int, shape, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(100 + r).standard_normal(shape).astype(dtype)


def scenario_collectives() -> None:
    import eager
    import eager.distributed as dist

    dist.init()
    r, n = dist.rank(), dist.world_size()
    mine = _rank_data(r, (6, 4))
    every = np.stack([_rank_data(k, (6, 4)) for k in range(n)])
    t = eager.tensor(mine)
    np.testing.assert_allclose(fc.all_reduce(t).numpy(), every.sum(0), rtol=1e-6)
    np.testing.assert_allclose(fc.all_reduce(t, "mean").numpy(), every.mean(0), rtol=1e-5)
    np.testing.assert_array_equal(fc.all_reduce(t, "max").numpy(), every.max(0))
    np.testing.assert_array_equal(fc.all_reduce(t, "min").numpy(), every.min(0))
    ints = eager.tensor(np.arange(5) * (r + 1))
    assert fc.all_reduce(ints).tolist() == (np.arange(5) * sum(range(1, n + 1))).tolist()
    np.testing.assert_array_equal(fc.broadcast(t, src=n - 1).numpy(), every[n - 1])
    np.testing.assert_array_equal(fc.all_gather(t).numpy(), every.reshape(n * 6, 4))
    rows = eager.tensor(_rank_data(r, (3 * n, 2)))
    summed = np.stack([_rank_data(k, (3 * n, 2)) for k in range(n)]).sum(0)
    np.testing.assert_allclose(fc.reduce_scatter(rows).numpy(),
                               summed[3 * r:3 * r + 3], rtol=1e-5)
    work = fc.all_reduce(t, async_op=True)
    np.testing.assert_allclose(work.wait().numpy(), every.sum(0), rtol=1e-6)
    assert work.is_completed()
    dist.barrier()

    # the gradient of an all_reduce(sum) is the all_reduce(sum) of the gradients
    x = eager.tensor(mine, requires_grad=True)
    (fc.all_reduce(x) * float(r + 1)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((6, 4), sum(range(1, n + 1))))

    # a finished async mean, polled with is_completed before wait, is still divided
    work = fc.all_reduce(eager.tensor(mine * 0 + float(n)), "mean", async_op=True)
    while not work.is_completed():
        pass
    np.testing.assert_allclose(work.wait().numpy(), np.full((6, 4), float(n)))

    # ranks that disagree all get the same named error instead of a hang, also when
    # every rank has already used both layouts (the check is cached, never skipped)
    for k in range(n):
        fc.all_reduce(eager.ones(2 + k))
    try:
        fc.all_reduce(eager.ones(2 + r))
    except dist.CollectiveMismatchError as exc:
        assert "rank 0: all_reduce(float32[2], sum)" in str(exc)
        assert f"rank {n - 1}: all_reduce(float32[{n + 1}], sum)" in str(exc)
    else:
        raise AssertionError("mismatched shapes were not detected")
    try:
        fc.all_reduce(eager.ones(2, dtype=eager.float64 if r == 0 else eager.float32))
    except dist.CollectiveMismatchError as exc:
        assert "float64" in str(exc) and "float32" in str(exc)
    else:
        raise AssertionError("mismatched dtypes were not detected")
    print(f"ok collectives rank {r}", flush=True)


def _mlp(seed: int):
    import eager
    from eager import nn

    eager.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 32), nn.Tanh(), nn.Linear(32, 16), nn.Tanh(),
                         nn.Linear(16, 3))


def _batches(steps: int, per_rank: int, n: int):
    rng = np.random.default_rng(7)
    for _ in range(steps):
        yield (rng.standard_normal((per_rank * n, 8)).astype(np.float32),
               rng.integers(0, 3, per_rank * n))


def _train(model, batches, shard, step_fn=None):
    import eager
    import eager.nn.functional as F

    opt = eager.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    run = step_fn(step) if step_fn else step
    for xb, yb in batches:
        xs, ys = shard(xb, yb)
        run(eager.tensor(xs), eager.tensor(ys))
    return run


def scenario_ddp() -> None:
    import eager
    import eager.distributed as dist
    from eager.nn.parallel import DistributedDataParallel
    from jit import jit

    dist.init()
    r, n = dist.rank(), dist.world_size()
    steps, per_rank = 5, 6
    mine = lambda x, y: (x[r * per_rank:(r + 1) * per_rank], y[r * per_rank:(r + 1) * per_rank])

    # every rank starts from rank 0's weights although each seeded its own
    model = DistributedDataParallel(_mlp(seed=r), bucket_cap_mb=0.002)
    assert len(model.bucket_sizes) >= 3, model.bucket_sizes
    _train(model, _batches(steps, per_rank, n), mine)
    flat = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    gathered = fc.all_gather(eager.tensor(flat)).numpy().reshape(n, -1)
    assert all(np.array_equal(gathered[0], g) for g in gathered[1:]), "replicas differ"

    reference = _mlp(seed=0)                      # one process, the whole global batch
    _train(reference, _batches(steps, per_rank, n), lambda x, y: (x, y))
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=2e-5)

    # no_sync: gradients stay local, the next synced backward averages their sums
    import eager.nn.functional as F

    model.module.zero_grad()
    xb, yb = next(_batches(1, per_rank, n))
    x, y = (eager.tensor(a) for a in mine(xb, yb))
    with model.no_sync():
        F.cross_entropy(model(x), y).backward()
    local = model.module[0].bias.grad.numpy().copy()
    assert not np.allclose(fc.all_reduce(eager.tensor(local), "max").numpy(),
                           fc.all_reduce(eager.tensor(local), "min").numpy())
    F.cross_entropy(model(x), y).backward()
    every = fc.all_gather(eager.tensor(local[None])).numpy()
    np.testing.assert_allclose(model.module[0].bias.grad.numpy(), 2 * every.mean(0),
                               atol=1e-6)

    # a jitted data-parallel step equals the eager one, with one all_reduce per bucket
    eager_model = DistributedDataParallel(_mlp(seed=3), bucket_cap_mb=0.002)
    _train(eager_model, _batches(steps, per_rank, n), mine)
    jit_model = DistributedDataParallel(_mlp(seed=3), bucket_cap_mb=0.002)
    jitted = _train(jit_model, _batches(steps, per_rank, n), mine, step_fn=jit)
    info = jitted.cache_info()
    assert (info.hits, info.misses) == (steps - 1, 1), info
    for p, q in zip(jit_model.parameters(), eager_model.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=1e-5)
    graph = jitted.graph_for(eager.tensor(xb[:per_rank]), eager.tensor(yb[:per_rank]))
    reduces = [node for node in graph.nodes if node.op.name == "all_reduce"]
    assert len(reduces) == len(jit_model.bucket_sizes), (len(reduces), jit_model.bucket_sizes)
    print(f"ok ddp rank {r}", flush=True)


def scenario_unused() -> None:
    import eager
    import eager.distributed as dist
    from eager import nn
    from eager.nn.parallel import DistributedDataParallel

    dist.init()
    r, n = dist.rank(), dist.world_size()

    class ThreeParts(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = (nn.Parameter(eager.ones(2)) for _ in range(3))

        def forward(self, x, use_b):
            y = (self.a * x).sum()
            return y + (self.b * x * 3).sum() if use_b else y

    def grads(model):
        return {k: None if p.grad is None else p.grad.tolist()
                for k, p in model.module.named_parameters()}

    x = eager.full((2,), float(r + 1))
    mean_x = sum(range(1, n + 1)) / n
    for cap in (25.0, 1e-6):                      # one bucket, or one per parameter
        model = DistributedDataParallel(ThreeParts(), find_unused_parameters=True,
                                        bucket_cap_mb=cap)
        # b used by rank 0 alone: every rank gets the mean; c used by none: None
        model(x, r == 0).backward()
        assert grads(model) == {"a": [mean_x] * 2, "b": [3 / n] * 2, "c": None}, grads(model)
        # nobody uses b: its old gradient stays; a .grad set by hand on one rank stays
        if r == 0:
            model.module.c.grad = eager.full((2,), 5.0)
        model(x, False).backward()
        assert grads(model) == {"a": [2 * mean_x] * 2, "b": [3 / n] * 2,
                                "c": [5.0] * 2 if r == 0 else None}, grads(model)
        # after zero_grad (to None), b used by the last rank alone
        model.zero_grad()
        model(x, r == n - 1).backward()
        assert grads(model) == {"a": [mean_x] * 2, "b": [3.0] * 2, "c": None}, grads(model)

    # a jitted step replays the same: c stays None, a and b match the eager step
    from jit import jit

    finals = []
    for wrap in (None, jit):
        model = DistributedDataParallel(ThreeParts(), find_unused_parameters=True)
        opt = eager.optim.SGD(model.parameters(), lr=0.1)

        def step(x, model=model, opt=opt):
            opt.zero_grad()
            model(x, True).backward()
            opt.step()

        run = wrap(step) if wrap else step
        for i in range(4):
            run(eager.full((2,), float(r + 1 + i)))
        finals.append(grads(model))
        assert finals[-1]["c"] is None and model.module.c.tolist() == [1.0, 1.0]
    assert run.cache_info().hits == 3, run.cache_info()
    np.testing.assert_allclose(finals[1]["a"] + finals[1]["b"], finals[0]["a"] + finals[0]["b"],
                               rtol=1e-6)

    # ranks that would cut different buckets, or disagree on find_unused_parameters, are
    # told at construction (the bucket all-reduces themselves run unchecked)
    for kwargs in ({"bucket_cap_mb": 25.0 if r == 0 else 1e-6},
                   {"find_unused_parameters": r == n - 1}):
        try:
            DistributedDataParallel(ThreeParts(), **kwargs)
        except dist.CollectiveMismatchError as exc:
            assert "rank 0: DistributedDataParallel" in str(exc), str(exc)
        else:
            raise AssertionError(f"ranks disagreeing on {kwargs} went unnoticed")

    # without find_unused_parameters a parameter without a gradient is an error
    model = DistributedDataParallel(ThreeParts())
    try:
        model(x, True).backward()
    except dist.UnusedParametersError as exc:
        assert "1 parameter(s) got no gradient" in str(exc) and "c" in str(exc)
    else:
        raise AssertionError("an unused parameter went unnoticed")
    print(f"ok unused rank {r}", flush=True)


def scenario_dead_peer() -> None:
    import eager
    import eager.distributed as dist

    dist.init(timeout=2)
    if dist.rank() == 1:
        os._exit(3)                                  # dies without a word
    try:
        fc.all_reduce(eager.ones(4))
    except dist.CollectiveTimeoutError as exc:
        # One flushed line, then a moment for mpiexec to forward it: a traceback written
        # as the process aborts can be cut off after its first line. os._exit skips
        # MPI_Finalize, which would wait for the dead peer.
        print(f"{type(exc).__name__}: {exc}", flush=True)
        time.sleep(0.5)
        os._exit(1)


def scenario_nccl() -> None:
    import eager
    import eager.distributed as dist
    import eager.nn.functional as F
    from eager.nn.parallel import DistributedDataParallel
    from kernels.errors import DTypeError

    dist.init("nccl")
    assert dist.get_backend() == "nccl"
    r, n = dist.rank(), dist.world_size()
    every = np.stack([_rank_data(k, (6, 4)) for k in range(n)])
    t = eager.tensor(every[r], device="cuda")

    def host(x):
        assert x.device == "cuda", x.device
        return x.to("cpu").numpy()

    np.testing.assert_allclose(host(fc.all_reduce(t)), every.sum(0), rtol=1e-5)
    np.testing.assert_array_equal(host(fc.all_reduce(t, "max")), every.max(0))
    np.testing.assert_array_equal(host(fc.all_reduce(t, "min")), every.min(0))
    np.testing.assert_array_equal(host(fc.broadcast(t, src=n - 1)), every[n - 1])
    np.testing.assert_array_equal(host(fc.all_gather(t)), every.reshape(n * 6, 4))
    rows = np.stack([_rank_data(k, (3 * n, 2)) for k in range(n)])
    np.testing.assert_allclose(host(fc.reduce_scatter(eager.tensor(rows[r], device="cuda"),
                                                      "mean")),
                               rows.mean(0)[3 * r:3 * r + 3], rtol=1e-5)
    ints = eager.tensor(np.arange(5) * (r + 1), device="cuda")
    assert host(fc.all_reduce(ints)).tolist() == (np.arange(5) * n * (n + 1) // 2).tolist()
    # an async mean seen complete by is_completed() before wait() is still a mean
    work = fc.all_reduce(t, op="mean", async_op=True)
    while not work.is_completed():
        pass
    np.testing.assert_allclose(host(work.wait()), every.mean(0), rtol=1e-5)
    # the in-place torch forms on a GPU tensor
    u = eager.tensor(every[r], device="cuda")
    dist.all_reduce(u, op=dist.ReduceOp.AVG)
    np.testing.assert_allclose(host(u), every.mean(0), rtol=1e-5)
    dist.broadcast(u, src=0)
    np.testing.assert_allclose(host(u), every.mean(0), rtol=1e-5)
    try:
        fc.all_reduce(eager.tensor([True, False], device="cuda"))
    except DTypeError as exc:
        assert "NCCL cannot exchange bool" in str(exc)
    else:
        raise AssertionError("a bool tensor went to NCCL")
    dist.barrier()

    # DDP on the GPU (buckets reduced in place over NCCL) gives the CPU DDP's gradients
    x, y = _rank_data(r, (5, 8)), np.arange(5) % 3
    grads = []
    for device in ("cpu", "cuda"):
        model = DistributedDataParallel(_mlp(seed=4).to(device), bucket_cap_mb=0.001)
        F.cross_entropy(model(eager.tensor(x, device=device)),
                        eager.tensor(y, device=device)).backward()
        grads.append([p.grad.to("cpu").numpy() for p in model.parameters()])
    for g_cpu, g_gpu in zip(*grads):
        np.testing.assert_allclose(g_gpu, g_cpu, rtol=1e-4, atol=1e-6)
    print(f"ok nccl rank {r}", flush=True)


if __name__ == "__main__":
    globals()[f"scenario_{sys.argv[1]}"]()
