"""The mistakes PyTorch users actually make, one test each: the exception's class (a named
eager-jit error that is also the builtin PyTorch's users would catch), the key parts of
its message (the function or layer, the shapes, dtypes or sizes) and the user's line,
which must be the line of this file that made the mistake."""
from __future__ import annotations

import os
import warnings
from contextlib import contextmanager

import pytest

import eager
import eager.nn.functional as F
from eager import nn
from eager.nn.errors import MissingForwardError, ModuleError, StateDictError
from eager.utils.data import DataLoader
from eager.utils.data.errors import DataLoaderError

HERE = os.path.basename(__file__)


@contextmanager
def raises(kind: type, *parts: str):
    """pytest.raises(kind) whose message holds every one of `parts` and ends with this
    file's line that raised (the innermost frame of this file in the traceback)."""
    with pytest.raises(kind) as info:
        yield info
    message = str(info.value)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    line = [tb.tb_lineno for tb in _frames(info.tb) if tb.tb_frame.f_code.co_filename ==
            __file__][-1]
    assert f"(at {HERE}:{line}: " in message, message


def _frames(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


# ---- shapes ---------------------------------------------------------------------------

def test_matmul_of_misaligned_shapes():
    with raises(eager.ShapeError, "matmul", "(2, 3) and (4, 5)", "3 != 4"):
        eager.ones(2, 3) @ eager.ones(4, 5)


def test_add_of_shapes_that_do_not_broadcast():
    with raises(eager.ShapeError, "add", "(3, 4) and (5,)", "cannot be broadcast"):
        eager.ones(3, 4) + eager.ones(5)


def test_view_to_a_size_of_other_element_count():
    with raises(eager.ShapeError, "view", "(2, 3)", "(4, 2)"):
        eager.ones(2, 3).view(4, 2)


def test_view_of_a_non_contiguous_tensor_points_at_reshape():
    with raises(eager.ShapeError, "view", "not contiguous", "reshape()"):
        eager.ones(2, 3).t().view(6)


def test_reshape_with_two_inferred_dims():
    with raises(eager.ShapeError, "reshape", "only one dimension can be -1", "(-1, -1)"):
        eager.ones(2, 3).reshape(-1, -1)


def test_cat_names_the_tensor_and_dim_that_differ():
    with raises(eager.ShapeError, "concat", "tensor 1 has size 4 in dim 1 where tensor 0 has 3"):
        eager.cat([eager.ones(2, 3), eager.ones(2, 4)], 0)


def test_cat_of_tensors_with_different_numbers_of_dims():
    with raises(eager.ShapeError, "concat", "tensor 1 has 1 dims but tensor 0 has 2"):
        eager.cat([eager.ones(2, 3), eager.ones(3)], 0)


def test_stack_of_different_shapes():
    with raises(eager.ShapeError, "stack", "[(2, 3), (2, 4)]"):
        eager.stack([eager.ones(2, 3), eager.ones(2, 4)])


def test_expand_to_a_smaller_size():
    with raises(eager.ShapeError, "expand", "(2, 3) to (2, 2)"):
        eager.ones(2, 3).expand(2, 2)


@pytest.mark.parametrize("call, op, axis, valid", [
    (lambda x: x.squeeze(5), "squeeze", 5, "[-2, 1]"),
    (lambda x: x.unsqueeze(4), "unsqueeze", 4, "with 2 dims (a new axis goes in [-3, 2])"),
    (lambda x: x.transpose(0, 2), "transpose", 2, "[-2, 1]"),
    (lambda x: x.permute(0, 2), "permute", 2, "[-2, 1]"),
    (lambda x: x.sum(dim=-3), "sum", -3, "[-2, 1]"),
])
def test_dim_out_of_range_is_an_index_error_giving_the_valid_range(call, op, axis, valid):
    # PyTorch raises IndexError("Dimension out of range (expected to be in range of ...)").
    with pytest.raises(eager.IndexOutOfRangeError) as info:
        call(eager.ones(2, 3))
    assert isinstance(info.value, IndexError) and isinstance(info.value, eager.ShapeError)
    message = str(info.value)
    assert message.startswith(f"{op}: axis {axis} is out of range") and valid in message
    assert f"(at {HERE}:" in message


def test_index_select_with_a_float_index():
    with raises(eager.DTypeError, "index_select", "integer", "float32[2]"):
        eager.index_select(eager.ones(3, 4), 0, eager.tensor([0.0, 1.0]))


def test_index_select_with_a_2d_index_is_a_shape_error():
    with raises(eager.ShapeError, "index_select", "0-D or 1-D", "int64[1, 2]", "reshape(-1)"):
        eager.index_select(eager.ones(3, 4), 0, eager.tensor([[0, 1]]))


def test_gather_with_a_float_index():
    with raises(eager.DTypeError, "gather", "index must be integer, got float32"):
        eager.gather(eager.ones(3, 4), 1, eager.ones(3, 1))


def test_scatter_add_with_a_float_index():
    with raises(eager.DTypeError, "scatter_add", "index must be integer, got float32"):
        eager.ones(3).scatter_add(0, eager.tensor([0.0, 1.0]), eager.ones(2))


def test_an_int_index_past_the_end_is_an_index_error():
    x = eager.ones(3, 4)
    with raises(IndexError, "index 5 is out of bounds for axis 0 with size 3", "(3, 4)"):
        x[5]
    with raises(eager.IndexOutOfRangeError, "index 7 is out of bounds for axis 1 with size 4"):
        x[0, 7]


def test_an_index_tensor_past_the_end_is_an_index_error_naming_the_axis_and_size():
    x = eager.ones(3, 4)
    with raises(eager.IndexOutOfRangeError, "index(float32[3, 4], int64[2])",
                "index 9 is out of bounds for axis 0 with size 3"):
        x[eager.tensor([0, 9])]
    with raises(IndexError, "index_set(", "index 9 is out of bounds for axis 0 with size 3"):
        x[eager.tensor([0, 9])] = 1.0


def test_a_boolean_mask_of_the_wrong_shape():
    with raises(IndexError, "boolean mask of shape (2,)", "indexed dims (3,)", "(3, 4)"):
        eager.ones(3, 4)[eager.tensor([True, False])]


def test_masked_fill_names_itself_when_the_mask_does_not_broadcast():
    with raises(eager.ShapeError, "masked_fill: shapes (4,) and (2, 3) cannot be broadcast"):
        eager.ones(2, 3).masked_fill(eager.tensor([True, False, True, False]), 0.0)


# ---- dtypes ---------------------------------------------------------------------------

def test_inplace_result_that_cannot_be_cast_back():
    x = eager.tensor([1, 2, 3])
    with raises(eager.DTypeError, "add_", "float32", "int64"):
        x += 0.5


def test_cross_entropy_with_float_targets_of_the_wrong_shape():
    with raises(eager.DTypeError, "cross_entropy", "integer class indices", "float32",
                "target.long()", "(4, 3)"):
        F.cross_entropy(eager.ones(4, 3), eager.ones(4))


def test_nll_loss_with_a_float_target():
    with raises(eager.DTypeError, "nll_loss", "integer class indices", "float32"):
        F.nll_loss(eager.ones(4, 3), eager.tensor([0.0, 1.0, 2.0, 0.0]))


def test_mse_loss_shape_mismatch_says_why_it_is_not_broadcast():
    # PyTorch warns and broadcasts (4, 1) with (4,) to (4, 4); here it is an error.
    with raises(eager.ShapeError, "mse_loss", "(4, 1)", "(4,)", "PyTorch broadcasts them",
                "target.reshape((4, 1))"):
        F.mse_loss(eager.ones(4, 1), eager.ones(4))


def test_embedding_with_float_indices():
    with raises(eager.DTypeError, "embedding", "integers", "float32"):
        nn.Embedding(10, 3)(eager.tensor([1.0, 2.0]))


def test_matmul_of_int_and_float_follows_the_category_rule():
    """Not a mistake here (PyTorch refuses it): DESIGN.md's promotion rule lets an integer
    tensor meet a float one and keep the float dtype, in matmul as in add."""
    out = eager.tensor([[1, 2]]) @ eager.ones(2, 2)
    assert out.dtype == eager.float32 and out.tolist() == [[3.0, 3.0]]


def test_negating_a_mask_points_at_logical_not():
    with raises(eager.DTypeError, "neg", "bool", "~x or logical_not(x)"):
        -eager.tensor([True, False])


def test_subtracting_masks_points_at_xor():
    with raises(eager.DTypeError, "sub", "bool", "a ^ b or logical_xor(a, b)"):
        eager.tensor([True, False]) - eager.tensor([True, True])


# ---- autograd -------------------------------------------------------------------------

def test_backward_twice_without_retain_graph():
    x = eager.ones(3, requires_grad=True)
    y = x.exp().sum()
    y.backward()
    with raises(eager.AutogradError, "SumBackward", "second time", "retain_graph=True"):
        y.backward()


def test_backward_of_a_non_scalar_without_gradient():
    x = eager.ones(3, requires_grad=True)
    with raises(eager.AutogradError, "backward", "scalar outputs", "(3,)", "gradient="):
        (x * 2).backward()


def test_reading_grad_of_a_non_leaf_warns_at_the_users_line():
    x = eager.ones(3, requires_grad=True)
    y = x * 2
    y.sum().backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
    assert len(caught) == 1 and caught[0].category is UserWarning
    assert caught[0].filename == __file__
    assert "non-leaf" in str(caught[0].message) and "MulBackward" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad.tolist() == [2.0, 2.0, 2.0]   # a leaf's .grad never warns


def test_assigning_an_integer_grad():
    x = eager.ones(3, requires_grad=True)
    with raises(eager.DTypeError, "grad", "int64", "float32"):
        x.grad = eager.tensor([1, 2, 3])


def test_inplace_on_a_leaf_that_requires_grad():
    x = eager.ones(3, requires_grad=True)
    with raises(eager.AutogradError, "mul_", "leaf tensor of shape (3,)", "no_grad"):
        x.mul_(2)


def test_inplace_change_to_a_saved_tensor_names_the_op_and_its_line():
    x = eager.ones(3, requires_grad=True)
    z = (x * 1).exp()
    line = _line() + 1  # the in-place line, the one the error names
    z.mul_(2)
    with raises(eager.AutogradError, "ExpBackward", "modified by an in-place operation",
                "version 0 -> 1", f"last by mul_ (at {HERE}:{line}: z.mul_(2)"):
        z.sum().backward()


def _line() -> int:
    import sys
    return sys._getframe(1).f_lineno


def test_numpy_of_a_tensor_that_requires_grad():
    with raises(eager.AutogradError, "numpy", "requires grad", "detach().numpy()"):
        eager.ones(3, requires_grad=True).numpy()


def test_requires_grad_on_an_int_tensor():
    with raises(eager.DTypeError, "requires_grad_", "floating", "int64"):
        eager.tensor([1, 2]).requires_grad_()


def test_no_grad_without_parentheses_in_a_with_statement():
    with raises(TypeError, "no_grad", "with eager.no_grad():"), eager.no_grad:
        pass
    with raises(eager.ArgumentError, "enable_grad", "with eager.enable_grad():"), \
            eager.enable_grad:
        pass


def test_no_grad_given_an_argument():
    with raises(eager.ArgumentError, "no_grad: takes no arguments, got True",
                "set_grad_enabled(mode)"):
        eager.no_grad(True)


def test_no_grad_as_a_bare_decorator_works_as_in_pytorch():
    @eager.no_grad
    def double(x):
        return x * 2
    assert not double(eager.ones(2, requires_grad=True)).requires_grad


def test_set_grad_enabled_with_a_non_bool():
    with raises(eager.ArgumentError, "set_grad_enabled", "bool", "str"):
        eager.set_grad_enabled("yes")


# ---- nn -------------------------------------------------------------------------------

def test_linear_fed_the_wrong_feature_size_names_the_layer():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(4, 2))
    with raises(eager.ShapeError, "Linear(in_features=4, out_features=2", "(2, 3)",
                "has 3 features", "in_features=4"):
        model(eager.ones(2, 4))


