/**
 * scikit-learn's KMeans as the speed reference: Debian's python3-sklearn (installed with apt-get when
 * missing), one thread (threadpoolctl + OMP/BLAS env), Lloyd, n_init=1, the same data and start passed
 * as raw little-endian float64 files read with np.fromfile.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PYTHON = '/usr/bin/python3';

const SCRIPT = String.raw`
import json, sys, time
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.cluster import KMeans
prefix, n, d, k, repeats, budget = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
X = np.fromfile(prefix + '.x', dtype='<f8').reshape(n, d)
init = np.fromfile(prefix + '.init', dtype='<f8').reshape(k, d)
out = {}
with threadpool_limits(limits=1):
    # Warm-up: the first fit in a process pays for lazy imports and thread-pool set-up.
    KMeans(n_clusters=k, init=init, n_init=1, algorithm='lloyd').fit(X[:min(n, 10000)])
    for name, start in (('same', init), ('kmeanspp', 'k-means++')):
        times = []
        began = time.perf_counter()
        for r in range(repeats):
            t = time.perf_counter()
            km = KMeans(n_clusters=k, init=start, n_init=1, algorithm='lloyd', tol=1e-4, max_iter=300, random_state=0).fit(X)
            times.append(time.perf_counter() - t)
            if time.perf_counter() - began > budget:
                break
        times.sort()
        out[name] = {'seconds': times[len(times) // 2] if len(times) % 2 else (times[len(times) // 2 - 1] + times[len(times) // 2]) / 2,
                     'runs': len(times), 'inertia': float(km.inertia_), 'iterations': int(km.n_iter_)}
print(json.dumps(out))
`;

export interface SklearnRun {
  seconds: number;
  runs: number;
  inertia: number;
  iterations: number;
}

export interface SklearnResult {
  same: SklearnRun;
  kmeanspp: SklearnRun;
}

function hasSklearn(): boolean {
  return spawnSync(PYTHON, ['-c', 'import sklearn, threadpoolctl'], { stdio: 'ignore' }).status === 0;
}

/** Makes scikit-learn available; returns null when ready, else why not (the column is skipped). */
export function ensureSklearn(log: (line: string) => void): string | null {
  if (hasSklearn()) return null;
  log('scikit-learn missing: apt-get install -y python3-sklearn');
  const r = spawnSync('apt-get', ['install', '-y', '-q', 'python3-sklearn'], { stdio: 'ignore', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status === 0 && hasSklearn()) return null;
  return `scikit-learn unavailable: \`apt-get install -y python3-sklearn\` ${r.error ? `failed (${r.error.message})` : `exited with ${String(r.status)}`}; its column is skipped`;
}

export function runSklearn(Z: Float64Array, n: number, d: number, init: Float64Array, k: number, repeats: number, budgetSeconds: number): SklearnResult {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sklearn-'));
  try {
    const prefix = join(dir, 'data');
    writeFileSync(prefix + '.x', new Uint8Array(Z.buffer, Z.byteOffset, Z.byteLength));
    writeFileSync(prefix + '.init', new Uint8Array(init.buffer, init.byteOffset, init.byteLength));
    const text = execFileSync(PYTHON, ['-c', SCRIPT, prefix, String(n), String(d), String(k), String(repeats), String(budgetSeconds)], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
      maxBuffer: 1 << 20,
      timeout: 600_000,
    });
    return JSON.parse(text) as SklearnResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
