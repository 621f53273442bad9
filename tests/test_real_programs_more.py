"""More programs of pytorch/examples, written here in their style with `import eager as
torch`: `dcgan` (ConvTranspose2d generator, Conv2d discriminator, BCELoss, two Adams),
`vae` (the reparameterised autoencoder, its BCE + KLD loss), `mnist_hogwild` (one model in
shared memory trained by several processes) and `gcn` (a graph convolutional network on a
normalised adjacency through `torch.sparse_coo_tensor` / `torch.spmm`). Each model class
is defined over a library, so the same code builds ours and torch's; torch's initial
state_dict is loaded into ours, both get the same batches and the same random draws, and
the first steps are compared, then the jitted step against the eager one."""
# The programs keep their own spelling (super(Class, self), list(map(lambda ...)),
# str.format).
# ruff: noqa: UP008, UP032, C417
import argparse
import copy
import os

import numpy as np
import pytest

import eager as torch
import eager.multiprocessing as mp
import eager.nn.functional as F
from eager import nn, optim
from jit import jit


def load_from_torch(ours, theirs):
    ours.load_state_dict({k: torch.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})


def assert_same_parameters(ours, theirs, rtol=1e-4, atol=1e-6):
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(mine[name].detach().numpy(), p.detach().numpy(),
                                   rtol=rtol, atol=atol, err_msg=name)


# ---- dcgan ---------------------------------------------------------------------------
NZ, NGF, NDF, NC = 8, 4, 4, 3


def dcgan_nets(lib):
    """dcgan/main.py's `weights_init`, Generator and Discriminator (64x64 images, narrow
    widths from its --nz/--ngf/--ndf flags)."""
    nn = lib.nn

    def weights_init(m):
        classname = m.__class__.__name__
        if classname.find('Conv') != -1:
            lib.nn.init.normal_(m.weight, 0.0, 0.02)
        elif classname.find('BatchNorm') != -1:
            lib.nn.init.normal_(m.weight, 1.0, 0.02)
            lib.nn.init.zeros_(m.bias)

    class Generator(nn.Module):
        def __init__(self, ngpu):
            super(Generator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is Z, going into a convolution
                nn.ConvTranspose2d(NZ, NGF * 8, 4, 1, 0, bias=False),
                nn.BatchNorm2d(NGF * 8),
                nn.ReLU(True),
                # state size. (ngf*8) x 4 x 4
                nn.ConvTranspose2d(NGF * 8, NGF * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(NGF * 4),
                nn.ReLU(True),
                nn.ConvTranspose2d(NGF * 4, NGF * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(NGF * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False),
                nn.BatchNorm2d(NGF),
                nn.ReLU(True),
                nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False),
                nn.Tanh()
                # state size. (nc) x 64 x 64
            )

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)
            return output

    class Discriminator(nn.Module):
        def __init__(self, ngpu):
            super(Discriminator, self).__init__()
            self.ngpu = ngpu
            self.main = nn.Sequential(
                # input is (nc) x 64 x 64
                nn.Conv2d(NC, NDF, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(NDF * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(NDF * 2, NDF * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(NDF * 4),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(NDF * 4, NDF * 8, 4, 2, 1, bias=False),
                nn.BatchNorm2d(NDF * 8),
                nn.LeakyReLU(0.2, inplace=True),
                # state size. (ndf*8) x 4 x 4
                nn.Conv2d(NDF * 8, 1, 4, 1, 0, bias=False),
                nn.Sigmoid()
            )

        def forward(self, input):
            if input.is_cuda and self.ngpu > 1:
                output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
            else:
                output = self.main(input)
            return output.view(-1, 1).squeeze(1)

    device = lib.device("cpu")
    netG = Generator(1).to(device)
    netG.apply(weights_init)
    netD = Discriminator(1).to(device)
    netD.apply(weights_init)
    return netG, netD


def dcgan_training(lib, netG, netD, lr=0.0002, beta1=0.5):
    """The body of dcgan/main.py's loop as a step over one batch and its noise: (1) update
    D with a real and a fake batch, (2) update G through D; it returns what the program
    prints (Loss_D, Loss_G, D(x), D(G(z)) before and after D's step), as tensors."""
    device = lib.device("cpu")
    criterion = lib.nn.BCELoss()
    real_label = 1
    fake_label = 0
    optimizerD = lib.optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))
    optimizerG = lib.optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))

    def step(real_cpu, noise):
        ############################
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        ###########################
        # train with real
        netD.zero_grad()
        real_cpu = real_cpu.to(device)
        batch_size = real_cpu.size(0)
        label = lib.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)

        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean()

        # train with fake
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean()
        errD = errD_real + errD_fake
        optimizerD.step()

        ############################
        # (2) Update G network: maximize log(D(G(z)))
        ###########################
        netG.zero_grad()
        label.fill_(real_label)  # fake labels are real for generator cost
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean()
        optimizerG.step()
        return (errD.detach(), errG.detach(), D_x.detach(), D_G_z1.detach(),
                D_G_z2.detach())
    return step


