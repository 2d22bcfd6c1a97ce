// Fused media transform (src/ops/media-transform.ts): adstock → Hill → DAG mix, one invocation per
// region handling all C ≤ 64 channels (the DAG mixes channels within a week), time loop inside.
// Uniforms: `MediaUniforms` in src/ops/media-transform.ts (one struct for the three entry points);
// MAXC and the mask / Hill-form modes are its shaderConstants.
// Long sequences run in several dispatches over time because llvmpipe ends every loop once an
// invocation has run 65,535 loop iterations in all (LP_MAX_TGSI_LOOP_ITERATIONS); state that
// crosses weeks is resumed from buffers. src/ops/media-transform.ts plans the ranges.
// Forward:  x, alphaRaw, slopeRaw, halfSatRaw, dagLogits, mixRaw → out, state ([R,C]: adstock at
//           the last week run, read back by the next dispatch); weeks u.a0 .. u.a1 − 1.
// Backward: x, alphaRaw, slopeRaw, halfSatRaw, dagLogits, mixRaw, dy → work, where work holds dx
//           ([R,T,C]) followed by per-region partial raw-parameter gradients (R × P, P = 4C + C²).
//           It recomputes the adstock of weeks u.a0 .. u.a1 − 1, then runs weeks u.b1 − 1 down to
//           u.b0 in reverse (u.b0 = u.b1: adstock only); between dispatches the partial slots
//           hold raw sums.
// Reduce:   work → dx, dalphaRaw, dslopeRaw, dhalfSatRaw, ddagLogits, dmixRaw (sums over R).
// The backward pass is split this way to stay within 8 storage buffers per stage.

@group(0) @binding(1) var<storage, read> mx: array<f32>;
@group(0) @binding(2) var<storage, read> malpha: array<f32>;
@group(0) @binding(3) var<storage, read> mslope: array<f32>;
@group(0) @binding(4) var<storage, read> mhalf: array<f32>;
@group(0) @binding(5) var<storage, read> mdag: array<f32>;
@group(0) @binding(6) var<storage, read> mmix: array<f32>;

@group(0) @binding(7) var<storage, read_write> mout: array<f32>;
@group(0) @binding(8) var<storage, read_write> mstate: array<f32>;

@group(0) @binding(7) var<storage, read> mdy: array<f32>;
@group(0) @binding(8) var<storage, read_write> mwork: array<f32>;

@group(0) @binding(1) var<storage, read> rwork: array<f32>;
@group(0) @binding(2) var<storage, read_write> rdx: array<f32>;
@group(0) @binding(3) var<storage, read_write> rdalpha: array<f32>;
@group(0) @binding(4) var<storage, read_write> rdslope: array<f32>;
@group(0) @binding(5) var<storage, read_write> rdhalf: array<f32>;
@group(0) @binding(6) var<storage, read_write> rddag: array<f32>;
@group(0) @binding(7) var<storage, read_write> rdmix: array<f32>;

fn alpha_of(c: u32) -> f32 { return min(sigmoid_safe(malpha[c]), ADSTOCK_MAX); }
fn slope_of(c: u32) -> f32 { return clamp(softplus_safe(mslope[c]), u.slopeMin, SLOPE_MAX); }
fn half_of(c: u32) -> f32 { return clamp(softplus_safe(mhalf[c]), HALF_SAT_MIN, HALF_SAT_MAX); }

// The adstock at week t of channel c from its input xv and the previous week's adstock.
fn adstock_step(t: u32, c: u32, xv: f32, prev: f32) -> f32 {
  if (t == 0u) { return xv; }
  return clamp(xv + alpha_of(c) * prev, 0.0, ADSTOCK_STATE_MAX);
}

fn mask_of(i: u32, j: u32) -> f32 {
  if (u.mask == MASK_TRIANGULAR) { return select(0.0, 1.0, i < j); }
  return select(0.0, 1.0, i != j);
}

// σ(dagLogits[i, j] / τ) (the mask is applied by the caller).
fn edge_sigmoid(i: u32, j: u32) -> f32 {
  return sigmoid_safe(mdag[i * u.channels + j] / u.temperature);
}

// Hill saturation of adstock value a with slope s and half-saturation g.
fn hill(a: f32, s: f32, g: f32) -> f32 {
  if (u.hillForm == HILL_LOG) {
    // log-space sigmoid: no x^s overflow/underflow; exactly 0 at x = 0
    let x = max(a, 0.0);
    if (x <= 0.0) { return 0.0; }
    return sigmoid_safe(s * (log(x) - log(g)));
  }
  let x = max(a, 0.0) + 1e-8;
  let n = pow_safe(x, s);
  let gs = pow_safe(g, s);
  return clamp(n / (n + gs + 1e-8), 0.0, 1.0);
}