def test_functional_linear_counts_features_as_a_number():
    with raises(eager.ShapeError, "linear", "has 5 features", "(3, 4) expects 4"):
        F.linear(eager.ones(2, 5), eager.ones(3, 4))


def test_conv2d_with_the_wrong_channels():
    with raises(eager.ShapeError, "Conv2d(3, 8, kernel_size=(3, 3))", "(1, 4, 8, 8)",
                "has 4 channels", "in_channels=3"):
        nn.Conv2d(3, 8, 3)(eager.ones(1, 4, 8, 8))
    with raises(eager.ShapeError, "conv2d", "the input has 4 channels but the weight expects 3"):
        F.conv2d(eager.ones(1, 4, 8, 8), eager.ones(8, 3, 3, 3))


def test_conv2d_with_a_2d_input():
    # a 3-D input is an unbatched (C, H, W), as in PyTorch (tests/test_torch_parity_small.py)
    with raises(eager.ShapeError, "Conv2d(1, 8", "4-D (N, C, H, W)", "(8, 8)", "unsqueeze(0)"):
        nn.Conv2d(1, 8, 3)(eager.ones(8, 8))


def test_batch_norm_with_one_value_per_channel_in_training():
    with raises(eager.ShapeError, "batch_norm", "more than one value per channel", "(1, 3)"):
        nn.BatchNorm1d(3)(eager.ones(1, 3))