def dcgan_batches(steps, batch_size=4, seed=0):
    """Images in [-1, 1] (what the program's Normalize((0.5,)*3, (0.5,)*3) gives) and
    the noise the loop draws with torch.randn(batch_size, nz, 1, 1)."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        yield (rng.uniform(-1, 1, (batch_size, NC, 64, 64)).astype(np.float32),
               rng.standard_normal((batch_size, NZ, 1, 1)).astype(np.float32))


def run_dcgan(lib, netG, netD, batches, use_jit=False):
    step = dcgan_training(lib, netG, netD)
    run = jit(step) if use_jit else step
    printed = []
    for i, (data, noise) in enumerate(batches):
        errD, errG, D_x, D_G_z1, D_G_z2 = run(lib.tensor(data), lib.tensor(noise))
        printed.append([errD.item(), errG.item(), D_x.item(), D_G_z1.item(), D_G_z2.item()])
    return np.array(printed), run


def test_dcgan_builds_as_the_program_does():
    torch.manual_seed(0)
    netG, netD = dcgan_nets(torch)
    fixed_noise = torch.randn(4, NZ, 1, 1, device=torch.device("cpu"))
    fake = netG(fixed_noise)
    assert fake.shape == (4, NC, 64, 64) and fake.abs().max().item() <= 1.0
    assert netD(fake.detach()).shape == (4,)
    weights = netD.main[0].weight.detach().numpy()
    assert abs(weights.std() - 0.02) < 0.005       # weights_init reached every Conv
    assert netG.main[1].bias.abs().max().item() == 0.0
    assert sorted(netG.state_dict())[:3] == ["main.0.weight", "main.1.bias",
                                             "main.1.num_batches_tracked"]


def test_dcgan_trains_like_torch():
    ref = pytest.importorskip("torch")
    torch.manual_seed(0)
    netG, netD = dcgan_nets(torch)
    ref.manual_seed(0)
    theirsG, theirsD = dcgan_nets(ref)
    load_from_torch(netG, theirsG)
    load_from_torch(netD, theirsD)
    got, _ = run_dcgan(torch, netG, netD, dcgan_batches(3))
    want, _ = run_dcgan(ref, theirsG, theirsD, dcgan_batches(3))
    np.testing.assert_allclose(got, want, rtol=1e-4)
    assert_same_parameters(netG, theirsG)
    assert_same_parameters(netD, theirsD)
    np.testing.assert_allclose(netD.main[3].running_var.numpy(),
                               theirsD.main[3].running_var.numpy(), rtol=1e-5)


def test_dcgan_jitted_step_matches_eager_and_replays():
    def fresh():
        torch.manual_seed(1)
        return dcgan_nets(torch)
    want, _ = run_dcgan(torch, *fresh(), dcgan_batches(3))
    nets = fresh()
    got, run = run_dcgan(torch, *nets, dcgan_batches(3), use_jit=True)
    np.testing.assert_allclose(got, want, rtol=1e-4)
    assert run.cache_info().hits == 2


def test_an_inplace_activation_on_a_whole_view_keeps_gradients_as_torch():
    # conv2d's output is a reshape of its matmul's; LeakyReLU(inplace=True) writes it.
    def run(lib):
        x = lib.tensor(np.linspace(-2, 2, 12, dtype=np.float32).reshape(2, 6),
                       requires_grad=True)
        b = x * 3
        v = b.view(3, 4)
        lib.nn.functional.leaky_relu(v, 0.2, inplace=True)
        (b * lib.arange(12.0).view(2, 6)).sum().backward()
        return b.detach().numpy(), x.grad.numpy()
    values, grad = run(torch)
    slope = np.where(np.linspace(-2, 2, 12) > 0, 1.0, 0.2).reshape(2, 6)
    np.testing.assert_allclose(grad, 3 * slope * np.arange(12.0).reshape(2, 6), rtol=1e-6)
    assert values.min() < 0 and values.min() > -2
    x = torch.ones(2, 6, requires_grad=True) * 1
    with pytest.raises(torch.AutogradError, match="view"):
        x[:, :3].relu_()   # a part of its base: still refused, never a wrong gradient
    with pytest.raises(torch.AutogradError, match="view of a leaf"):
        torch.ones(6, requires_grad=True).view(2, 3).relu_()
    ref = pytest.importorskip("torch")
    for a, b in zip(run(torch), run(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


# ---- vae -----------------------------------------------------------------------------
def vae_model(lib):
    """vae/main.py's VAE: 784 -> 400 -> (mu, logvar) of 20, decoded back to 784."""
    nn, F = lib.nn, lib.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super(VAE, self).__init__()

            self.fc1 = nn.Linear(784, 400)
            self.fc21 = nn.Linear(400, 20)
            self.fc22 = nn.Linear(400, 20)
            self.fc3 = nn.Linear(20, 400)
            self.fc4 = nn.Linear(400, 784)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar):
            std = lib.exp(0.5*logvar)
            eps = lib.randn_like(std)
            return mu + eps*std

        def decode(self, z):
            h3 = F.relu(self.fc3(z))
            return lib.sigmoid(self.fc4(h3))

        def forward(self, x):
            mu, logvar = self.encode(x.view(-1, 784))
            z = self.reparameterize(mu, logvar)
            return self.decode(z), mu, logvar
    return VAE


