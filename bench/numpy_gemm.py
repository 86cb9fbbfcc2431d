"""The machine's own float32 GEMM, the ceiling our GEMMs are set against: numpy's `a @ b` on float32
arrays of each shape (m x k) (k x n), all shapes in one process. Called by bench/machine_gemm.ts,
which sets OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS to the machine's cores.

Reads JSON on stdin: {"shapes": [[m, n, k], ...], "seconds": S, "samples": R}. For each shape: a
warm-up, then calls per sample sized so that a sample takes about S / R seconds, then R timed
samples; the shape's time is the median over the samples of the seconds per call.

Prints one JSON object: {"python", "numpy", "blas", "threads", "shapes": [{"m", "n", "k",
"seconds", "calls_per_sample", "samples"}, ...]} with shapes in the order given."""
import json
import os
import statistics
import sys
import time

import numpy as np


def blas_name():
    """What numpy says it links against, or None."""
    try:
        blas = np.show_config(mode='dicts')['Build Dependencies']['blas']
        return ' '.join(str(v) for v in (blas.get('name'), blas.get('version')) if v)
    except Exception:
        pass
    try:
        info = np.__config__.get_info('blas_opt_info')
        return ','.join(info.get('libraries', [])) or None
    except Exception:
        return None


def measure(m, n, k, seconds, samples, rng):
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    for _ in range(2):
        a @ b
    per_sample = seconds / samples
    calls = 1
    # Grow the calls per sample until one sample takes about its share of the budget.
    while True:
        started = time.perf_counter()
        for _ in range(calls):
            a @ b
        elapsed = time.perf_counter() - started
        if elapsed >= per_sample * 0.5 or calls >= 1_000_000:
            break
        calls = min(1_000_000, max(calls * 2, int(calls * per_sample / max(elapsed, 1e-9))))
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        for _ in range(calls):
            a @ b
        times.append((time.perf_counter() - started) / calls)
    return {'m': m, 'n': n, 'k': k, 'seconds': statistics.median(times), 'calls_per_sample': calls, 'samples': samples}


def main():
    request = json.loads(sys.stdin.read())
    seconds = float(request.get('seconds', 0.5))
    samples = max(1, int(request.get('samples', 5)))
    rng = np.random.default_rng(0)
    shapes = []
    for shape in request['shapes']:
        m, n, k = (int(v) for v in shape)
        if min(m, n, k) <= 0:
            raise SystemExit(f'numpy_gemm.py: shape {shape} is not three positive sizes (m, n, k)')
        shapes.append(measure(m, n, k, seconds, samples, rng))
    threads = os.environ.get('OPENBLAS_NUM_THREADS') or os.environ.get('OMP_NUM_THREADS')
    print(json.dumps({
        'python': sys.executable,
        'numpy': np.__version__,
        'blas': blas_name(),
        'threads': int(threads) if threads and threads.isdigit() else None,
        'shapes': shapes,
    }))


if __name__ == '__main__':
    main()
