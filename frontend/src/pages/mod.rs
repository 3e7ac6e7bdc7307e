//! One module per page of the studio.

pub mod build;
pub mod builds;
pub mod dataset;
pub mod datasets;
pub mod model;
pub mod prepare;
