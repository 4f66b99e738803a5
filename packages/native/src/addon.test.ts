import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { BinaryOp, type NativeAddon, ReduceOp, UnaryOp } from './addon.js';
import { ADDON_FUNCTIONS, ADDON_PATH, loadNative } from './load.js';

// Reference results are the textbook definitions computed with plain JS loops in float64.
const loaded = loadNative();
if (!loaded.ok) throw new Error(`@tessera/native tests need the built addon: ${loaded.reason}`);
const native: NativeAddon = loaded.addon;

let seed = 1;
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 - 0.5;
};

/** A heap with `arrays` laid out one after another from byte 16; returns their byte offsets. */
function layout(arrays: ArrayLike<number>[], extra = 0) {
  let bytes = 16;
  const offsets = arrays.map((a) => {
    const at = bytes;
    bytes += a.length * 4;
    return at;
  });
  const heap = new ArrayBuffer(bytes + extra * 4);
  arrays.forEach((a, i) => {
    new Float32Array(heap, offsets[i], a.length).set(a);
  });
  return { heap, offsets, end: bytes };
}

function expectClose(actual: Float32Array, expected: number[]) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] === expected[i]) continue; // also infinities (max over nothing)
    expect(Math.abs((actual[i] as number) - (expected[i] as number)), `element ${i}`).toBeLessThan(
      1e-5 * Math.max(1, Math.abs(expected[i] as number)),
    );
  }
}