def vae_loss_function(lib):
    F = lib.nn.functional

    # Reconstruction + KL divergence losses summed over all elements and batch
    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction='sum')

        # see Appendix B from VAE paper:
        # Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
        # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
        KLD = -0.5 * lib.sum(1 + logvar - mu.pow(2) - logvar.exp())

        return BCE + KLD
    return loss_function


def with_given_noise(vae_class):
    """The program's VAE with the reparameterisation noise taken from `model.eps` (set
    before each call), so torch and eager see the same draws."""
    class GivenNoise(vae_class):
        def reparameterize(self, mu, logvar):
            std = (0.5 * logvar).exp()
            return mu + self.eps * std
    return GivenNoise


def mnist_like(batches, batch_size=8, seed=0):
    """Stand-in for torchvision's MNIST after ToTensor(): (b, 1, 28, 28) in [0, 1], with
    blobs of ink, and the reparameterisation noise of each batch."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    for _ in range(batches):
        cy, cx = rng.uniform(8, 20, (2, batch_size, 1, 1))
        images = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 18.0)[:, None]
        yield (images.astype(np.float32),
               rng.standard_normal((batch_size, 20)).astype(np.float32))


def vae_training(lib, model):
    """One iteration of vae/main.py's train(): zero_grad, forward, loss, backward, step."""
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = vae_loss_function(lib)

    def step(data, eps):
        model.eps = eps
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        optimizer.step()
        return loss.detach()
    return step


def run_vae(lib, model, batches, use_jit=False):
    model.train()
    step = vae_training(lib, model)
    run = jit(step) if use_jit else step
    return [run(lib.tensor(data), lib.tensor(eps)).item() for data, eps in batches], run


