// The tiled matmul's hooks (shaders/matmul_tiled.wgsl) for a plain product: nothing to prepare, op(A) staged as
// stored.
fn prepareRows(lid: vec3u, wid: vec3u) {}

fn stageA(m: u32, k: u32, wid: vec3u) -> f32 {
  return loadA(m, k);
}
