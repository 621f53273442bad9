"""pytorch/examples' reinforcement_learning programs (REINFORCE and actor-critic) in their
own style, written once and run with `import eager as torch` and with torch itself, on a
small CartPole whose physics is written below in numpy (gym is not needed: the
environment is test data). With torch installed, the same initial weights and the same
actions must give the same losses and the same trained weights."""
from collections import deque, namedtuple
from itertools import count

import numpy as np
import pytest

import eager
import eager.nn.functional as eager_F
from eager import distributions, nn, optim

SEED, GAMMA = 543, 0.99


class CartPole:
    """Gym's CartPole-v1 physics (Euler steps of 0.02 s; the episode ends when the cart
    leaves +-2.4 or the pole tips past 12 degrees, or after max_steps)."""

    gravity, mass_cart, mass_pole, half_length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    theta_limit, x_limit = 12 * 2 * np.pi / 360, 2.4

    def __init__(self, max_steps=500):
        self.max_steps = max_steps
        self.rng = np.random.default_rng()

    def reset(self, seed=None):
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.state, self.steps = self.rng.uniform(-0.05, 0.05, 4), 0
        return self.state.astype(np.float32), {}

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if action == 1 else -self.force_mag
        total_mass = self.mass_cart + self.mass_pole
        pole_ml = self.mass_pole * self.half_length
        cos, sin = np.cos(theta), np.sin(theta)
        temp = (force + pole_ml * theta_dot ** 2 * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.half_length * (4.0 / 3.0 - self.mass_pole * cos ** 2 / total_mass))
        x_acc = temp - pole_ml * theta_acc * cos / total_mass
        self.state = np.array([x + self.tau * x_dot, x_dot + self.tau * x_acc,
                               theta + self.tau * theta_dot, theta_dot + self.tau * theta_acc])
        self.steps += 1
        terminated = bool(abs(self.state[0]) > self.x_limit
                          or abs(self.state[2]) > self.theta_limit)
        return self.state.astype(np.float32), 1.0, terminated, self.steps >= self.max_steps, {}


def test_cartpole_physics_fall_over_without_control():
    env = CartPole()
    state, _ = env.reset(seed=0)
    steps = 0
    for steps in count(1):
        state, reward, terminated, _, _ = env.step(1)
        if terminated:
            break
    assert 5 < steps < 60 and reward == 1.0 and state.dtype == np.float32
    assert abs(state[0]) > 2.4 or abs(state[2]) > CartPole.theta_limit


# ---- reinforce.py -------------------------------------------------------------------

def reinforce(torch, n_episodes, p_drop=0.6, state_dict=None, actions=None):
    """reinforce.py's program; `actions`, when given, replaces each m.sample() (so torch
    can replay eager's episodes). Returns losses, actions taken, rewards and the policy."""
    nn, optim, F = torch.nn, torch.optim, torch.nn.functional
    Categorical = torch.distributions.Categorical

    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.affine1 = nn.Linear(4, 128)
            self.dropout = nn.Dropout(p=p_drop)
            self.affine2 = nn.Linear(128, 2)
            self.saved_log_probs = []
            self.rewards = []

        def forward(self, x):
            x = self.affine1(x)
            x = self.dropout(x)
            x = F.relu(x)
            action_scores = self.affine2(x)
            return F.softmax(action_scores, dim=1)

    torch.manual_seed(SEED)
    policy = Policy()
    if state_dict is not None:
        policy.load_state_dict({k: torch.tensor(v) for k, v in state_dict.items()})
    optimizer = optim.Adam(policy.parameters(), lr=1e-2)
    eps = np.finfo(np.float32).eps.item()
    taken, losses = [], []
    replay = iter(actions) if actions is not None else None

    def select_action(state):
        state = torch.from_numpy(state).float().unsqueeze(0)
        probs = policy(state)
        m = Categorical(probs)
        action = m.sample() if replay is None else torch.tensor([next(replay)])
        policy.saved_log_probs.append(m.log_prob(action))
        return action.item()

    def finish_episode():
        R = 0
        policy_loss = []
        returns = deque()
        for r in policy.rewards[::-1]:
            R = r + GAMMA * R
            returns.appendleft(R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        for log_prob, R in zip(policy.saved_log_probs, returns):
            policy_loss.append(-log_prob * R)
        optimizer.zero_grad()
        policy_loss = torch.cat(policy_loss).sum()
        policy_loss.backward()
        optimizer.step()
        del policy.rewards[:]
        del policy.saved_log_probs[:]
        return policy_loss.item()

    env = CartPole()
    running_reward, episode_rewards = 10, []
    for i_episode in range(n_episodes):
        state, _ = env.reset(seed=SEED + i_episode)
        ep_reward = 0
        for _ in range(1, 10000):
            action = select_action(state)
            taken.append(action)
            state, reward, terminated, truncated, _ = env.step(action)
            policy.rewards.append(reward)
            ep_reward += reward
            if terminated or truncated:
                break
        running_reward = 0.05 * ep_reward + (1 - 0.05) * running_reward
        episode_rewards.append(ep_reward)
        losses.append(finish_episode())
    return losses, taken, episode_rewards, policy


def _weights(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


def test_reinforce_runs_episodes_and_trains_the_policy():
    before = _weights(reinforce(eager, 0)[3])
    losses, taken, rewards, policy = reinforce(eager, 4)
    assert len(losses) == 4 and all(np.isfinite(losses)) and set(taken) <= {0, 1}
    assert sum(rewards) == len(taken) and min(rewards) >= 8  # a random policy lasts ~20 steps
    assert policy.saved_log_probs == [] and policy.rewards == []
    after = _weights(policy)
    assert all(not np.array_equal(before[k], after[k]) for k in before)
    again = reinforce(eager, 4)
    assert again[1] == taken and again[0] == losses  # manual_seed makes the run reproducible


def test_reinforce_losses_and_weights_match_torch():
    ref = pytest.importorskip("torch")
    initial = _weights(reinforce(eager, 0, p_drop=0.0)[3])
    losses, taken, _, policy = reinforce(eager, 3, p_drop=0.0, state_dict=initial)
    ref_losses, ref_taken, _, ref_policy = reinforce(ref, 3, p_drop=0.0, state_dict=initial,
                                                     actions=taken)
    assert ref_taken == taken
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-4, atol=1e-4)
    ours, theirs = _weights(policy), _weights(ref_policy)
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-3, atol=1e-4, err_msg=k)