def test_vae_runs_as_the_program_does():
    torch.manual_seed(0)
    model = vae_model(torch)()
    data = torch.tensor(next(mnist_like(1))[0])
    recon_batch, mu, logvar = model(data)     # its own randn_like noise
    loss = vae_loss_function(torch)(recon_batch, data, mu, logvar)
    loss.backward()
    assert recon_batch.shape == (8, 784) and mu.shape == logvar.shape == (8, 20)
    assert model.fc1.weight.grad.shape == (400, 784) and loss.item() > 0
    model.eval()
    with torch.no_grad():
        test_loss = vae_loss_function(torch)(*model(data)[:1], data, *model(data)[1:]).item()
        n = min(data.size(0), 8)
        comparison = torch.cat([data[:n], model(data)[0].view(8, 1, 28, 28)[:n]])
        sample = model.decode(torch.randn(64, 20))
    assert comparison.shape == (16, 1, 28, 28) and sample.view(64, 1, 28, 28).shape[0] == 64
    assert test_loss > 0


def test_vae_trains_like_torch():
    ref = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = with_given_noise(vae_model(torch))()
    ref.manual_seed(0)
    theirs = with_given_noise(vae_model(ref))()
    load_from_torch(model, theirs)
    got, _ = run_vae(torch, model, mnist_like(4))
    want, _ = run_vae(ref, theirs, mnist_like(4))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # fc1's inputs far from the blobs are ~1e-30: Adam turns their float-noise gradients
    # into steps of about lr either way, so a few weights differ by up to 4 * lr / 100.
    assert_same_parameters(model, theirs, atol=1e-4)


def test_vae_jitted_step_matches_eager_and_replays():
    def fresh():
        torch.manual_seed(2)
        return with_given_noise(vae_model(torch))()
    want, _ = run_vae(torch, fresh(), mnist_like(4))
    got, run = run_vae(torch, fresh(), mnist_like(4), use_jit=True)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert run.cache_info().hits == 3
    assert got[-1] < got[0]


