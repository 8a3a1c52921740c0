//! Rows to answers.