def _episode_states(taken, rewards):
    """The states the program saw: CartPole replayed with the same seeds and actions."""
    env, actions, episodes = CartPole(), iter(taken), []
    for i_episode, length in enumerate(rewards):
        states = [env.reset(seed=SEED + i_episode)[0]]
        for _ in range(int(length) - 1):
            states.append(env.step(next(actions))[0])
        next(actions)
        episodes.append(np.stack(states))
    return episodes


def test_reinforce_update_as_one_jitted_step_matches_the_program():
    """The usual rewrite for @jit: finish_episode recomputes the log-probs of the saved
    states in one batch inside the step (a jitted function cannot hand back tensors with
    autograd history to a later backward). Same losses and weights as the program, and a
    second pass over the episodes replays the compiled steps and equals eager."""
    from jit import jit

    initial = _weights(reinforce(eager, 0, p_drop=0.0)[3])
    losses, taken, rewards, program_policy = reinforce(eager, 3, p_drop=0.0, state_dict=initial)
    eps = np.finfo(np.float32).eps.item()

    def make_step():
        policy = reinforce(eager, 0, p_drop=0.0, state_dict=initial)[3]
        optimizer = optim.Adam(policy.parameters(), lr=1e-2)

        def finish_episode(states, actions, returns):
            m = distributions.Categorical(policy(states))
            returns = (returns - returns.mean()) / (returns.std() + eps)
            loss = (-m.log_prob(actions) * returns).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.detach()
        return finish_episode, policy

    batches, start = [], 0
    for states, length in zip(_episode_states(taken, rewards), rewards):
        n = int(length)
        returns = [sum(GAMMA ** k for k in range(n - t)) for t in range(n)]
        batches.append((eager.tensor(states), eager.tensor(taken[start:start + n]),
                        eager.tensor(returns)))
        start += n
    (eager_step, eager_policy), (jit_step, jit_policy) = make_step(), make_step()
    jit_step = jit(jit_step)
    first = [jit_step(*b).item() for b in batches]
    np.testing.assert_allclose(first, losses, rtol=1e-4, atol=1e-5)
    ours, program = _weights(jit_policy), _weights(program_policy)
    for k in ours:
        np.testing.assert_allclose(ours[k], program[k], rtol=1e-4, atol=1e-5, err_msg=k)
    for b in batches:
        eager_step(*b)
    for b in batches:
        np.testing.assert_allclose(jit_step(*b).item(), eager_step(*b).item(), rtol=1e-4,
                                   atol=1e-5)
    lengths = len(set(rewards))  # one trace per episode length; every other call replays
    assert jit_step.cache_info().misses == lengths
    assert jit_step.cache_info().hits == 2 * len(rewards) - lengths
    for k, v in _weights(eager_policy).items():
        np.testing.assert_allclose(_weights(jit_policy)[k], v, rtol=1e-4, atol=1e-5, err_msg=k)