# ---- gcn -----------------------------------------------------------------------------
def gcn_program(lib):
    """gcn/main.py: GraphConv (`torch.spmm(adj, x @ W)`), the two-layer GCN, `load_cora`
    (row-normalised features, symmetric normalised adjacency with self loops, built with
    `torch.sparse_coo_tensor` and `.to_sparse()`), and a training step and `test`."""
    nn, F = lib.nn, lib.nn.functional
    import os

    class GraphConv(nn.Module):
        """A graph convolution: the adjacency matrix times the input's projection."""
        def __init__(self, input_dim, output_dim, use_bias=False):
            super(GraphConv, self).__init__()

            # Initialize the weight matrix W (in this case called `kernel`)
            self.kernel = nn.Parameter(lib.Tensor(input_dim, output_dim))
            nn.init.xavier_normal_(self.kernel)  # Initialize the weights using Xavier initialization

            # Initialize the bias (if use_bias is True)
            self.bias = None
            if use_bias:
                self.bias = nn.Parameter(lib.Tensor(output_dim))
                nn.init.zeros_(self.bias)  # Initialize the bias to zeros

        def forward(self, input_tensor, adj_mat):
            support = lib.mm(input_tensor, self.kernel)  # Matrix multiplication between input and weight matrix
            output = lib.spmm(adj_mat, support)  # Sparse matrix multiplication between adjacency matrix and support tensor

            # Add the bias (if bias is not None)
            if self.bias is not None:
                output = output + self.bias

            return output

    class GCN(nn.Module):
        def __init__(self, input_dim, hidden_dim, output_dim, use_bias=True, dropout_p=0.1):
            super(GCN, self).__init__()

            # Define the Graph Convolution layers
            self.gc1 = GraphConv(input_dim, hidden_dim, use_bias=use_bias)
            self.gc2 = GraphConv(hidden_dim, output_dim, use_bias=use_bias)

            # Define the dropout layer
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input_tensor, adj_mat):
            x = self.gc1(input_tensor, adj_mat)
            x = F.relu(x)
            x = self.dropout(x)
            x = self.gc2(x, adj_mat)
            return F.log_softmax(x, dim=1)

    def load_cora(path='./cora', device='cpu'):
        content_path = os.path.join(path, 'cora.content')
        cites_path = os.path.join(path, 'cora.cites')

        content_tensor = np.genfromtxt(content_path, dtype=np.dtype(str))
        cites_tensor = np.genfromtxt(cites_path, dtype=np.int32)

        features = lib.FloatTensor(content_tensor[:, 1:-1].astype(np.int32))
        scale_vector = lib.sum(features, dim=1)
        scale_vector = 1 / scale_vector
        scale_vector[scale_vector == float('inf')] = 0
        scale_vector = lib.diag(scale_vector).to_sparse()
        features = scale_vector @ features

        _classes, labels = np.unique(content_tensor[:, -1], return_inverse=True)
        labels = lib.LongTensor(labels)

        idx = content_tensor[:, 0].astype(np.int32)
        idx_map = {id: pos for pos, id in enumerate(idx)}
        edges = np.array(
            list(map(lambda edge: [idx_map[edge[0]], idx_map[edge[1]]], cites_tensor)),
            dtype=np.int32)

        V = len(idx)
        E = edges.shape[0]
        adj_mat = lib.sparse_coo_tensor(edges.T, lib.ones(E), (V, V), dtype=lib.int64)
        adj_mat = lib.eye(V) + adj_mat

        degree_mat = lib.sum(adj_mat, dim=1)
        degree_mat = lib.sqrt(1 / degree_mat)
        degree_mat[degree_mat == float('inf')] = 0
        degree_mat = lib.diag(degree_mat).to_sparse()

        adj_mat = degree_mat @ adj_mat @ degree_mat

        return features.to_sparse().to(device), labels.to(device), adj_mat.to_sparse().to(device)

    def train_step(model, optimizer, criterion, input, target, mask_train):
        model.train()
        optimizer.zero_grad()

        # Forward pass
        output = model(*input)
        loss = criterion(output[mask_train], target[mask_train])  # Compute the loss using the training mask

        loss.backward()
        optimizer.step()
        return loss.detach()

    def test(model, criterion, input, target, mask):
        model.eval()
        with lib.no_grad():
            output = model(*input)
            output, target = output[mask], target[mask]

            loss = criterion(output, target)
            acc = (output.argmax(dim=1) == target).float().sum() / len(target)
        return loss.item(), acc.item()
    return GCN, load_cora, train_step, test