def test_batch_norm_with_the_wrong_channels_names_the_layer():
    with raises(eager.ShapeError, "BatchNorm2d(3)", "(2, 4, 5, 5)", "4 channels",
                "num_features=3"):
        nn.BatchNorm2d(3)(eager.ones(2, 4, 5, 5))


def test_load_state_dict_with_missing_and_unexpected_keys():
    model = nn.Linear(2, 3)
    state = model.state_dict()
    state["foo"] = state.pop("bias")
    with raises(StateDictError, "Linear", "missing keys ['bias']", "unexpected keys ['foo']"):
        model.load_state_dict(state)


def test_load_state_dict_lists_every_shape_mismatch():
    with raises(eager.ShapeError, "load_state_dict: Linear",
                "'weight' has shape (4, 2) in the state dict but (3, 2) in the model",
                "'bias' has shape (4,) in the state dict but (3,) in the model"):
        nn.Linear(2, 3).load_state_dict(nn.Linear(2, 4).state_dict())


def test_register_buffer_over_a_parameter():
    model = nn.Linear(2, 3)
    with raises(ModuleError, "register_buffer", "Linear already has a parameter named "
                                                "'weight'"):
        model.register_buffer("weight", eager.ones(2))
    assert isinstance(model.weight, nn.Parameter)


