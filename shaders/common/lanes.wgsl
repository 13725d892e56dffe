// Stacked lanes (src/engine/kernels/, RowLanes): several models of one shape trained in the same dispatches, their
// rows stacked along the batch, LANE_ROWS rows (B·T positions) each, and each lane's parameters (and gradients)
// LANE_PARAMS floats after the last's. LANE_ROWS = 0: one lane, every row its own. Pipeline constants, so that the
// one-lane kernels compile to what they were. (A divisor that may be such a constant is max(…, 1): a division by a
// constant 0 fails the shader's creation even where a branch guards it.)
override LANE_ROWS: u32 = 0u;
override LANE_PARAMS: u32 = 0u;

/** The lane of row `row`. */
fn lane_of_row(row: u32) -> u32 {
  if (LANE_ROWS == 0u) { return 0u; }
  return row / max(LANE_ROWS, 1u);
}

/** Rows per lane of the n rows. */
fn lane_rows(n: u32) -> u32 {
  if (LANE_ROWS == 0u) { return n; }
  return LANE_ROWS;
}

/** Lanes among the n rows. */
fn lane_count(n: u32) -> u32 { return n / lane_rows(n); }

/** Where lane's parameters start, in elements of `lanes` floats (R_LANES, or 4 for vec4 views). */
fn lane_params(lane: u32, lanes: u32) -> u32 { return lane * (LANE_PARAMS / lanes); }