// (∂h/∂a, ∂h/∂s, ∂h/∂g) of hill(a, s, g).
fn hill_grad(a: f32, s: f32, g: f32) -> vec3<f32> {
  if (u.hillForm == HILL_LOG) {
    let x = max(a, 0.0);
    if (x <= 0.0) { return vec3<f32>(0.0); }
    let lx = log(x) - log(g);
    let h = sigmoid_safe(s * lx);
    let k = h * (1.0 - h);
    return vec3<f32>(k * s / x, k * lx, -k * s / g);
  }
  let x = max(a, 0.0) + 1e-8;
  let n = pow_safe(x, s);
  let gs = pow_safe(g, s);
  let d = n + gs + 1e-8;
  let dn = (gs + 1e-8) / (d * d);
  let dg = -n / (d * d);
  // max(a, 0) passes the gradient at a ≥ 0 (PyTorch clamp convention)
  let through = select(0.0, 1.0, a >= 0.0);
  return vec3<f32>(through * dn * s * n / x, dn * n * log(x) + dg * gs * log(g), dg * s * gs / g);
}

@compute @workgroup_size(64)
fn media_forward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let r = linear_index(wid, nwg, lid, 64u);
  let T = u.weeks;
  let C = u.channels;
  if (r >= u.regions) { return; }
  var st: array<f32, MAXC>;
  var h: array<f32, MAXC>;
  if (u.a0 > 0u) {
    for (var c = 0u; c < C; c++) { st[c] = mstate[r * C + c]; }
  }
  for (var t = u.a0; t < u.a1; t++) {
    let base = (r * T + t) * C;
    for (var c = 0u; c < C; c++) {
      let xv = mx[base + c];
      st[c] = adstock_step(t, c, xv, st[c]);
      h[c] = hill(st[c], slope_of(c), half_of(c));
    }
    for (var j = 0u; j < C; j++) {
      var p = 0.0;
      for (var i = 0u; i < C; i++) {
        p += edge_sigmoid(i, j) * mask_of(i, j) * h[i];
      }
      let m = sigmoid_safe(mmix[j]);
      mout[base + j] = (1.0 - m) * h[j] + m * p;
    }
  }
  if (u.a1 < T) {
    for (var c = 0u; c < C; c++) { mstate[r * C + c] = st[c]; }
  }
}

@compute @workgroup_size(64)
fn media_backward(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let r = linear_index(wid, nwg, lid, 64u);
  let R = u.regions;
  let T = u.weeks;
  let C = u.channels;
  if (r >= R) { return; }
  let P = 4u * C + C * C;
  let pbase = R * T * C + r * P;
  let tau = u.temperature;
  // weeks whose adstock this dispatch recomputes, and weeks it runs in reverse
  let a0 = u.a0;
  let a1 = u.a1;
  let b0 = u.b0;
  let b1 = u.b1;

  // Pass 1: the adstock of weeks a0 .. a1 − 1, parked in dx's slots (overwritten in reverse).
  recompute_adstock(r, a0, a1);
  if (b1 <= b0) { return; }

  // Pass 2: reverse time over weeks b1 − 1 down to b0.
  var st: array<f32, MAXC>;
  var h: array<f32, MAXC>;
  var q: array<f32, MAXC>;
  var carry: array<f32, MAXC>;
  var gal: array<f32, MAXC>;
  var gs: array<f32, MAXC>;
  var gg: array<f32, MAXC>;
  var gm: array<f32, MAXC>;
  resume_reverse(r, pbase, b1, &carry, &gal, &gs, &gg, &gm);
  for (var tt = b0; tt < b1; tt++) {
    let t = b1 - 1u - (tt - b0);
    let base = (r * T + t) * C;
    for (var c = 0u; c < C; c++) {
      st[c] = mwork[base + c];
      h[c] = hill(st[c], slope_of(c), half_of(c));
    }
    // x̃_j = (1 − m_j)·h_j + m_j·p_j: gradients to m_j and, via q_j = m_j·dy_j, to A and h
    for (var j = 0u; j < C; j++) {
      var p = 0.0;
      for (var i = 0u; i < C; i++) {
        p += edge_sigmoid(i, j) * mask_of(i, j) * h[i];
      }
      let dy = mdy[base + j];
      gm[j] += dy * (p - h[j]);
      q[j] = sigmoid_safe(mmix[j]) * dy;
    }
    for (var i = 0u; i < C; i++) {
      var dh = (1.0 - sigmoid_safe(mmix[i])) * mdy[base + i];
      for (var j = 0u; j < C; j++) {
        let mk = mask_of(i, j);
        if (mk != 0.0) {
          let sg = edge_sigmoid(i, j);
          dh += sg * q[j];
          mwork[pbase + 4u * C + i * C + j] += q[j] * h[i] * sg * (1.0 - sg) / tau;
        }
      }
      let hg = hill_grad(st[i], slope_of(i), half_of(i));
      gs[i] += dh * hg.y;
      gg[i] += dh * hg.z;
      let da = dh * hg.x + carry[i];
      if (t == 0u) {
        mwork[base + i] = da; // a_0 = x_0: no clamp
      } else {
        let prev = mwork[base - C + i];
        let al = alpha_of(i);
        let s = mx[base + i] + al * prev;
        if (s >= 0.0 && s <= ADSTOCK_STATE_MAX) {
          mwork[base + i] = da;
          gal[i] += prev * da;
          carry[i] = al * da;
        } else {
          mwork[base + i] = 0.0;
          carry[i] = 0.0;
        }
      }
    }
  }

  store_partials(pbase, b0, &gal, &gs, &gg, &gm);
}