def test_a_module_without_forward():
    class Net(nn.Module):
        def forwrad(self, x):
            return x

    with raises(MissingForwardError, "Net has no forward()"):
        Net()(eager.ones(2))
    assert issubclass(MissingForwardError, NotImplementedError)


def test_calling_a_module_with_the_wrong_arguments_names_it_and_its_forward():
    with raises(ModuleError, "Linear: forward(x) was called with (Tensor, Tensor)",
                "too many positional arguments"):
        nn.Linear(2, 3)(eager.ones(1, 2), eager.ones(1, 2))
    assert issubclass(ModuleError, TypeError)


def test_a_type_error_inside_forward_is_left_as_it_is():
    class Net(nn.Module):
        def forward(self, x):
            return len(x)

    with pytest.raises(TypeError, match="has no len") as info:
        Net()(3)
    assert not isinstance(info.value, ModuleError)


def test_optimizer_given_a_non_parameter():
    with raises(eager.ArgumentError, "SGD", "parameter 1 is a int"):
        eager.optim.SGD([eager.ones(2, requires_grad=True), 3], lr=0.1)


def test_optimizer_given_an_empty_list():
    with raises(eager.ArgumentError, "SGD", "empty parameter list"):
        eager.optim.SGD([], lr=0.1)


def test_dataloader_collate_of_ragged_tensors():
    with raises(DataLoaderError, "default_collate", "[(3,), (4,)]", "collate_fn="):
        list(DataLoader([eager.ones(3), eager.ones(4)], batch_size=2))


def test_dataloader_collate_of_dicts_with_different_keys():
    samples = [{"a": eager.ones(2)}, {"b": eager.ones(2)}]
    with raises(DataLoaderError, "default_collate", "sample 1 has keys ['b']", "['a']"):
        list(DataLoader(samples, batch_size=2))


def test_dataloader_collate_of_a_field_of_mixed_kinds():
    samples = [(eager.ones(2), 1), (eager.ones(2), "x")]
    with raises(DataLoaderError, "default_collate", "sample 1 is of type str",
                "sample 0 of type int"):
        list(DataLoader(samples, batch_size=2))


def test_dataloader_of_something_that_is_not_a_dataset():
    with raises(DataLoaderError, "DataLoader", "type int", "__getitem__"):
        DataLoader(5, batch_size=2)
