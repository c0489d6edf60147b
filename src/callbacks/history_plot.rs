//! `History::plot` (filled in by the plotting work).
