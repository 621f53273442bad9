"""Eager functions over Tensors, grouped by kind; each one ends in `dispatch.apply`."""