# ---- actor_critic.py ----------------------------------------------------------------

def actor_critic(torch, n_episodes, state_dict=None, actions=None):
    """actor_critic.py's program, with the same `actions` hook as reinforce()."""
    nn, optim, F = torch.nn, torch.optim, torch.nn.functional
    Categorical = torch.distributions.Categorical
    SavedAction = namedtuple("SavedAction", ["log_prob", "value"])

    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.affine1 = nn.Linear(4, 128)
            self.action_head = nn.Linear(128, 2)
            self.value_head = nn.Linear(128, 1)
            self.saved_actions = []
            self.rewards = []

        def forward(self, x):
            x = F.relu(self.affine1(x))
            action_prob = F.softmax(self.action_head(x), dim=-1)
            state_values = self.value_head(x)
            return action_prob, state_values

    torch.manual_seed(SEED)
    model = Policy()
    if state_dict is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in state_dict.items()})
    optimizer = optim.Adam(model.parameters(), lr=3e-2)
    eps = np.finfo(np.float32).eps.item()
    taken, losses = [], []
    replay = iter(actions) if actions is not None else None

    def select_action(state):
        state = torch.from_numpy(state).float()
        probs, state_value = model(state)
        m = Categorical(probs)
        action = m.sample() if replay is None else torch.tensor(next(replay))
        model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
        return action.item()

    def finish_episode():
        R = 0
        saved_actions = model.saved_actions
        policy_losses = []
        value_losses = []
        returns = []
        for r in model.rewards[::-1]:
            R = r + GAMMA * R
            returns.insert(0, R)
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        for (log_prob, value), R in zip(saved_actions, returns):
            advantage = R - value.item()
            policy_losses.append(-log_prob * advantage)
            value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
        optimizer.zero_grad()
        loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
        loss.backward()
        optimizer.step()
        del model.rewards[:]
        del model.saved_actions[:]
        return loss.item()

    env = CartPole()
    for i_episode in range(n_episodes):
        state, _ = env.reset(seed=SEED + i_episode)
        for _ in range(1, 10000):
            action = select_action(state)
            taken.append(action)
            state, reward, terminated, truncated, _ = env.step(action)
            model.rewards.append(reward)
            if terminated or truncated:
                break
        losses.append(finish_episode())
    return losses, taken, model


def test_actor_critic_runs_episodes_and_trains_both_heads():
    before = _weights(actor_critic(eager, 0)[2])
    losses, taken, model = actor_critic(eager, 4)
    assert len(losses) == 4 and all(np.isfinite(losses)) and set(taken) <= {0, 1}
    after = _weights(model)
    assert not np.array_equal(before["value_head.weight"], after["value_head.weight"])
    assert not np.array_equal(before["action_head.weight"], after["action_head.weight"])
    assert model.saved_actions == []


def test_actor_critic_losses_and_weights_match_torch():
    ref = pytest.importorskip("torch")
    initial = _weights(actor_critic(eager, 0)[2])
    losses, taken, model = actor_critic(eager, 3, state_dict=initial)
    ref_losses, ref_taken, ref_model = actor_critic(ref, 3, state_dict=initial, actions=taken)
    assert ref_taken == taken
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-4, atol=1e-4)
    ours, theirs = _weights(model), _weights(ref_model)
    for k in ours:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-3, atol=1e-4, err_msg=k)


def test_the_programs_gaps_stay_closed():
    """What the two programs lean on beyond the distribution: `torch.tensor` of a deque
    and of a list holding a 0-d tensor, iterating a tensor into 0-d tensors, unbiased
    `std`, and smooth_l1_loss of shape-(1,) tensors."""
    returns = eager.tensor(deque([1.0, 2.0, 3.0]))
    assert returns.dtype == np.float32 and returns.std().item() == pytest.approx(1.0)
    items = list(returns)
    assert items[0].shape == () and eager.tensor([items[1]]).tolist() == [2.0]
    value = nn.Linear(2, 1)(eager.ones(2))
    loss = eager_F.smooth_l1_loss(value, eager.tensor([items[2]]))
    loss.backward()
    assert loss.shape == () and value.shape == (1,)
    m = distributions.Categorical(eager.tensor([[0.3, 0.7]]))
    assert m.sample().shape == (1,) and m.log_prob(eager.tensor([1])).shape == (1,)
    assert isinstance(optim.Adam([eager.zeros(1, requires_grad=True)]), optim.Optimizer)