def write_cora(path, nodes=30, words=12, cites=60, seed=0):
    """A small graph in Cora's two files: `cora.content` (paper id, 0/1 word features,
    class name) and `cora.cites` (cited id, citing id), ids not in node order."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(100000, nodes, replace=False)
    classes = rng.integers(0, 3, nodes)
    with open(path / "cora.content", "w") as f:
        for i in range(nodes):
            feats = (rng.random(words) < 0.3).astype(int)
            feats[classes[i]] = 1
            f.write(f"{ids[i]}\t" + "\t".join(map(str, feats)) + f"\tClass_{classes[i]}\n")
    with open(path / "cora.cites", "w") as f:
        for _ in range(cites):
            a, b = rng.choice(nodes, 2, replace=False)
            f.write(f"{ids[a]}\t{ids[b]}\n")


def run_gcn(lib, path, idx, epochs=5, dropout_p=0.0, seed=0, state=None, use_jit=False):
    """gcn/main.py's __main__ with its flags (hidden 16, lr 0.01, l2 5e-4) and the splits
    scaled to the small graph: the losses of each step, then the test loss and accuracy."""
    GCN, load_cora, train_step, test = gcn_program(lib)
    features, labels, adj_mat = load_cora(str(path), device=lib.device("cpu"))
    idx = lib.tensor(idx)
    idx_test, idx_train = idx[:10], idx[15:]      # idx[10:15] is the validation split
    lib.manual_seed(seed)
    gcn = GCN(features.shape[1], 16, labels.max().item() + 1, True, dropout_p)
    if state is not None:
        load_from_torch(gcn, state)
    optimizer = lib.optim.Adam(gcn.parameters(), lr=0.01, weight_decay=5e-4)
    criterion = lib.nn.NLLLoss()
    step = jit(train_step) if use_jit else train_step
    losses = [step(gcn, optimizer, criterion, (features, adj_mat), labels, idx_train).item()
              for _ in range(epochs)]
    return losses, test(gcn, criterion, (features, adj_mat), labels, idx_test), gcn, step


def test_gcn_runs_on_a_cora_layout_graph(tmp_path):
    write_cora(tmp_path)
    _, load_cora, _, _ = gcn_program(torch)
    features, labels, adj_mat = load_cora(str(tmp_path))
    assert features.shape == (30, 12) and adj_mat.shape == (30, 30) and labels.max() == 2
    np.testing.assert_allclose(features.sum(dim=1).numpy(), 1.0, rtol=1e-6)
    ids = np.genfromtxt(tmp_path / "cora.content", dtype=str)[:, 0].astype(int).tolist()
    a = np.eye(30)
    for cited, citing in np.genfromtxt(tmp_path / "cora.cites", dtype=int):
        a[ids.index(cited), ids.index(citing)] += 1     # repeated citations add up
    d = a.sum(axis=1) ** -0.5
    np.testing.assert_allclose(adj_mat.numpy(), d[:, None] * a * d[None, :], rtol=1e-6)
    idx = np.random.default_rng(1).permutation(30)
    losses, (_, acc_test), _, _ = run_gcn(torch, tmp_path, idx, epochs=20, dropout_p=0.5)
    assert losses[-1] < losses[0] and 0.0 <= acc_test <= 1.0


@pytest.mark.filterwarnings("ignore:Sparse invariant checks")
def test_gcn_trains_like_torch(tmp_path):
    ref = pytest.importorskip("torch")
    write_cora(tmp_path)
    idx = np.random.default_rng(1).permutation(30)
    want_losses, want_test, theirs, _ = run_gcn(ref, tmp_path, idx)
    _, _, fresh, _ = run_gcn(ref, tmp_path, idx, epochs=0)
    losses, got_test, ours, _ = run_gcn(torch, tmp_path, idx, state=fresh)
    np.testing.assert_allclose(losses, want_losses, rtol=1e-5)
    np.testing.assert_allclose(got_test, want_test, rtol=1e-5)
    assert_same_parameters(ours, theirs)


def test_gcn_jitted_step_matches_eager_and_replays(tmp_path):
    write_cora(tmp_path)
    idx = np.random.default_rng(1).permutation(30)
    want, want_test, _, _ = run_gcn(torch, tmp_path, idx, dropout_p=0.5, seed=3)
    got, got_test, _, step = run_gcn(torch, tmp_path, idx, dropout_p=0.5, seed=3,
                                     use_jit=True)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(got_test, want_test, rtol=1e-5)
    assert step.cache_info().hits == 4


@pytest.mark.filterwarnings("ignore:Sparse invariant checks")
def test_sparse_coo_tensor_gives_torchs_values_and_gradients_densely():
    indices = np.array([[0, 2, 0, 1], [1, 0, 1, 2]])
    values = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    adj = torch.sparse_coo_tensor(indices, values, (3, 3))
    assert adj.tolist() == [[0.0, 4.0, 0.0], [0.0, 0.0, 4.0], [2.0, 0.0, 0.0]]
    assert not adj.is_sparse and adj.to_sparse() is adj and adj.to_dense() is adj
    (torch.sparse.mm(adj, torch.arange(3.0).view(3, 1)) ** 2).sum().backward()
    hybrid = torch.sparse_coo_tensor(torch.tensor([[1]]), torch.ones(1, 2))
    assert hybrid.shape == (2, 2) and hybrid.tolist() == [[0.0, 0.0], [1.0, 1.0]]
    with pytest.raises(torch.IndexOutOfRangeError, match="sparse_coo_tensor: index 2 .* size 2 of dim 1"):
        torch.sparse_coo_tensor(indices, values, (3, 2))
    with pytest.raises(torch.ShapeError, match="sparse_coo_tensor.*4 entries"):
        torch.sparse_coo_tensor(indices, torch.ones(3), (3, 3))
    ref = pytest.importorskip("torch")
    theirs = ref.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    sparse = ref.sparse_coo_tensor(ref.tensor(indices), theirs, (3, 3))
    np.testing.assert_array_equal(adj.detach().numpy(), sparse.to_dense().detach().numpy())
    (ref.sparse.mm(sparse, ref.arange(3.0).view(3, 1)) ** 2).sum().backward()
    np.testing.assert_allclose(values.grad.numpy(), theirs.grad.numpy())


# ---- mnist_hogwild -------------------------------------------------------------------
# Module level, as in the program: "spawn" children import what they are sent.
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def train(rank, args, model, device, dataset, dataloader_kwargs):
    torch.manual_seed(args.seed + rank)

    train_loader = torch.utils.data.DataLoader(dataset, **dataloader_kwargs)

    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    for epoch in range(1, args.epochs + 1):
        train_epoch(epoch, args, model, device, train_loader, optimizer)


def test(args, model, device, dataset, dataloader_kwargs):
    torch.manual_seed(args.seed)

    test_loader = torch.utils.data.DataLoader(dataset, **dataloader_kwargs)

    return test_epoch(model, device, test_loader)


def train_epoch(epoch, args, model, device, data_loader, optimizer):
    model.train()
    pid = os.getpid()
    for batch_idx, (data, target) in enumerate(data_loader):
        optimizer.zero_grad()
        output = model(data.to(device))
        loss = F.nll_loss(output, target.to(device))
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print('{}\tTrain Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                pid, epoch, batch_idx * len(data), len(data_loader.dataset),
                100. * batch_idx / len(data_loader), loss.item()))
            if args.dry_run:
                break


def test_epoch(model, device, data_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in data_loader:
            output = model(data.to(device))
            test_loss += F.nll_loss(output, target.to(device), reduction='sum').item()  # sum up batch loss
            pred = output.max(1)[1]  # get the index of the max log-probability
            correct += pred.eq(target.to(device)).sum().item()

    test_loss /= len(data_loader.dataset)
    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(data_loader.dataset),
        100. * correct / len(data_loader.dataset)))
    return test_loss, correct


# The program's own names, not tests of this file.
test.__test__ = test_epoch.__test__ = False


def hogwild_main(args, dataset1, dataset2, start_method='spawn'):
    """mnist_hogwild/main.py's __main__ (the datasets made by the caller): the model in
    shared memory, trained by `num_processes` processes, tested after."""
    use_cuda = args.cuda and torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")
    kwargs = {'batch_size': args.batch_size,
              'shuffle': True}
    if use_cuda:
        kwargs.update({'num_workers': 1,
                       'pin_memory': True,
                       })

    torch.manual_seed(args.seed)
    mp.set_start_method(start_method, force=True)

    model = Net().to(device)
    model.share_memory()  # gradients are allocated lazily, so they are not shared here
    initial = copy.deepcopy(model)

    processes = []
    for rank in range(args.num_processes):
        p = mp.Process(target=train, args=(rank, args, model, device,
                                           dataset1, kwargs))
        # We first train the model across `num_processes` processes
        p.start()
        processes.append(p)
    for p in processes:
        p.join()
    assert [p.exitcode for p in processes] == [0] * args.num_processes

    # Once training is complete, we can test the model
    return model, initial, test(args, model, device, dataset2, kwargs)


def hogwild_args(**changes):
    args = argparse.Namespace(batch_size=16, epochs=1, lr=0.05, momentum=0.5, seed=1,
                              log_interval=10, num_processes=2, cuda=False, dry_run=False)
    vars(args).update(changes)
    return args


def digits_like(n, seed=0):
    """(n, 1, 28, 28) images whose class is where their blob of ink sits."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    yy, xx = np.mgrid[0:28, 0:28]
    cy = (6 + 4 * (labels // 5) * 3 + rng.normal(0, 1, n))[:, None, None]
    cx = (4 + 5 * (labels % 5) + rng.normal(0, 1, n))[:, None, None]
    images = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0)[:, None].astype(np.float32)
    return torch.utils.data.TensorDataset(torch.tensor(images), torch.tensor(labels))


@pytest.fixture
def restore_start_method():
    method = mp.get_start_method(allow_none=True)
    yield
    mp.set_start_method(method, force=True)


def test_mnist_hogwild_children_train_the_parents_model(restore_start_method):
    args = hogwild_args(epochs=4)
    model, initial, (test_loss, correct) = hogwild_main(args, digits_like(96),
                                                        digits_like(64, seed=1))
    assert all(p.is_shared() for p in model.parameters())
    moved = [np.abs(p.detach().numpy() - q.detach().numpy()).max() for p, q in
             zip(model.parameters(), initial.parameters())]
    assert min(moved) > 0                 # every parameter was updated by the children
    before, correct_before = test(args, initial, torch.device("cpu"),
                                  digits_like(64, seed=1), {'batch_size': 16})
    assert test_loss < before and correct > correct_before


@pytest.mark.parametrize("start_method", ["spawn", "fork"])
def test_mnist_hogwild_one_child_trains_as_the_same_loop_in_process(start_method,
                                                                    restore_start_method):
    # One process: the child's updates, read through the shared memory, are bit for bit
    # those of the same training run here, from the same weights and seed.
    args = hogwild_args(num_processes=1, epochs=2)
    model, initial, _ = hogwild_main(args, digits_like(48), digits_like(16, seed=1),
                                     start_method)
    train(0, args, initial, torch.device("cpu"), digits_like(48),
          {'batch_size': args.batch_size, 'shuffle': True})
    for (name, p), q in zip(model.named_parameters(), initial.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=name)


def add_one_and_report(tensors, queue):
    for t in tensors:
        with torch.no_grad():
            t.add_(1)
    queue.put([(t.is_shared(), t.requires_grad, isinstance(t, nn.Parameter)) for t in tensors])


@pytest.mark.parametrize("start_method", ["spawn", "fork"])
def test_shared_tensors_are_the_same_memory_in_a_child_and_others_are_copies(start_method):
    ctx = mp.get_context(start_method)
    shared = torch.zeros(2, 3).share_memory_()
    view_of_shared = shared[1]
    param = nn.Parameter(torch.zeros(2)).share_memory_()
    private = torch.zeros(3)
    queue = ctx.Queue()
    child = ctx.Process(target=add_one_and_report,
                        args=([shared, view_of_shared, param, private], queue))
    child.start()
    seen = queue.get(timeout=60)
    child.join()
    assert child.exitcode == 0
    assert shared.tolist() == [[1.0] * 3, [2.0] * 3] and param.tolist() == [1.0, 1.0]
    assert private.tolist() == [0.0] * 3
    if start_method == "spawn":       # sent: shared ones as memory, the other as a copy
        assert seen == [(True, False, False), (True, False, False), (True, True, True),
                        (False, False, False)]
    with pytest.raises(torch.ArgumentError, match="share_memory_: .* view"):
        torch.zeros(4)[:2].share_memory_()
    with pytest.raises(TypeError, match="pickle"):
        __import__("pickle").dumps(shared)


def train_steps(model, dataset, steps, use_jit):
    """train_epoch's step (dropout on), over the first batches in order."""
    torch.manual_seed(5)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.5)

    def step(data, target):
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        return loss.detach()
    run = jit(step) if use_jit else step
    loader = torch.utils.data.DataLoader(dataset, batch_size=8)
    for _, (data, target) in zip(range(steps), loader):
        run(data, target)
    if use_jit:
        assert run.cache_info().hits == steps - 1


def test_a_jitted_hogwild_step_updates_the_shared_parameters_as_eager():
    torch.manual_seed(4)
    model = Net().share_memory()
    eager_copy = copy.deepcopy(model)
    child = mp.get_context("fork").Process(target=train_steps,
                                           args=(model, digits_like(32), 4, True))
    child.start()
    child.join()
    assert child.exitcode == 0     # its assert on the replays held too
    train_steps(eager_copy, digits_like(32), 4, use_jit=False)
    for (name, p), q in zip(model.named_parameters(), eager_copy.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5,
                                   atol=1e-7, err_msg=name)
    assert all(p.is_shared() for p in model.parameters())
