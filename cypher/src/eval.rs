//! Expression evaluation.