describe('@tessera/native addon', () => {
  it('exports exactly the functions loadNative checks for (so a stale build is caught whichever one it lacks)', () => {
    const raw = createRequire(import.meta.url)(ADDON_PATH) as Record<string, unknown>;
    const functions = Object.keys(raw).filter((name) => typeof raw[name] === 'function');
    expect(functions.sort()).toEqual([...ADDON_FUNCTIONS].sort());
  });

  it('reports its BLAS', () => {
    expect(['openblas', 'plain']).toContain(native.blas);
    expect(native.getThreads()).toBeGreaterThanOrEqual(1);
  });

  for (const [batch, m, n, k] of [
    [1, 5, 3, 7],
    [3, 4, 6, 5],
    [2, 1, 1, 1],
    [2, 3, 4, 0],
    [0, 3, 4, 5],
    [1, 33, 17, 65],
    // Past one block of rows (72), of k (256) and of 16/32-wide column panels, with partial tiles.
    [1, 150, 45, 300],
    // Wide enough (n, k >= 384) for OpenBLAS single-threaded when it is linked.
    [2, 7, 390, 400],
  ] as const) {
    for (const ta of [0, 1]) {
      for (const tb of [0, 1]) {
        for (const shareB of [false, true]) {
          it(`gemm batch=${batch} m=${m} n=${n} k=${k} transA=${ta} transB=${tb}${shareB ? ' shared B' : ''}`, () => {
            const a = Array.from({ length: batch * m * k }, random);
            const b = Array.from({ length: (shareB ? 1 : batch) * k * n }, random);
            const { heap, offsets, end } = layout([a, b], batch * m * n);
            native.gemm(heap, batch, m, n, k, ta, tb, offsets[0] as number, m * k, offsets[1] as number, shareB ? 0 : k * n, end);
            const expected: number[] = [];
            for (let t = 0; t < batch; t++) {
              for (let i = 0; i < m; i++) {
                for (let j = 0; j < n; j++) {
                  let s = 0;
                  for (let p = 0; p < k; p++) {
                    const av = a[t * m * k + (ta ? p * m + i : i * k + p)] as number;
                    const bv = b[(shareB ? 0 : t * k * n) + (tb ? j * k + p : p * n + j)] as number;
                    s += Math.fround(av) * Math.fround(bv);
                  }
                  expected.push(s);
                }
              }
            }
            expectClose(new Float32Array(heap, end, batch * m * n), expected);
          });
        }
      }
    }
  }

  it('with 3 threads (blocks of rows or of products on the pool) gemm, linear, layer norm and softmax equal 1 thread', () => {
    const runs = (threads: number) => {
      native.setThreads(threads);
      const out: Float32Array[] = [];
      // One product per call, wide (OpenBLAS when linked; A transposed) and narrow (built-in kernel), then 5 small ones.
      for (const [batch, m, n, k, ta] of [
        [1, 100, 390, 400, 1],
        [1, 100, 300, 300, 0],
        [5, 7, 9, 11, 0],
      ] as const) {
        seed = 5;
        const { heap, offsets, end } = layout(
          [Array.from({ length: batch * m * k }, random), Array.from({ length: batch * k * n }, random)],
          batch * m * n,
        );
        native.gemm(heap, batch, m, n, k, ta, 1, offsets[0] as number, m * k, offsets[1] as number, k * n, end);
        out.push(new Float32Array(heap, end, batch * m * n));
      }
      seed = 6;
      const [rows, inF, outF] = [100, 300, 300];
      const lin = layout(
        [Array.from({ length: rows * inF }, random), Array.from({ length: outF * inF }, random), Array.from({ length: outF }, random)],
        2 * rows * outF,
      );
      const [xo, wo, bo] = lin.offsets as [number, number, number];
      native.linear(lin.heap, xo, wo, bo, lin.end, lin.end + rows * outF * 4, rows, inF, outF, 4);
      out.push(new Float32Array(lin.heap, lin.end, 2 * rows * outF));
      const [r, c] = [1000, 40];
      const x = Array.from({ length: r * c }, random);
      const ln = layout([x, Array.from({ length: c }, random), Array.from({ length: c }, random)], r * c + 2 * r);
      const [lx, lg, lb] = ln.offsets as [number, number, number];
      native.layerNorm(ln.heap, lx, lg, lb, ln.end, ln.end + r * c * 4, ln.end + (r * c + r) * 4, r, c, 1e-5);
      out.push(new Float32Array(ln.heap, ln.end, r * c + 2 * r));
      const sm = layout([x], r * c);
      native.softmax(sm.heap, sm.offsets[0] as number, sm.end, r, c, 0);
      out.push(new Float32Array(sm.heap, sm.end, r * c));
      return out;
    };
    const [one, three] = [runs(1), runs(3)];
    native.setThreads(1);
    expect(native.getThreads()).toBe(1);
    one.forEach((expected, i) => {
      expectClose(three[i] as Float32Array, Array.from(expected));
    });
  });

  it('gemm with 2 threads (OpenBLAS when linked) equals the single-threaded built-in kernel', () => {
    const [m, n, k] = [37, 45, 129];
    const a = Array.from({ length: 2 * m * k }, random);
    const b = Array.from({ length: 2 * k * n }, random);
    const results = [1, 2].map((threads) => {
      native.setThreads(threads);
      const { heap, offsets, end } = layout([a, b], 2 * m * n);
      native.gemm(heap, 2, m, n, k, 1, 1, offsets[0] as number, m * k, offsets[1] as number, k * n, end);
      return Array.from(new Float32Array(heap, end, 2 * m * n));
    });
    native.setThreads(1);
    expect(native.getThreads()).toBe(1);
    expectClose(new Float32Array(results[1] as number[]), results[0] as number[]);
  });

  it('refuses out-of-bounds, misaligned, and detached heaps instead of writing', () => {
    const heap = new ArrayBuffer(64);
    expect(() => native.gemm(heap, 1, 2, 2, 2, 0, 0, 0, 4, 16, 4, 56)).toThrow(/outside the wasm heap/);
    expect(() => native.gemm(heap, 2, 2, 2, 2, 0, 0, 0, 4, 16, 4, 40)).toThrow(/outside the wasm heap/);
    expect(() => native.unary(heap, UnaryOp.exp, 2, 0, 1)).toThrow(/outside the wasm heap/);
    expect(() => native.unary(heap, UnaryOp.exp, -4, 0, 1)).toThrow(/outside the wasm heap/);
    expect(() => native.unary(heap, UnaryOp.exp, 0, 0, 2 ** 40)).toThrow(/outside the wasm heap/);
    expect(() => native.unary(heap, 99, 0, 0, 1)).toThrow(/unknown unary/);
    expect(() => native.unary(heap, UnaryOp.exp, 0.5, 0, 1)).toThrow(/integer/);
    expect(() => (native.gemm as (...args: unknown[]) => void)(heap, 1, 2, 2, 2, 0, 0, 0, 4, 16, 4)).toThrow(/expected 12 arguments/);
    expect(() => native.unary(new Float32Array(4) as never, UnaryOp.exp, 0, 0, 1)).toThrow(/heap ArrayBuffer/);
    const detached = new ArrayBuffer(64);
    structuredClone(detached, { transfer: [detached] });
    expect(() => native.unary(detached, UnaryOp.exp, 0, 0, 1)).toThrow(/outside the wasm heap/);
  });

  it('reduce: sum, max, min, mean over the middle axis of [outer, r, inner], including inner = 1', () => {
    for (const [outer, r, inner] of [
      [2, 3, 4],
      [3, 17, 1],
      [1, 0, 3],
    ] as const) {
      const x = Array.from({ length: outer * r * inner }, random);
      for (const [name, op] of Object.entries(ReduceOp)) {
        const { heap, offsets, end } = layout([x], outer * inner);
        native.reduce(heap, op, offsets[0] as number, end, outer, r, inner);
        const expected: number[] = [];
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            const values = Array.from({ length: r }, (_, p) => Math.fround(x[(o * r + p) * inner + i] as number));
            const sum = values.reduce((s, v) => s + v, 0);
            expected.push(
              name === 'sum' ? sum : name === 'mean' ? (r ? sum / r : 0) : name === 'max' ? Math.max(...values) : Math.min(...values),
            );
          }
        }
        expectClose(new Float32Array(heap, end, outer * inner), expected);
      }
    }
  });

  // erf by its Maclaurin series (exact to float64 for |x| < 3), for the references below.
  const erf = (x: number) => {
    let [term, sum] = [x, x];
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  };

  it('unary ops match Math', () => {
    const x = Array.from({ length: 37 }, () => random() * 4 + 2.5);
    const refs: Record<keyof typeof UnaryOp, (v: number) => number> = {
      exp: Math.exp,
      log: Math.log,
      neg: (v) => -v,
      sqrt: Math.sqrt,
      rsqrt: (v) => 1 / Math.sqrt(v),
      square: (v) => v * v,
      tanh: Math.tanh,
      erf,
      sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    };
    for (const [name, op] of Object.entries(UnaryOp)) {
      const { heap, offsets, end } = layout([x], x.length);
      native.unary(heap, op, offsets[0] as number, end, x.length);
      expectClose(
        new Float32Array(heap, end, x.length),
        x.map((v) => refs[name as keyof typeof UnaryOp](Math.fround(v))),
      );
    }
  });

  it('binary ops broadcast through strides (0 = broadcast dim), including scalars', () => {
    // out [2, 3, 4] = a [2, 1, 4] op b [3, 1]
    const a = Array.from({ length: 8 }, random);
    const b = Array.from({ length: 3 }, () => random() + 2);
    const refs = [
      (x: number, y: number) => x + y,
      (x: number, y: number) => x - y,
      (x: number, y: number) => x * y,
      (x: number, y: number) => x / y,
      (x: number, y: number) => (x - y) ** 2,
      Math.max,
    ];
    for (const op of Object.values(BinaryOp).filter((o) => o !== BinaryOp.pow)) {
      const { heap, offsets, end } = layout([a, b], 24);
      native.binary(heap, op, offsets[0] as number, offsets[1] as number, end, new Float64Array([3, 2, 3, 4, 4, 0, 1, 0, 1, 0]));
      const expected: number[] = [];
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 3; j++)
          for (let l = 0; l < 4; l++)
            expected.push((refs[op] as (x: number, y: number) => number)(Math.fround(a[i * 4 + l] as number), Math.fround(b[j] as number)));
      expectClose(new Float32Array(heap, end, 24), expected);
    }
    const { heap, offsets, end } = layout([[3], [4]], 1);
    native.binary(heap, BinaryOp.mul, offsets[0] as number, offsets[1] as number, end, new Float64Array([0]));
    expect(new Float32Array(heap, end, 1)[0]).toBe(12);
    expect(() => native.binary(heap, BinaryOp.add, 16, 20, end, new Float64Array([1, 5, 1, 1]))).toThrow(/outside the wasm heap/);
    expect(() => native.binary(heap, BinaryOp.add, 16, 20, end, new Float64Array([17]))).toThrow(/rank/);
  });

  it('pow: tensor exponents, and the scalar 2 and 3 fast paths with negative bases', () => {
    const base = [1.5, 0.25, 3, 2];
    const exps = [0.5, -1, 2.5, 3];
    const { heap, offsets, end } = layout([base, exps], 4);
    native.binary(heap, BinaryOp.pow, offsets[0] as number, offsets[1] as number, end, new Float64Array([1, 4, 1, 1]));
    expectClose(
      new Float32Array(heap, end, 4),
      base.map((b, i) => Math.fround(b) ** Math.fround(exps[i] as number)),
    );
    for (const e of [2, 3, 1.5]) {
      const x = [-1.5, 0.5, 2, -3, 4];
      const run = layout([x, [e]], 5);
      native.binary(run.heap, BinaryOp.pow, run.offsets[0] as number, run.offsets[1] as number, run.end, new Float64Array([1, 5, 1, 0]));
      const got = Array.from(new Float32Array(run.heap, run.end, 5));
      x.forEach((v, i) => {
        const want = v ** e;
        if (Number.isNaN(want)) expect(got[i]).toBeNaN();
        else expect(Math.abs((got[i] as number) - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
      });
    }
  });

  it('layer norm forward and backward match their definitions', () => {
    const [rows, cols, eps] = [3, 21, 1e-5];
    const x = Array.from({ length: rows * cols }, () => random() * 4 + 1);
    const gamma = Array.from({ length: cols }, () => random() + 1);
    const beta = Array.from({ length: cols }, random);
    const dy = Array.from({ length: rows * cols }, random);
    const { heap, offsets, end } = layout([x, gamma, beta, dy], 3 * rows * cols + 2 * rows + 2 * cols);
    const [y, mean, rstd] = [end, end + rows * cols * 4, end + (rows * cols + rows) * 4];
    const [dx, dg, db] = [rstd + rows * 4, rstd + (rows + rows * cols) * 4, rstd + (rows + rows * cols + cols) * 4];
    native.layerNorm(heap, offsets[0] as number, offsets[1] as number, offsets[2] as number, y, mean, rstd, rows, cols, eps);
    native.layerNormGrad(heap, offsets[3] as number, offsets[0] as number, offsets[1] as number, mean, rstd, dx, dg, db, rows, cols);
    const f = (v: number[]) => v.map(Math.fround);
    const [xf, gf, bf, dyf] = [f(x), f(gamma), f(beta), f(dy)];
    const expectY: number[] = [];
    const expectDx: number[] = [];
    const expectDg = new Array<number>(cols).fill(0);
    const expectDb = new Array<number>(cols).fill(0);
    for (let r = 0; r < rows; r++) {
      const row = xf.slice(r * cols, (r + 1) * cols);
      const mu = row.reduce((s, v) => s + v, 0) / cols;
      const inv = 1 / Math.sqrt(row.reduce((s, v) => s + (v - mu) ** 2, 0) / cols + eps);
      const xhat = row.map((v) => (v - mu) * inv);
      const g = xhat.map((_, c) => (dyf[r * cols + c] as number) * (gf[c] as number));
      const a = g.reduce((s, v) => s + v, 0) / cols;
      const b = g.reduce((s, v, c) => s + v * (xhat[c] as number), 0) / cols;
      xhat.forEach((h, c) => {
        expectY.push(h * (gf[c] as number) + (bf[c] as number));
        expectDx.push(inv * ((g[c] as number) - a - h * b));
        expectDg[c] = (expectDg[c] as number) + (dyf[r * cols + c] as number) * h;
        expectDb[c] = (expectDb[c] as number) + (dyf[r * cols + c] as number);
      });
    }
    expectClose(new Float32Array(heap, y, rows * cols), expectY);
    expectClose(new Float32Array(heap, dx, rows * cols), expectDx);
    expectClose(new Float32Array(heap, dg, cols), expectDg);
    expectClose(new Float32Array(heap, db, cols), expectDb);
  });

  it('GELU (exact and tanh approximation) and its gradient match their definitions', () => {
    const x = Array.from({ length: 300 }, () => random() * 8);
    const dy = Array.from({ length: 300 }, random);
    const c = Math.sqrt(2 / Math.PI);
    for (const approximate of [0, 1]) {
      const { heap, offsets, end } = layout([x, dy], 600);
      native.gelu(heap, offsets[0] as number, end, 300, approximate);
      native.geluGrad(heap, offsets[1] as number, offsets[0] as number, end + 1200, 300, approximate);
      const xs = x.map(Math.fround);
      const value = (v: number) =>
        approximate ? 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3))) : 0.5 * v * (1 + erf(v / Math.SQRT2));
      const h = 1e-4; // central difference of the float64 definition
      expectClose(new Float32Array(heap, end, 300), xs.map(value));
      expectClose(
        new Float32Array(heap, end + 1200, 300),
        xs.map((v, i) => Math.fround(dy[i] as number) * ((value(v + h) - value(v - h)) / (2 * h))),
      );
    }
  });

  it('linear (x W^T + b, then relu) and its gradient match their definitions; bad offsets are refused', () => {
    const [rows, inF, outF] = [3, 5, 4];
    const x = Array.from({ length: rows * inF }, () => random() * 2 - 1);
    const w = Array.from({ length: outF * inF }, () => random() * 2 - 1);
    const b = Array.from({ length: outF }, () => random() - 0.5);
    const dy = Array.from({ length: rows * outF }, () => random() * 2 - 1);
    const { heap, offsets, end } = layout([x, w, b, dy], 2 * rows * outF + rows * inF + outF * inF + outF);
    // outputs after the inputs: z, y [rows, out], dx [rows, in], dw [out, in], db [out]
    const z = end;
    const y = z + rows * outF * 4;
    const dx = y + rows * outF * 4;
    const dw = dx + rows * inF * 4;
    const dbAt = dw + outF * inF * 4;
    const [xo, wo, bo, dyo] = offsets as [number, number, number, number];
    native.linear(heap, xo, wo, bo, z, y, rows, inF, outF, 3);
    const pre = Array.from({ length: rows * outF }, (_, k) => {
      const [r, o] = [Math.floor(k / outF), k % outF];
      let sum = b[o] as number;
      for (let i = 0; i < inF; i++) sum += (x[r * inF + i] as number) * (w[o * inF + i] as number);
      return sum;
    });
    expectClose(new Float32Array(heap, z, rows * outF), pre);
    expectClose(
      new Float32Array(heap, y, rows * outF),
      pre.map((v) => Math.max(v, 0)),
    );
    native.linearGrad(heap, dyo, xo, wo, z, dx, dw, dbAt, rows, inF, outF, 3);
    const dz = dy.map((g, k) => ((pre[k] as number) > 0 ? g : 0));
    const at = (m: number[], r: number, c: number, cols: number) => m[r * cols + c] as number;
    expectClose(
      new Float32Array(heap, dx, rows * inF),
      Array.from({ length: rows * inF }, (_, k) => {
        let sum = 0;
        for (let o = 0; o < outF; o++) sum += at(dz, Math.floor(k / inF), o, outF) * at(w, o, k % inF, inF);
        return sum;
      }),
    );
    expectClose(
      new Float32Array(heap, dw, outF * inF),
      Array.from({ length: outF * inF }, (_, k) => {
        let sum = 0;
        for (let r = 0; r < rows; r++) sum += at(dz, r, Math.floor(k / inF), outF) * at(x, r, k % inF, inF);
        return sum;
      }),
    );
    expectClose(
      new Float32Array(heap, dbAt, outF),
      Array.from({ length: outF }, (_, o) => dz.filter((_, k) => k % outF === o).reduce((p, q) => p + q, 0)),
    );
    expect(() => native.linear(heap, xo, wo, -1, heap.byteLength - 8, y, rows, inF, outF, 0)).toThrow(
      /E_NATIVE_ARGS|out of bounds|outside/,
    );
    expect(() => native.linear(heap, xo, wo, -1, z, y, rows, inF, outF, 7)).toThrow(/activation/);
  });

  it('softmax cross-entropy with label smoothing and ignored rows, and its gradient', () => {
    const [rows, cols] = [4, 13];
    const logits = Array.from({ length: rows * cols }, () => random() * 20);
    const labels = [3, -100, 12, 0];
    for (const smoothing of [0, 0.1]) {
      const { heap, offsets, end } = layout([logits, labels], rows + rows * cols);
      new Int32Array(heap, offsets[1], rows).set(labels);
      const [loss, counted] = native.crossEntropy(heap, offsets[0] as number, offsets[1] as number, end, rows, cols, smoothing);
      native.crossEntropyGrad(heap, offsets[0] as number, offsets[1] as number, end, end + rows * 4, rows, cols, smoothing, 0.5);
      let total = 0;
      const grad: number[] = [];
      labels.forEach((label, r) => {
        const z = logits.slice(r * cols, (r + 1) * cols).map(Math.fround);
        const max = Math.max(...z);
        const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
        const target = z.map((_, c) => (label < 0 ? 0 : (c === label ? 1 - smoothing : 0) + smoothing / cols));
        if (label >= 0) total += target.reduce((s, t, c) => s + t * (lse - (z[c] as number)), 0);
        grad.push(...z.map((v, c) => (label < 0 ? 0 : 0.5 * (Math.exp(v - lse) - (target[c] as number)))));
      });
      expect(counted).toBe(3);
      expect(Math.abs(loss - total / 3)).toBeLessThan(1e-5 * (total / 3));
      expectClose(new Float32Array(heap, end + rows * 4, rows * cols), grad);
    }
    const empty = layout([[0], [0]], 1);
    new Int32Array(empty.heap, empty.offsets[1], 1).set([-1]);
    expect(native.crossEntropy(empty.heap, empty.offsets[0] as number, empty.offsets[1] as number, empty.end, 1, 1, 0)).toEqual([0, 0]);
  });

  it('adam: one AdamW step (in place) matches the update rule', () => {
    const n = 19;
    const [p, g, m, v] = [0, 1, 2, 3].map(() => Array.from({ length: n }, random));
    const vPos = (v as number[]).map((x) => Math.abs(x));
    const { heap, offsets } = layout([p as number[], g as number[], m as number[], vPos]);
    const [lr, b1, b2, eps, decay, t] = [0.01, 0.9, 0.999, 1e-8, 0.1, 3];
    const [c1, c2] = [1 - b1 ** t, 1 - b2 ** t];
    native.adam(
      heap,
      offsets[0] as number,
      offsets[0] as number,
      offsets[1] as number,
      offsets[2] as number,
      offsets[3] as number,
      n,
      lr,
      b1,
      b2,
      eps,
      decay,
      c1,
      c2,
    );
    const f = (a: number[]) => a.map(Math.fround);
    const [pf, gf, mf, vf] = [f(p as number[]), f(g as number[]), f(m as number[]), f(vPos)];
    const mNew = mf.map((x, i) => b1 * x + (1 - b1) * (gf[i] as number));
    const vNew = vf.map((x, i) => b2 * x + (1 - b2) * (gf[i] as number) ** 2);
    const pNew = pf.map((x, i) => x - lr * ((mNew[i] as number) / c1 / (Math.sqrt((vNew[i] as number) / c2) + eps) + decay * x));
    expectClose(new Float32Array(heap, offsets[0], n), pNew);
    expectClose(new Float32Array(heap, offsets[2], n), mNew);
    expectClose(new Float32Array(heap, offsets[3], n), vNew);
  });

  it('softmax and log-softmax over rows', () => {
    const x = Array.from({ length: 15 }, () => random() * 20);
    for (const log of [0, 1]) {
      const { heap, offsets, end } = layout([x], 15);
      native.softmax(heap, offsets[0] as number, end, 3, 5, log);
      const expected: number[] = [];
      for (let r = 0; r < 3; r++) {
        const row = x.slice(r * 5, r * 5 + 5).map(Math.fround);
        const max = Math.max(...row);
        const sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
        for (const v of row) expected.push(log ? v - max - Math.log(sum) : Math.exp(v - max) / sum);
      }
      expectClose(new Float32Array(heap, end, 15), expected);
    }
  });

  it('transpose by source strides', () => {
    // x [2, 3, 4] -> perm [2, 0, 1]: out [4, 2, 3] with source strides [1, 12, 4]
    const x = Array.from({ length: 24 }, (_, i) => i);
    const { heap, offsets, end } = layout([x], 24);
    native.transpose(heap, offsets[0] as number, end, new Float64Array([3, 4, 2, 3, 1, 12, 4]));
    const expected: number[] = [];
    for (let l = 0; l < 4; l++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(i * 12 + j * 4 + l);
    expect(Array.from(new Float32Array(heap, end, 24))).toEqual(expected);
  });

  it('gather rows with bounds-checked ids, and scatter-add (its gradient) dropping bad ids', () => {
    const table = Array.from({ length: 8 }, (_, i) => i + 1); // [4, 2]
    const { heap, offsets, end } = layout([table, [0, 0, 0]], 6);
    new Int32Array(heap, offsets[1], 3).set([3, 0, 3]);
    native.gather(heap, offsets[0] as number, offsets[1] as number, end, 1, 4, 2, 3);
    expect(Array.from(new Float32Array(heap, end, 6))).toEqual([7, 8, 1, 2, 7, 8]);
    new Int32Array(heap, offsets[1], 3).set([3, 4, 0]);
    expect(() => native.gather(heap, offsets[0] as number, offsets[1] as number, end, 1, 4, 2, 3)).toThrow(/index 4 at position 1/);

    const grads = layout(
      [
        [1, 2, 3, 4, 5, 6],
        [0, 0, 0],
      ],
      6,
    );
    new Int32Array(grads.heap, grads.offsets[1], 3).set([2, -1, 2]);
    native.scatterAdd(grads.heap, grads.offsets[0] as number, grads.offsets[1] as number, grads.end, 3, 2, 3);
    expect(Array.from(new Float32Array(grads.heap, grads.end, 6))).toEqual([0, 0, 0, 0, 6, 8]);
  });
});
