"""Issue 11, part D: `WeightedRandomSampler` and `DataLoader(num_workers > 0)` with real
worker processes, written as PyTorch programs with `import eager as torch` and checked
against PyTorch's own DataLoader where it is installed."""
import collections
import os
import time

import numpy as np
import pytest

import eager as torch
from eager.utils.data import (
    DataLoader,
    DataLoaderError,
    DataLoaderWorkerError,
    Dataset,
    IterableDataset,
    TensorDataset,
    WeightedRandomSampler,
    get_worker_info,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads


# ---- WeightedRandomSampler ------------------------------------------------------------
def test_weighted_sampler_draws_in_proportion_to_the_weights():
    weights = [0.1, 0.9, 0.4, 0.0]
    sampler = WeightedRandomSampler(weights, 20000, generator=torch.Generator(seed=1))
    counts = collections.Counter(sampler)
    assert len(sampler) == 20000 and set(counts) <= {0, 1, 2}
    freq = np.array([counts[i] for i in range(4)]) / 20000
    np.testing.assert_allclose(freq, np.array(weights) / sum(weights), atol=0.015)
    assert all(type(i) is int for i in list(sampler)[:5])


def test_weighted_sampler_reproduces_with_a_seeded_generator_and_redraws_each_pass():
    a = WeightedRandomSampler([1.0, 2.0, 3.0], 50, generator=torch.Generator(seed=5))
    b = WeightedRandomSampler([1.0, 2.0, 3.0], 50, generator=torch.Generator(seed=5))
    first = list(a)
    assert first == list(b)
    assert list(a) != first


def test_weighted_sampler_without_replacement_draws_each_index_once():
    sampler = WeightedRandomSampler(torch.tensor([1.0, 1.0, 5.0, 0.0, 2.0]), 4,
                                    replacement=False, generator=torch.Generator(seed=2))
    drawn = list(sampler)
    assert sorted(drawn) == [0, 1, 2, 4]     # the zero weight comes last, so never here
    heavy_first = sum(next(iter(sampler)) == 2 for _ in range(300)) / 300
    assert heavy_first > 0.45                # 5 / 9 of the weight


def test_weighted_sampler_rejects_bad_arguments():
    with pytest.raises(DataLoaderError, match="num_samples must be a positive int"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(DataLoaderError, match="replacement must be a bool"):
        WeightedRandomSampler([1.0], 1, replacement=1)
    with pytest.raises(DataLoaderError, match="1-D"):
        WeightedRandomSampler([[1.0, 2.0]], 1)
    with pytest.raises(DataLoaderError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 1)
    with pytest.raises(DataLoaderError, match="without replacement from 2"):
        WeightedRandomSampler([1.0, 1.0], 3, replacement=False)


def test_weighted_sampler_drives_a_dataloader_as_torch():
    ds = TensorDataset(torch.arange(6))
    loader = DataLoader(ds, batch_size=4, sampler=WeightedRandomSampler(
        [0, 0, 1, 0, 0, 1], 8, generator=torch.Generator(seed=0)))
    batches = [b[0].tolist() for b in loader]
    assert len(loader) == 2 and [len(b) for b in batches] == [4, 4]
    assert {i for b in batches for i in b} <= {2, 5}
    pt = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as PtLoader
    from torch.utils.data import TensorDataset as PtDataset
    from torch.utils.data import WeightedRandomSampler as PtSampler

    theirs = PtLoader(PtDataset(pt.arange(6)), batch_size=4, sampler=PtSampler(
        [0, 0, 1, 0, 0, 1], 8))
    assert len(theirs) == len(loader)
    assert {i for b in theirs for i in b[0].tolist()} <= {2, 5}


# ---- DataLoader workers ---------------------------------------------------------------
class Squares(Dataset):
    """Items i -> (i*i as a float tensor, a dict with the worker id and pid); item `slow`
    takes a while, so later batches from other workers arrive first."""

    def __init__(self, n=12, slow=None, bad=None):
        self.n, self.slow, self.bad = n, slow, bad

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise KeyError(f"no item {i}")
        if i == self.slow:
            time.sleep(0.3)
        info = get_worker_info()
        return torch.tensor([float(i * i)]), {"worker": -1 if info is None else info.id,
                                             "pid": os.getpid(), "index": i}


def test_workers_give_the_batches_of_the_main_process_in_order():
    ds = Squares(slow=1)
    with_workers = list(DataLoader(ds, batch_size=3, num_workers=3, shuffle=True,
                                   generator=torch.Generator(seed=4)))
    in_process = list(DataLoader(ds, batch_size=3, shuffle=True,
                                 generator=torch.Generator(seed=4)))
    assert [b[1]["index"].tolist() for b in with_workers] == \
        [b[1]["index"].tolist() for b in in_process]
    for (x, meta), (y, _) in zip(with_workers, in_process):
        assert x.dtype == torch.float32 and x.tolist() == y.tolist()
    assert [b[1]["worker"].tolist() for b in with_workers] == [[k % 3] * 3 for k in range(4)]
    assert {p for b in with_workers for p in b[1]["pid"].tolist()} & {os.getpid()} == set()


def test_worker_info_init_fn_and_seeding():
    class Seeds(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = get_worker_info()
            return [info.id, info.num_workers, info.seed, INIT_MARK.get("id", -1),
                    torch.rand(()).item(), len(info.dataset)]

    rows = [b for batch in DataLoader(Seeds(), batch_size=2, num_workers=2,
                                      worker_init_fn=_mark_init,
                                      generator=torch.Generator(seed=3))
            for b in zip(*[c.tolist() for c in batch])]
    ids, counts, seeds, marks, draws, lengths = zip(*rows)
    assert ids == (0, 0, 1, 1) and counts == (2,) * 4 and marks == ids and lengths == (4,) * 4
    assert seeds[2] == seeds[0] + 1                      # base seed + worker id, as torch
    assert draws[0] != draws[2]                          # each worker has its own stream
    again = [b for batch in DataLoader(Seeds(), batch_size=2, num_workers=2,
                                       generator=torch.Generator(seed=3))
             for b in zip(*[c.tolist() for c in batch])]
    assert [r[2] for r in again] == list(seeds)          # same generator, same seeds
    assert [r[4] for r in again] == list(draws)
    assert get_worker_info() is None


INIT_MARK = {}


def _mark_init(worker_id):
    INIT_MARK["id"] = worker_id


def test_persistent_workers_keep_their_processes_between_passes():
    ds = Squares(n=4)
    persistent = DataLoader(ds, batch_size=2, num_workers=2, persistent_workers=True)
    pids = [{p for b in persistent for p in b[1]["pid"].tolist()} for _ in range(2)]
    assert pids[0] == pids[1] and len(pids[0]) == 2
    fresh = DataLoader(ds, batch_size=2, num_workers=2)
    assert {p for b in fresh for p in b[1]["pid"].tolist()}.isdisjoint(
        {p for b in fresh for p in b[1]["pid"].tolist()})
    half = iter(persistent)
    next(half)                                           # an abandoned pass ...
    assert [b[1]["index"].tolist() for b in persistent] == [[0, 1], [2, 3]]   # ... is skipped


def test_prefetch_factor_pin_memory_and_argument_checks():
    loader = DataLoader(Squares(n=5), batch_size=2, num_workers=2, prefetch_factor=1,
                        pin_memory=True)
    assert [b[1]["index"].tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    assert loader.prefetch_factor == 1
    assert DataLoader(Squares(), num_workers=2).prefetch_factor == 2
    with pytest.raises(DataLoaderError, match="need worker processes"):
        DataLoader(Squares(), prefetch_factor=2)
    with pytest.raises(DataLoaderError, match="need worker processes"):
        DataLoader(Squares(), persistent_workers=True)
    with pytest.raises(DataLoaderError, match="prefetch_factor must be a positive int"):
        DataLoader(Squares(), num_workers=1, prefetch_factor=0)
    with pytest.raises(DataLoaderError, match="timeout"):
        DataLoader(Squares(), timeout=-1)


def test_an_error_in_a_worker_is_raised_naming_the_worker_and_the_indices():
    loader = DataLoader(Squares(bad=7), batch_size=3, num_workers=2)
    with pytest.raises(KeyError, match=r"worker 0 raised KeyError while fetching batch 2 "
                                       r"\(indices \[6, 7, 8\]\).*no item 7"):
        list(loader)
    single = DataLoader(Squares(bad=2), batch_size=None, num_workers=1)
    with pytest.raises(KeyError, match=r"worker 0 .*batch 2 \(indices 2\)"):
        list(single)


def test_a_failing_init_fn_and_a_dead_worker_are_reported():
    def failing_init(worker_id):
        raise RuntimeError(f"cannot open shard {worker_id}")

    with pytest.raises(RuntimeError, match="worker 1 raised RuntimeError in worker_init_fn.*"
                                           "cannot open shard 1|worker 0 raised RuntimeError"):
        list(DataLoader(Squares(), num_workers=2, worker_init_fn=failing_init))

    class Dies(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            os._exit(3)

    with pytest.raises(DataLoaderWorkerError, match=r"worker 0 \(pid \d+\) exited "
                                                    r"unexpectedly with exit code 3"):
        list(DataLoader(Dies(), num_workers=1))


def test_timeout_names_the_batch():
    with pytest.raises(DataLoaderWorkerError, match=r"no batch 1 within timeout=0.3 s"):
        list(DataLoader(_Sleeps(), batch_size=1, num_workers=1, timeout=0.3))


class _Sleeps(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(1.5 * i)
        return i


class Shards(IterableDataset):
    """0..10, each worker taking every num_workers-th item (torch's documented idiom)."""

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, 11, step))


def test_iterable_dataset_workers_interleave_as_torch():
    got = [b.tolist() for b in DataLoader(Shards(), batch_size=2, num_workers=2)]
    assert got == [[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9]]
    persistent = DataLoader(Shards(), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in persistent] == got == [b.tolist() for b in persistent]
    pt = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as PtLoader
    from torch.utils.data import IterableDataset as PtIterable
    from torch.utils.data import get_worker_info as pt_info

    class PtShards(PtIterable):
        def __iter__(self):
            info = pt_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, 11, step))

    assert [b.tolist() for b in PtLoader(PtShards(), batch_size=2, num_workers=2)] == got
    del pt


def test_map_style_workers_match_torch():
    pt = pytest.importorskip("torch")
    from torch.utils.data import DataLoader as PtLoader
    from torch.utils.data import Dataset as PtDataset

    class PtSquares(PtDataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return pt.tensor([float(i * i)]), {"index": i}

    ours = [(x.tolist(), m["index"].tolist())
            for x, m in DataLoader(Squares(n=7), batch_size=3, num_workers=2)]
    theirs = [(x.tolist(), m["index"].tolist())
              for x, m in PtLoader(PtSquares(), batch_size=3, num_workers=2)]
    assert ours == theirs


class _JittedItems(Dataset):
    def __init__(self, fn, x):
        self.fn, self.x = fn, x

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return self.fn(self.x).sum()


def test_a_worker_forked_after_parallel_jit_kernels_can_run_them():
    from jit import jit

    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        fn = jit(lambda x: (x * 2 + 1).tanh())
        big = torch.ones(1 << 19)
        want = fn(big).sum().item()
        fn(big)                     # the parent now holds the kernel thread pool
        loader = DataLoader(_JittedItems(fn, big), batch_size=1, num_workers=1, timeout=30)
        assert [b.item() for b in loader] == [want, want]
    finally:
        torch.set_num_threads(previous)
