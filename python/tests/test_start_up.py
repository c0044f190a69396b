"""Importing the module loads no CUDA library: a Python learner that steps our tasks pays
nothing for the CUDA backend it does not use (cuBLAS opens when a CUDA backend is made)."""
import subprocess
import sys


def test_import_loads_no_cuda_library():
    # a fresh interpreter: other tests in this process may have made a CUDA backend
    probe = "import sac_engine; print(open('/proc/self/maps').read())"
    maps = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout
    assert "libmujoco" in maps  # the map is real: the module links MuJoCo
    for cuda in ("libcublas", "libcudart", "libcuda.so", "libcurand"):
        assert cuda not in maps, f"import sac_engine loaded {cuda}"
