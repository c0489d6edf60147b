//! `plot_model` (filled in by the plotting work).
