"""The Makefile written beside an exported model: `libmodel.so` and `model_cli` from
model.c with the same optimization flags @jit compiles its kernels with.

>>> "SANITIZE" in makefile("-O2")
True
"""
from __future__ import annotations

_TEMPLATE = """\
# Builds the exported model: libmodel.so and model_cli. Needs only a C compiler and libm.
#   make              optimized build
#   make BLAS=1       matmul through a CBLAS (BLAS_LIBS=-lopenblas by default)
#   make SANITIZE=1   -fsanitize=address,undefined, for testing
CC ?= cc
CFLAGS ?= @FLAGS@
LDLIBS = -lm
BLAS_LIBS ?= -lopenblas
ifeq ($(BLAS),1)
CFLAGS += -DMODEL_USE_BLAS
LDLIBS += $(BLAS_LIBS)
endif
ifeq ($(SANITIZE),1)
CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif

all: libmodel.so model_cli

libmodel.so: model.c model.h
\t$(CC) $(CFLAGS) -fPIC -shared model.c -o $@ $(LDLIBS)

model_cli: model_cli.c model.c model.h
\t$(CC) $(CFLAGS) model_cli.c model.c -o $@ $(LDLIBS)

clean:
\trm -f libmodel.so model_cli

.PHONY: all clean
"""


def makefile(flags: str) -> str:
    """The Makefile text with `flags` as the default CFLAGS."""
    return _TEMPLATE.replace("@FLAGS@", flags)
