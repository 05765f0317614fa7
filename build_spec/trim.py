"""What the bundle leaves out (used by radlabel.spec; tests/test_bundle_trim.py checks it).

Every entry was measured as never loaded or imported by the product: a run of the bundle's
self-test under `LD_DEBUG=files`, and, from source, importing every `viewer` / `segmentation_core`
module, importing paddle, and calling the scikit-image functions the product calls
(`skimage.measure.marching_cubes`, `skimage.segmentation.watershed`), then listing
`sys.modules`. Nothing here is a library the product loads: libmklml_intel.so, for instance,
stays (without it the AI click fails: "libmklml_intel.so: cannot open shared object file").
`paddle.distributed` also stays: `import paddle` imports it (333 modules).

The 800 MB target of issue 19 is out of reach by leaving files out (measured 2026-12-01 on the
1,432 MB bundle): 1,370 MB of its 1,396 MB of shared objects are loaded while
scripts/check_bundle.sh runs, and five of them alone are 850 MB (_SimpleITK 272, libpaddle 267,
libmklml_intel 130, libphi_core 118, libdnnl 64; `strip --strip-unneeded` gains 0.2 MB on
_SimpleITK). They compress well (gzip -6: 209 MB, zstd -19: 138 MB), so an executable packer
such as UPX could bring the folder under 800 MB, at the price of holding each packed library
wholly in private memory in every process (258 MB of the 850 MB were resident after an image
read and a Predictor run); Debian 12 (bookworm) has no upx-ucl package and PyPI no UPX, so this
was not tried.
"""

from __future__ import annotations

import os

# Python modules PyInstaller would collect (scikit-image's hook collects all of scikit-image,
# which pulls in most of SciPy) that the product never imports; their extension modules and
# the libraries only they need go too.
EXCLUDED_MODULES = (
    # never loaded, or optional paths the product does not offer
    "vtk", "tkinter", "matplotlib", "IPython", "pytest", "PyQt5.QtWebEngineWidgets",
    "cryptography", "OpenSSL", "PyQt5.QtQml", "PyQt5.QtQuick",
    # SciPy: the product uses scipy.ndimage (and scikit-image uses linalg, sparse, spatial,
    # special); these subpackages are never imported
    "scipy.cluster", "scipy.fft", "scipy.fftpack", "scipy.integrate", "scipy.interpolate",
    "scipy.io", "scipy.odr", "scipy.optimize", "scipy.signal", "scipy.sparse.csgraph",
    "scipy.sparse.linalg", "scipy.stats", "scipy.datasets", "scipy.misc",
    # scikit-image: the product calls measure.marching_cubes and segmentation.watershed only
    "skimage.color", "skimage.feature", "skimage.filters.rank", "skimage.metrics",
    "skimage.restoration", "skimage.transform", "skimage.graph", "skimage.future",
    "skimage.registration", "skimage.io", "skimage.data", "networkx",
    # Pillow's AVIF / WebP / Tk support (DICOM and the product's images never use them)
    "PIL._avif", "PIL.AvifImagePlugin", "PIL._webp", "PIL.WebPImagePlugin", "PIL._imagingtk",
    "PIL.ImageTk",
)  # fmt: skip

# kept although PyInstaller cannot see them: skimage.measure._pnpoly (compiled, reached from
# segmentation.watershed) imports skimage._shared.geometry; only the hook of the excluded
# skimage.transform named it ("No module named 'skimage._shared.geometry'" in the classic engine)
HIDDEN_IMPORTS = ("skimage._shared.geometry", "skimage._shared.transform")

# never loaded: OpenVINO's CPU plugin (Paddle runs its own oneDNN kernels; libopenvino itself is
# linked by libpaddle.so and stays)
UNUSED_LIBS = ("libopenvino_intel_cpu_plugin.so",)

QT_PLUGINS_KEPT = ("platforms/libqxcb", "platforms/libqoffscreen", "platforms/libqwayland",
                   "platforms/libqminimal.", "xcbglintegrations", "platformthemes", "iconengines",
                   "imageformats", "platforminputcontexts", "wayland-")  # fmt: skip


def is_excluded(module: str) -> bool:
    """True when `module` is one of EXCLUDED_MODULES or inside one of them."""
    return any(module == m or module.startswith(m + ".") for m in EXCLUDED_MODULES)


def wanted(dest: str) -> bool:
    """False for a collected file (its path in the bundle) that the product never loads."""
    d = dest.replace(os.sep, "/")
    if os.path.basename(d) in UNUSED_LIBS or "/Qt5/translations/" in d:
        return False
    if "/Qt5/plugins/" in d:
        return any(k in d for k in QT_PLUGINS_KEPT)
    if any(f"/Qt5/lib/libQt5{m}." in d for m in ("Qml", "QmlModels", "Quick", "WebSockets")):
        return False  # only the WebGL platform plugin uses them
    return not d.endswith((".h", ".hpp", ".a"))  # (.pyi stubs stay: skimage loads lazily from them)
