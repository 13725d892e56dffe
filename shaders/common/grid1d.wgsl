// The thread index of a 1-D kernel, composed before every such kernel by src/engine/kernels/. WG has no default:
// it is set at pipeline creation from WG in src/engine/pipelines.ts, the number grid1d divides by, so the workgroup
// size and the workgroup counts cannot disagree. Grids past 65535 workgroups spill into y (grid1d), hence
// gid.x + gid.y · num_workgroups.x · WG; threads past the end return.
override WG: u32;

fn thread_index(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// A kernel whose threads do two independent jobs in one dispatch (src/engine/pipelines.ts, grid1dParts): the first
// `first` threads do one, and the other's threads start at the next whole workgroup, so that no workgroup does both.
fn second_part_start(first: u32) -> u32 { return (first + WG - 1u) / WG * WG; }
