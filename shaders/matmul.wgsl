// Batched matrix multiply C[z] = A[z]·B[z] (src/ops/matmul.ts). A is read as an M×K matrix and B as
// a K×N one through strides, so transposes and broadcast batches cost no copies; C is contiguous
// [batch, M, N].
// Uniforms: `MatmulUniforms` in src/ops/matmul.ts.

@group(0) @binding(1) var<storage, read> ma: array<f32>;
@group(0) @binding(2) var<storage, read> mb: array<f32>;
@group(0) @binding(3) var<storage, read_write> mc: array<f32>;

// Outputs per workgroup along M and along N: 8 invocations × 4.
const MM_TILE = 32u;

// Offset of batch z (row-major over the 4-D batch shape) under one operand's batch strides.
fn batch_offset(z: u32, strides: array<vec4<u32>, 1>) -> u32 {
  var rem = z;
  var off = 0u;
  for (var d = 3i; d >= 0; d--) {
    let n = u_batchShape(u32(d));
    off += (rem % n) * strides[0][u32(d)];
    rem = rem / n;
  }
  return off;
}

// Stores the first columns of a 4-wide row block that lie inside N (n0 < N already holds).
fn store_row(base: u32, n0: u32, v: vec4<f32>) {
  let n = u.n;
  mc[base] = v.x;
  if (n0 + 1u < n) { mc[base + 1u] = v.y; }
  if (n0 + 2u < n) { mc[base + 2u] = v.z; }
  if (n0 + 3u < n) { mc[base + 3u] = v.w; }
}

// The 4×4 block of C[z] at (m0, n0), accumulated in registers. Rows and columns past the edge
// read a clamped (valid) element and are not stored, so the k loop has no branches.
fn mm_block(z: u32, m0: u32, n0: u32) {
  let m = u.m;
  let n = u.n;
  let k = u.k;
  let ra = min(vec4<u32>(m0, m0 + 1u, m0 + 2u, m0 + 3u), vec4<u32>(m - 1u)) * u.aRow
    + vec4<u32>(batch_offset(z, u.aBatch));
  let cb = min(vec4<u32>(n0, n0 + 1u, n0 + 2u, n0 + 3u), vec4<u32>(n - 1u)) * u.bCol
    + vec4<u32>(batch_offset(z, u.bBatch));
  let sak = u.aCol;
  let sbk = u.bRow;
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  var ka = 0u;
  var kb = 0u;
  for (var i = 0u; i < k; i++) {
    let bv = vec4<f32>(mb[cb.x + kb], mb[cb.y + kb], mb[cb.z + kb], mb[cb.w + kb]);
    c0 += ma[ra.x + ka] * bv;
    c1 += ma[ra.y + ka] * bv;
    c2 += ma[ra.z + ka] * bv;
    c3 += ma[ra.w + ka] * bv;
    ka += sak;
    kb += sbk;
  }
  let base = (z * m + m0) * n + n0;
  store_row(base, n0, c0);
  if (m0 + 1u < m) { store_row(base + n, n0, c1); }
  if (m0 + 2u < m) { store_row(base + 2u * n, n0, c2); }
  if (m0 + 3u < m) { store_row(base + 3u * n, n0, c3); }
}

// Grid: x over column tiles, y over row tiles, z over batches, each capped at 65,535 workgroups
// (the loops stride over the rest).
@compute @workgroup_size(8, 8)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_id) lid: vec3<u32>) {
  for (var z = wid.z; z < u.batches; z += nwg.z) {
    for (var ty = wid.y; ty * MM_TILE < u.m; ty += nwg.y) {
      for (var tx = wid.x; tx * MM_TILE < u.n; tx += nwg.x) {
        let m0 = ty * MM_TILE + lid.y * 4u;
        let n0 = tx * MM_TILE + lid.x * 4u;
        if (m0 < u.m && n0 < u.n) {
          mm_block(z, m0, n0);
        }
      }
    }
  }
}
