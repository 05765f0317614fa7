"""PyInstaller runtime hook: tells Paddle where its bundled MKL/oneDNN libraries are.

PyInstaller moves Paddle's shared libraries, so Paddle's own guess of `paddle/libs` (next to its
core module) fails at the first convolution ("libmklml_intel.so: cannot open shared object file").
This runs before any application code, in the main process and in spawned worker processes.
"""

import os
import sys

_base = getattr(sys, "_MEIPASS", None)
if _base:
    _libs = os.path.join(_base, "paddle", "libs")
    if os.path.isdir(_libs):
        os.environ.setdefault("FLAGS_mklml_dir", _libs)
    os.environ.setdefault("GLOG_minloglevel", "2")  # keep Paddle's C++ info lines off the console
