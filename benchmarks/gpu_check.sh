#!/usr/bin/env bash
# GPU verification of minigan in one pass, all results into one folder ($OUT, default
# ./gpu-results): the CUDA test suite, the GPU resume test, the step benchmark with the fused
# kernels switched on group by group (each group's effect measured in the same run), the
# per-layer GPU profile and a 2-epoch flagship run on the GPU.
#
#   bash benchmarks/gpu_check.sh                 # from the project root, on a machine with a
#                                                # CUDA GPU, CuPy, PyTorch and pytest
# Wheels of missing pure-Python packages can be put in ./.whl/ beforehand (installed into a
# private folder first). Typical wall time on an H100: about 4 minutes.
export PYTHONUNBUFFERED=1
OUT=${OUT:-$PWD/gpu-results}; mkdir -p "$OUT"
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/minigan-site .whl/*.whl || exit 9
  export PYTHONPATH=/tmp/minigan-site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import cupy, torch, numba, numpy, sys; print('python', sys.version.split()[0], 'cupy', cupy.__version__, 'torch', torch.__version__, 'numba', numba.__version__, 'numpy', numpy.__version__)"
  python3 -c "import minigan as mg; print('minigan sees a GPU:', mg.cuda_available())"
} 2>&1 | tee "$OUT/env.txt"
echo "=== CUDA test suite"
timeout 240 python3 -m pytest -q -p no:cacheprovider --device cuda --tb=short -ra 2>&1 \
  | tee "$OUT/pytest_cuda.txt" | tail -25
echo "=== resume on the GPU (--device auto)"
timeout 90 python3 -m pytest -q -p no:cacheprovider tests/test_examples.py -k resume --tb=short 2>&1 \
  | tee "$OUT/pytest_resume.txt" | tail -3
echo "=== step benchmark"
timeout 180 python3 benchmarks/bench_step.py --batch 64 128 512 --repeats 9 --no-memory --gpu-stages 2>&1 \
  | tee "$OUT/bench_step.txt" | tail -30
echo "=== layers on the GPU"
timeout 60 python3 benchmarks/bench_layers.py --device cuda --batch 64 512 2>&1 \
  | tee "$OUT/bench_layers_cuda.txt" | tail -3
echo "=== flagship, 2 epochs on the GPU"
timeout 60 python3 examples/mnist_dcgan.py --device cuda --epochs 2 --no-download --out /tmp/minigan-gpu-run 2>&1 \
  | tail -6 | tee "$OUT/flagship.txt"
cp /tmp/minigan-gpu-run/grid_latest.png benchmarks/results/gpu_flagship_grid.png 2>/dev/null
find benchmarks/results -type f -newer "$OUT/env.txt" -print0 | tar czf "$OUT/results.tgz" --null -T -
echo "done: results in $OUT"