// The adstock of weeks a0 .. a1 − 1 of region r into dx's slots of the work buffer, resuming from
// week a0 − 1 parked there by an earlier dispatch.
fn recompute_adstock(r: u32, a0: u32, a1: u32) {
  let T = u.weeks;
  let C = u.channels;
  var st: array<f32, MAXC>;
  if (a0 > 0u && a1 > a0) {
    for (var c = 0u; c < C; c++) { st[c] = mwork[(r * T + a0 - 1u) * C + c]; }
  }
  for (var t = a0; t < a1; t++) {
    let base = (r * T + t) * C;
    for (var c = 0u; c < C; c++) {
      let xv = mx[base + c];
      st[c] = adstock_step(t, c, xv, st[c]);
      mwork[base + c] = st[c];
    }
  }
}

// The reverse pass's state before week b1 − 1: zeros at the last week (and the DAG partials
// zeroed); after an earlier dispatch (b1 < T) the partial sums from the region's slots and the
// carried adjoint α·dx at week b1 (dx = da there when the clamp was inactive, else 0: both give
// the carry).
fn resume_reverse(r: u32, pbase: u32, b1: u32, carry: ptr<function, array<f32, MAXC>>,
                  gal: ptr<function, array<f32, MAXC>>, gs: ptr<function, array<f32, MAXC>>,
                  gg: ptr<function, array<f32, MAXC>>, gm: ptr<function, array<f32, MAXC>>) {
  let T = u.weeks;
  let C = u.channels;
  if (b1 == T) {
    for (var k = 0u; k < C * C; k++) { mwork[pbase + 4u * C + k] = 0.0; }
  }
  for (var c = 0u; c < C; c++) {
    if (b1 == T) {
      (*carry)[c] = 0.0; (*gal)[c] = 0.0; (*gs)[c] = 0.0; (*gg)[c] = 0.0; (*gm)[c] = 0.0;
    } else {
      (*carry)[c] = alpha_of(c) * mwork[(r * T + b1) * C + c];
      (*gal)[c] = mwork[pbase + c];
      (*gs)[c] = mwork[pbase + C + c];
      (*gg)[c] = mwork[pbase + 2u * C + c];
      (*gm)[c] = mwork[pbase + 3u * C + c];
    }
  }
}

// Per-region partials: raw sums while later dispatches still have weeks to run (b0 > 0), else
// chained through the raw parameterisations.
fn store_partials(pbase: u32, b0: u32, gal: ptr<function, array<f32, MAXC>>,
                  gs: ptr<function, array<f32, MAXC>>, gg: ptr<function, array<f32, MAXC>>,
                  gm: ptr<function, array<f32, MAXC>>) {
  let C = u.channels;
  if (b0 > 0u) {
    for (var c = 0u; c < C; c++) {
      mwork[pbase + c] = (*gal)[c];
      mwork[pbase + C + c] = (*gs)[c];
      mwork[pbase + 2u * C + c] = (*gg)[c];
      mwork[pbase + 3u * C + c] = (*gm)[c];
    }
    return;
  }
  for (var c = 0u; c < C; c++) {
    let sa = sigmoid_safe(malpha[c]);
    let ka = select(0.0, sa * (1.0 - sa), sa <= ADSTOCK_MAX);
    let ssp = softplus_safe(mslope[c]);
    let ks = select(0.0, sigmoid_safe(mslope[c]), ssp >= u.slopeMin && ssp <= SLOPE_MAX);
    let shp = softplus_safe(mhalf[c]);
    let kh = select(0.0, sigmoid_safe(mhalf[c]), shp >= HALF_SAT_MIN && shp <= HALF_SAT_MAX);
    let sm = sigmoid_safe(mmix[c]);
    mwork[pbase + c] = (*gal)[c] * ka;
    mwork[pbase + C + c] = (*gs)[c] * ks;
    mwork[pbase + 2u * C + c] = (*gg)[c] * kh;
    mwork[pbase + 3u * C + c] = (*gm)[c] * sm * (1.0 - sm);
  }
}

@compute @workgroup_size(64)
fn media_reduce(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let i = linear_index(wid, nwg, lid, 64u);
  let R = u.regions;
  let C = u.channels;
  let n = R * u.weeks * C;
  let P = 4u * C + C * C;
  if (i < n) { rdx[i] = rwork[i]; }
  if (i >= P) { return; }
  var acc = 0.0;
  for (var r = 0u; r < R; r++) { acc += rwork[n + r * P + i]; }
  if (i < C) {
    rdalpha[i] = acc;
  } else if (i < 2u * C) {
    rdslope[i - C] = acc;
  } else if (i < 3u * C) {
    rdhalf[i - 2u * C] = acc;
  } else if (i < 4u * C) {
    rdmix[i - 3u * C] = acc;
  } else {
    rddag[i - 4u * C] = acc;
  }
}
